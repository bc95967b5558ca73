/*
 * The device I/O thread: one epoll loop for the host side of the devices that must
 * react to the host (a tap device with frames for the guest, vsock sockets), and to
 * queue notifications the vCPU threads pass on through eventfds. It installs the
 * "io" seccomp filter before it waits for anything; every descriptor it serves was
 * opened before it started (vsock's connections aside, made by its own accept4 and
 * connect on AF_UNIX).
 */
#ifndef MICROVM_IOTHREAD_H
#define MICROVM_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "microvm/compiler.h"
#include "microvm/sandbox.h"

/* What to call when a watched descriptor is ready (epoll events). */
struct io_handler {
	void (*ready)(void *ctx, uint32_t events);
	void *ctx;
};

struct iothread {
	int epfd;
	int stop_efd;
	int hold_efd;              /* iothread_hold's request */
	pthread_t thread;
	bool started;
	/* iothread_hold: the thread waits, out of every handler, while hold is set. */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	bool hold, held, exited;
	struct io_handler hold_handler;
	const struct sandbox *sandbox;
	/* Called on the thread when it cannot go on (its filter, epoll): the VM must end. */
	void (*failed)(void *ctx);
	void *failed_ctx;
};

MUST_CHECK int iothread_init(struct iothread *t);
/* Watches fd; h must stay valid until fd is closed. Callable from the thread's handlers. */
MUST_CHECK int iothread_watch(struct iothread *t, int fd, uint32_t events, struct io_handler *h);
MUST_CHECK int iothread_start(struct iothread *t, const struct sandbox *sb,
			       void (*failed)(void *ctx), void *ctx);
/*
 * One round of the loop: waits up to timeout_ms (-1: for ever) and calls the handlers
 * of what is ready. 1 once stopped, 0 otherwise, -errno if epoll fails. The thread
 * runs it; unit tests call it instead of starting the thread.
 */
MUST_CHECK int iothread_poll(struct iothread *t, int timeout_ms);
/*
 * Another thread: the I/O thread finishes what it is doing and waits, serving nothing,
 * until iothread_release (a snapshot needs the devices still). Returns at once when
 * the thread does not run.
 */
void iothread_hold(struct iothread *t);
void iothread_release(struct iothread *t);
/* Stops and joins the thread (if it runs) and closes its descriptors. */
void iothread_destroy(struct iothread *t);

#endif
