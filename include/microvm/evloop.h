/*
 * The VMM thread's event loop: one epoll set over its signals (a signalfd), the end of
 * the VM (vm_exit's eventfd), console input while the guest's UART has room for it, the
 * deadline of a graceful stop (a timerfd), the console's timer for a line left open, and
 * the descriptors its owner watches: the mailboxes other threads post calls to (the API
 * thread; vm_command), the metrics timer.
 */
#ifndef MICROVM_EVLOOP_H
#define MICROVM_EVLOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/console.h"
#include "microvm/vm_exit.h"

/* What another thread can ask of a running VM. */
enum vm_command {
	VM_COMMAND_PAUSE,   /* every vCPU out of KVM_RUN and parked: its state stays readable */
	VM_COMMAND_RESUME,
	VM_COMMAND_SHUTDOWN, /* the ACPI power button: the guest powers off, or is stopped later */
};

#define EVLOOP_WATCHES_MAX 4

/* A descriptor the loop watches for input, and what to do when it is readable. */
struct evloop_watch {
	int fd;
	void (*ready)(void *ctx);
	void *ctx;
};

/* Where console input goes (COM1's receive FIFO); called on the loop's thread. */
struct evloop_input {
	size_t (*room)(void *ctx);
	void (*push)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
};

struct evloop {
	int epfd, sfd, room_efd, deadline_fd;
	unsigned int deadline_s;   /* what evloop_stop_after armed, for its message */
	struct vm_exit *exit;
	struct console *console;
	struct evloop_input input;
	bool input_held;           /* the vCPUs are paused: input waits in stdin */
	bool stdin_pollable, stdin_armed;
	struct evloop_watch watches[EVLOOP_WATCHES_MAX];
	unsigned int nr_watches;
	/* What SIGPWR asks for, on the loop's thread: the VM's graceful stop. */
	void (*power_signal)(void *ctx);
	void *power_signal_ctx;
};

/*
 * The signals the loop reads, blocked in every thread: SIGTERM, SIGINT and SIGHUP stop
 * the VM; SIGPWR runs what evloop_on_power_signal gave.
 */
void evloop_stop_signals(sigset_t *set);
/* The room eventfd and the deadline's timerfd. */
MUST_CHECK int evloop_init(struct evloop *l, struct vm_exit *exit);
/* Before evloop_open: what SIGPWR runs on the loop's thread (without it, SIGPWR is ignored). */
void evloop_on_power_signal(struct evloop *l, void (*fn)(void *ctx), void *ctx);
/* Before evloop_open: watch w->fd too (at most EVLOOP_WATCHES_MAX); -ENOSPC when full. */
MUST_CHECK int evloop_watch(struct evloop *l, const struct evloop_watch *w);
/* The signalfd and the epoll set, before the sandbox, with the stop signals blocked. */
MUST_CHECK int evloop_open(struct evloop *l, struct console *console,
			   const struct evloop_input *input);
/* Serves events and commands until the VM is to end: 0, or -errno if epoll failed. */
MUST_CHECK int evloop_run(struct evloop *l);
/* The loop thread: stops the VM (as SIGTERM does) in seconds, unless it ends first. */
MUST_CHECK int evloop_stop_after(struct evloop *l, unsigned int seconds);
/* The loop thread: while held, no console input reaches the guest. */
void evloop_hold_input(struct evloop *l, bool held);
/* Any thread: the guest can take console input again. */
void evloop_input_room(struct evloop *l);
void evloop_destroy(struct evloop *l);

#endif
