#include "microvm/mailbox.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/log.h"

/* A posted call, on its poster's stack until done. */
struct mailbox_call {
	int (*fn)(void *ctx, void *arg);
	void *ctx, *arg;
	int result;
	bool done;
	struct mailbox_call *next;
};

int mailbox_init(struct mailbox *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->done, NULL);
	m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return m->efd < 0 ? -errno : 0;
}

int mailbox_call(struct mailbox *m, int (*fn)(void *ctx, void *arg), void *ctx, void *arg)
{
	struct mailbox_call c = { .fn = fn, .ctx = ctx, .arg = arg }, **tail;
	uint64_t one = 1;

	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		pthread_mutex_unlock(&m->lock);
		return -ESHUTDOWN;
	}
	for (tail = &m->queue; *tail; tail = &(*tail)->next)
		;
	*tail = &c;
	pthread_mutex_unlock(&m->lock);
	/* An eventfd write of 1 cannot block or fail short of a counter overflow. */
	if (write(m->efd, &one, sizeof(one)) < 0)
		log_debug("mailbox event: %s", strerror(errno));
	pthread_mutex_lock(&m->lock);
	while (!c.done)
		pthread_cond_wait(&m->done, &m->lock);
	pthread_mutex_unlock(&m->lock);
	return c.result;
}

void mailbox_serve(struct mailbox *m)
{
	struct mailbox_call *c;
	uint64_t v;

	if (read(m->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("mailbox read: %s", strerror(errno));
	pthread_mutex_lock(&m->lock);
	while ((c = m->queue)) {
		int result;

		m->queue = c->next;
		pthread_mutex_unlock(&m->lock);
		result = c->fn(c->ctx, c->arg);
		pthread_mutex_lock(&m->lock);
		c->result = result;
		c->done = true;
		pthread_cond_broadcast(&m->done);
	}
	pthread_mutex_unlock(&m->lock);
}

void mailbox_close(struct mailbox *m)
{
	pthread_mutex_lock(&m->lock);
	m->closed = true;
	for (struct mailbox_call *c = m->queue, *next; c; c = next) {
		next = c->next; /* c is its poster's once done */
		c->result = -ESHUTDOWN;
		c->done = true;
	}
	m->queue = NULL;
	pthread_cond_broadcast(&m->done);
	pthread_mutex_unlock(&m->lock);
}

void mailbox_destroy(struct mailbox *m)
{
	if (m->efd >= 0)
		close(m->efd);
	m->efd = -1;
	pthread_cond_destroy(&m->done);
	pthread_mutex_destroy(&m->lock);
}
