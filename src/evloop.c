#include "microvm/evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "microvm/log.h"

/* What epoll reports, by event tag. */
enum { EVLOOP_SIGNAL, EVLOOP_EXIT, EVLOOP_ROOM, EVLOOP_STDIN, EVLOOP_DEADLINE, EVLOOP_FLUSH,
       EVLOOP_WATCH };

#define EVLOOP_EVENTS 8
#define EVLOOP_INPUT_CHUNK 16 /* bytes per read: what the UART's FIFO holds */

void evloop_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGPWR);
}

int evloop_init(struct evloop *l, struct vm_exit *exit)
{
	memset(l, 0, sizeof(*l));
	l->epfd = l->sfd = l->room_efd = l->deadline_fd = -1;
	l->exit = exit;
	l->stdin_pollable = true;
	l->room_efd = eventfd(0, EFD_CLOEXEC);
	if (l->room_efd < 0)
		return -errno;
	/* Made now, before any filter: arming it later needs only timerfd_settime. */
	l->deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	return l->deadline_fd < 0 ? -errno : 0;
}

void evloop_on_power_signal(struct evloop *l, void (*fn)(void *ctx), void *ctx)
{
	l->power_signal = fn;
	l->power_signal_ctx = ctx;
}

int evloop_watch(struct evloop *l, const struct evloop_watch *w)
{
	if (l->nr_watches == EVLOOP_WATCHES_MAX)
		return -ENOSPC;
	l->watches[l->nr_watches++] = *w;
	return 0;
}

static int evloop_add(struct evloop *l, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int evloop_open(struct evloop *l, struct console *console, const struct evloop_input *input)
{
	sigset_t stop;
	int ret;

	l->console = console;
	l->input = *input;
	evloop_stop_signals(&stop);
	l->sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (l->sfd < 0)
		return -errno;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	ret = evloop_add(l, l->sfd, EPOLLIN, EVLOOP_SIGNAL);
	if (!ret)
		ret = evloop_add(l, l->exit->efd, EPOLLIN, EVLOOP_EXIT);
	if (!ret)
		ret = evloop_add(l, l->room_efd, EPOLLIN, EVLOOP_ROOM);
	if (!ret)
		ret = evloop_add(l, l->deadline_fd, EPOLLIN, EVLOOP_DEADLINE);
	if (!ret)
		ret = evloop_add(l, console->flush_fd, EPOLLIN, EVLOOP_FLUSH);
	for (unsigned int i = 0; !ret && i < l->nr_watches; i++)
		ret = evloop_add(l, l->watches[i].fd, EPOLLIN, EVLOOP_WATCH + i);
	return ret;
}

static void evloop_drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0)
		log_debug("eventfd read: %s", strerror(errno));
}

static void evloop_signal(struct evloop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGPWR) {
		log_info("received %s: asking the guest to power off", strsignal((int)si.ssi_signo));
		if (l->power_signal)
			l->power_signal(l->power_signal_ctx);
		return;
	}
	log_info("received %s: stopping the VM", strsignal((int)si.ssi_signo));
	vm_exit_request(l->exit, VM_STATUS_OK);
}

int evloop_stop_after(struct evloop *l, unsigned int seconds)
{
	struct itimerspec when = { .it_value = { .tv_sec = seconds } };

	if (timerfd_settime(l->deadline_fd, 0, &when, NULL) < 0)
		return -errno;
	l->deadline_s = seconds;
	return 0;
}

static void evloop_deadline(struct evloop *l)
{
	evloop_drain(l->deadline_fd);
	log_info("the guest did not power off within %u s: stopping the VM", l->deadline_s);
	vm_exit_request(l->exit, VM_STATUS_OK);
}

/* Moves as much console input into the guest as it takes. */
static void evloop_pump_input(struct evloop *l)
{
	uint8_t buf[EVLOOP_INPUT_CHUNK];
	size_t room = l->input.room(l->input.ctx);
	ssize_t n;

	if (room == 0 || l->console->in_eof)
		return;
	n = console_read(l->console, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0)
		l->input.push(l->input.ctx, buf, (size_t)n);
}

/*
 * stdin is watched only while the guest takes input; it is removed rather than masked,
 * since epoll reports a hang-up even for a masked descriptor.
 */
static int evloop_arm_stdin(struct evloop *l, bool want_input)
{
	int ret = 0;

	if (!l->stdin_pollable || want_input == l->stdin_armed)
		return 0;
	if (want_input) {
		ret = evloop_add(l, l->console->in_fd, EPOLLIN, EVLOOP_STDIN);
		/* Regular files and /dev/null cannot be polled: they are always readable. */
		if (ret == -EPERM) {
			l->stdin_pollable = false;
			ret = 0;
		}
	} else if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->console->in_fd, NULL) < 0) {
		ret = -errno;
	}
	l->stdin_armed = want_input && l->stdin_pollable;
	return ret;
}

/* One wait for events, and what they ask for. */
static int evloop_round(struct evloop *l)
{
	bool want_input = !l->input_held && !l->console->in_eof && l->input.room(l->input.ctx) > 0;
	bool poll_stdin = want_input && !l->stdin_pollable;
	struct epoll_event events[EVLOOP_EVENTS];
	int n, ret = evloop_arm_stdin(l, want_input);

	if (ret)
		return ret;
	n = epoll_wait(l->epfd, events, EVLOOP_EVENTS, poll_stdin ? 0 : -1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		switch (events[i].data.u64) {
		case EVLOOP_SIGNAL:
			evloop_signal(l);
			break;
		case EVLOOP_ROOM:
			evloop_drain(l->room_efd);
			break;
		case EVLOOP_STDIN:
			evloop_pump_input(l);
			break;
		case EVLOOP_DEADLINE:
			evloop_deadline(l);
			break;
		case EVLOOP_FLUSH:
			console_flush_due(l->console);
			break;
		default:
			if (events[i].data.u64 - EVLOOP_WATCH < l->nr_watches) {
				const struct evloop_watch *w = &l->watches[events[i].data.u64 - EVLOOP_WATCH];

				w->ready(w->ctx);
			}
			break;
		}
	}
	if (poll_stdin)
		evloop_pump_input(l);
	return 0;
}

int evloop_run(struct evloop *l)
{
	int ret = 0;

	while (!ret && !vm_exit_requested(l->exit))
		ret = evloop_round(l);
	return ret;
}

void evloop_hold_input(struct evloop *l, bool held)
{
	l->input_held = held;
}

void evloop_input_room(struct evloop *l)
{
	uint64_t one = 1;

	if (write(l->room_efd, &one, sizeof(one)) < 0)
		log_debug("rx event: %s", strerror(errno));
}

void evloop_destroy(struct evloop *l)
{
	int *fds[] = { &l->epfd, &l->sfd, &l->room_efd, &l->deadline_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
