/*
 * The VMM thread's event loop: one epoll set over its signals (a signalfd), the end of
 * the VM (vm_exit's eventfd), console input while the guest's UART has room for it,
 * the deadline of a graceful stop (a timerfd), and commands that other threads post
 * (the API thread; the lifecycle test): an eventfd wakes the loop, which runs each
 * queued command on its own thread, in order, and hands the result back to the
 * waiting poster.
 */
#ifndef MICROVM_EVLOOP_H
#define MICROVM_EVLOOP_H

#include <pthread.h>
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

/* Where console input goes (COM1's receive FIFO); called on the loop's thread. */
struct evloop_input {
	size_t (*room)(void *ctx);
	void (*push)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
};

struct evloop_cmd;

struct evloop {
	int epfd, sfd, room_efd, cmd_efd, deadline_fd;
	unsigned int deadline_s;   /* what evloop_stop_after armed, for its message */
	struct vm_exit *exit;
	struct console *console;
	struct evloop_input input;
	bool input_held;           /* the vCPUs are paused: input waits in stdin */
	bool stdin_pollable, stdin_armed;
	/* Runs a posted command on the loop's thread; its result goes to the poster. */
	int (*command)(void *ctx, enum vm_command cmd);
	void *command_ctx;
	pthread_mutex_t lock;      /* the mailbox: */
	pthread_cond_t done;
	struct evloop_cmd *queue;  /* oldest first */
	bool closed;               /* the loop has ended: posts fail */
};

/*
 * The signals the loop reads, blocked in every thread: SIGTERM, SIGINT and SIGHUP stop
 * the VM; SIGPWR runs VM_COMMAND_SHUTDOWN.
 */
void evloop_stop_signals(sigset_t *set);
/* The eventfds and the mailbox: commands may be posted from here on (they wait for the loop). */
MUST_CHECK int evloop_init(struct evloop *l, struct vm_exit *exit,
			   int (*command)(void *ctx, enum vm_command cmd), void *ctx);
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
/*
 * Another thread: runs cmd on the loop's thread and returns its result, or -ESHUTDOWN
 * once the loop has ended. The loop must not be destroyed while a post waits.
 */
MUST_CHECK int evloop_post(struct evloop *l, enum vm_command cmd);
/* The loop has ended: waiting and later posts get -ESHUTDOWN. */
void evloop_close(struct evloop *l);
void evloop_destroy(struct evloop *l);

#endif
