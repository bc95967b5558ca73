#include "microvm/iothread.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/log.h"
#include "microvm/sandbox.h"

#define IOTHREAD_EVENTS 16

int iothread_init(struct iothread *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	memset(t, 0, sizeof(*t));
	t->stop_efd = -1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	t->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_efd < 0)
		return -errno;
	/* The stop event is the one without a handler. */
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_efd, &ev) < 0 ? -errno : 0;
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

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;
	struct diag d;
	int ret;

	if (sandbox_enter(t->sandbox, "io", &d)) {
		log_error("I/O thread: %s", d.msg);
		t->failed(t->failed_ctx);
		return NULL;
	}
	while ((ret = iothread_poll(t, -1)) == 0)
		;
	if (ret < 0) {
		log_error("I/O thread: epoll_wait: %s", strerror(-ret));
		t->failed(t->failed_ctx);
	}
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
	if (t->epfd >= 0)
		close(t->epfd);
	t->stop_efd = t->epfd = -1;
}
