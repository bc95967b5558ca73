/*
 * Calls from other threads into the thread that owns the VM (the VMM thread): a
 * poster queues a function and its argument, an eventfd wakes the owner, which runs
 * each call in order on its own thread and hands the result back to the waiting
 * poster. The API thread posts through one; so do vm_command's callers.
 */
#ifndef MICROVM_MAILBOX_H
#define MICROVM_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

#include "microvm/compiler.h"

struct mailbox_call;

struct mailbox {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct mailbox_call *queue;  /* oldest first */
	bool closed;                 /* the owner serves no more: posts fail */
	int efd;                     /* readable while calls wait */
};

MUST_CHECK int mailbox_init(struct mailbox *m);
/*
 * Another thread: runs fn(ctx, arg) on the owner's thread and returns its result, or
 * -ESHUTDOWN once the mailbox is closed. The mailbox must outlive the wait.
 */
MUST_CHECK int mailbox_call(struct mailbox *m, int (*fn)(void *ctx, void *arg), void *ctx,
			    void *arg);
/* The owner, when efd is readable: runs the queued calls, oldest first. */
void mailbox_serve(struct mailbox *m);
/* The owner serves no more: waiting and later calls get -ESHUTDOWN. */
void mailbox_close(struct mailbox *m);
void mailbox_destroy(struct mailbox *m);

#endif
