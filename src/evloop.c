#include "microvm/evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "microvm/log.h"

/* A posted command, on its poster's stack until done. */
struct evloop_cmd {
	enum vm_command cmd;
	int result;
	bool done;
	struct evloop_cmd *next;
};

/* What epoll reports, by event tag. */
enum { EVLOOP_SIGNAL, EVLOOP_EXIT, EVLOOP_ROOM, EVLOOP_STDIN, EVLOOP_COMMAND, EVLOOP_DEADLINE };

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

int evloop_init(struct evloop *l, struct vm_exit *exit,
		int (*command)(void *ctx, enum vm_command cmd), void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->epfd = l->sfd = l->room_efd = l->cmd_efd = l->deadline_fd = -1;
	l->exit = exit;
	l->command = command;
	l->command_ctx = ctx;
	l->stdin_pollable = true;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done, NULL);
	l->room_efd = eventfd(0, EFD_CLOEXEC);
	if (l->room_efd < 0)
		return -errno;
	l->cmd_efd = eventfd(0, EFD_CLOEXEC);
	if (l->cmd_efd < 0)
		return -errno;
	/* Made now, before any filter: arming it later needs only timerfd_settime. */
	l->deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	return l->deadline_fd < 0 ? -errno : 0;
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
		ret = evloop_add(l, l->cmd_efd, EPOLLIN, EVLOOP_COMMAND);
	if (!ret)
		ret = evloop_add(l, l->deadline_fd, EPOLLIN, EVLOOP_DEADLINE);
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
		int ret;

		log_info("received %s: asking the guest to power off", strsignal((int)si.ssi_signo));
		ret = l->command(l->command_ctx, VM_COMMAND_SHUTDOWN);
		if (ret)
			log_warn("cannot ask the guest to power off: %s", strerror(-ret));
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

/* Runs the queued commands, oldest first, each outside the lock. */
static void evloop_commands(struct evloop *l)
{
	struct evloop_cmd *c;

	evloop_drain(l->cmd_efd);
	pthread_mutex_lock(&l->lock);
	while ((c = l->queue)) {
		int result;

		l->queue = c->next;
		pthread_mutex_unlock(&l->lock);
		result = l->command(l->command_ctx, c->cmd);
		pthread_mutex_lock(&l->lock);
		c->result = result;
		c->done = true;
		pthread_cond_broadcast(&l->done);
	}
	pthread_mutex_unlock(&l->lock);
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
		case EVLOOP_COMMAND:
			evloop_commands(l);
			break;
		case EVLOOP_DEADLINE:
			evloop_deadline(l);
			break;
		default:
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

int evloop_post(struct evloop *l, enum vm_command cmd)
{
	struct evloop_cmd c = { .cmd = cmd }, **tail;
	uint64_t one = 1;

	pthread_mutex_lock(&l->lock);
	if (l->closed) {
		pthread_mutex_unlock(&l->lock);
		return -ESHUTDOWN;
	}
	for (tail = &l->queue; *tail; tail = &(*tail)->next)
		;
	*tail = &c;
	pthread_mutex_unlock(&l->lock);
	/* An eventfd write of 1 cannot block or fail short of a counter overflow. */
	if (write(l->cmd_efd, &one, sizeof(one)) < 0)
		log_debug("command event: %s", strerror(errno));
	pthread_mutex_lock(&l->lock);
	while (!c.done)
		pthread_cond_wait(&l->done, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return c.result;
}

void evloop_close(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	l->closed = true;
	for (struct evloop_cmd *c = l->queue, *next; c; c = next) {
		next = c->next; /* c is its poster's once done */
		c->result = -ESHUTDOWN;
		c->done = true;
	}
	l->queue = NULL;
	pthread_cond_broadcast(&l->done);
	pthread_mutex_unlock(&l->lock);
}

void evloop_destroy(struct evloop *l)
{
	int *fds[] = { &l->epfd, &l->sfd, &l->room_efd, &l->cmd_efd, &l->deadline_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	pthread_cond_destroy(&l->done);
	pthread_mutex_destroy(&l->lock);
}
