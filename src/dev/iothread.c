#include "microvm/iothread.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/log.h"
#include "microvm/sandbox.h"

#define IOTHREAD_EVENTS 16

/* On the thread, between handlers: tells the holder, then waits for the release. */
static void iothread_held(void *ctx, uint32_t events)
{
	struct iothread *t = ctx;
	uint64_t n;

	(void)events;
	if (read(t->hold_efd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&t->hold_lock);
	t->held = true;
	pthread_cond_broadcast(&t->hold_cond);
	while (t->hold)
		pthread_cond_wait(&t->hold_cond, &t->hold_lock);
	t->held = false;
	pthread_mutex_unlock(&t->hold_lock);
}

int iothread_init(struct iothread *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	memset(t, 0, sizeof(*t));
	t->stop_efd = t->hold_efd = -1;
	pthread_mutex_init(&t->hold_lock, NULL);
	pthread_cond_init(&t->hold_cond, NULL);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	t->stop_efd = eventfd(0, EFD_CLOEXEC);
	t->hold_efd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_efd < 0 || t->hold_efd < 0)
		return -errno;
	t->hold_handler = (struct io_handler){ iothread_held, t };
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->hold_efd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &t->hold_handler }) < 0)
		return -errno;
	/* The stop event is the one without a handler. */
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_efd, &ev) < 0 ? -errno : 0;
}

void iothread_hold(struct iothread *t)
{
	uint64_t one = 1;

	if (!t->started)
		return;
	pthread_mutex_lock(&t->hold_lock);
	t->hold = true;
	pthread_mutex_unlock(&t->hold_lock);
	if (write(t->hold_efd, &one, sizeof(one)) < 0) {
		log_error("I/O thread: cannot hold it: %s", strerror(errno));
		return;
	}
	pthread_mutex_lock(&t->hold_lock);
	while (!t->held && !t->exited)
		pthread_cond_wait(&t->hold_cond, &t->hold_lock);
	pthread_mutex_unlock(&t->hold_lock);
}

void iothread_release(struct iothread *t)
{
	pthread_mutex_lock(&t->hold_lock);
	t->hold = false;
	pthread_cond_broadcast(&t->hold_cond);
	pthread_mutex_unlock(&t->hold_lock);
}

int iothread_watch(struct iothread *t, int fd, uint32_t events, struct io_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int iothread_poll(struct iothread *t, int timeout_ms)
{
	struct epoll_event events[IOTHREAD_EVENTS];
	int n = epoll_wait(t->epfd, events, IOTHREAD_EVENTS, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct io_handler *h = events[i].data.ptr;

		if (!h)
			return 1;
		h->ready(h->ctx, events[i].events);
	}
	return 0;
}

/* A holder waiting for a thread that ended waits no more. */
static void iothread_exited(struct iothread *t)
{
	pthread_mutex_lock(&t->hold_lock);
	t->exited = true;
	pthread_cond_broadcast(&t->hold_cond);
	pthread_mutex_unlock(&t->hold_lock);
}

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;
	struct diag d;
	int ret;

	if (sandbox_enter(t->sandbox, "io", &d)) {
		log_error("I/O thread: %s", d.msg);
		t->failed(t->failed_ctx);
		iothread_exited(t);
		return NULL;
	}
	while ((ret = iothread_poll(t, -1)) == 0)
		;
	if (ret < 0) {
		log_error("I/O thread: epoll_wait: %s", strerror(-ret));
		t->failed(t->failed_ctx);
	}
	iothread_exited(t);
	return NULL;
}

int iothread_start(struct iothread *t, const struct sandbox *sb, void (*failed)(void *ctx),
		   void *ctx)
{
	int ret;

	t->sandbox = sb;
	t->failed = failed;
	t->failed_ctx = ctx;
	ret = pthread_create(&t->thread, NULL, iothread_main, t);

	if (ret)
		return -ret;
	t->started = true;
	return 0;
}

void iothread_destroy(struct iothread *t)
{
	uint64_t one = 1;

	if (t->started) {
		if (write(t->stop_efd, &one, sizeof(one)) < 0)
			log_error("I/O thread: cannot stop it: %s", strerror(errno));
		else
			pthread_join(t->thread, NULL);
		t->started = false;
	}
	if (t->stop_efd >= 0)
		close(t->stop_efd);
	if (t->hold_efd >= 0)
		close(t->hold_efd);
	if (t->epfd >= 0)
		close(t->epfd);
	t->stop_efd = t->hold_efd = t->epfd = -1;
	pthread_cond_destroy(&t->hold_cond);
	pthread_mutex_destroy(&t->hold_lock);
}
