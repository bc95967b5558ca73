#include "microvm/console.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "microvm/clock.h"
#include "microvm/log.h"

/* Process-wide because atexit handlers take no argument: one terminal per process. */
static struct termios console_saved;
static int console_saved_fd = -1;
static bool console_atexit_registered;

void console_restore_terminal(void)
{
	if (console_saved_fd >= 0) {
		tcsetattr(console_saved_fd, TCSANOW, &console_saved);
		console_saved_fd = -1;
	}
}

static int console_make_raw(int fd)
{
	struct termios raw;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &console_saved) < 0)
		return -errno;
	if (!console_atexit_registered) {
		if (atexit(console_restore_terminal))
			return -ENOMEM;
		console_atexit_registered = true;
	}
	raw = console_saved;
	/* Keys go to the guest as typed (Ctrl-C included); output processing stays as it was. */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
	raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON | INLCR | IGNCR);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	console_saved_fd = fd;
	if (tcsetattr(fd, TCSANOW, &raw) < 0) {
		int ret = -errno;

		console_saved_fd = -1;
		return ret;
	}
	return 0;
}

int console_open(struct console *c, int in_fd, int out_fd)
{
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->in_eof = false;
	atomic_init(&c->stopping, false);
	atomic_init(&c->out_broken, false);
	c->out_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	c->flush_armed = false;
	c->last_out_ns = 0;
	c->out_len = 0;
	/* Made now, before any filter: the vCPUs arm it with timerfd_settime only. */
	c->flush_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->flush_fd < 0)
		return -errno;
	/* A background job reading its terminal would be stopped by SIGTTIN: no input then. */
	if (isatty(in_fd) && tcgetpgrp(in_fd) != getpgrp()) {
		c->in_eof = true;
		return 0;
	}
	return console_make_raw(in_fd);
}

static bool console_arm(struct console *c)
{
	struct itimerspec due = { .it_value = { .tv_nsec = CONSOLE_FLUSH_MS * 1000000L } };

	if (timerfd_settime(c->flush_fd, 0, &due, NULL) == 0)
		return true;
	log_debug("console flush timer: %s", strerror(errno));
	return false;
}

/* Arms flush_fd for an open line; out_lock held. */
static void console_arm_locked(struct console *c)
{
	if (!c->flush_armed)
		c->flush_armed = console_arm(c);
}

/*
 * Writes the open line if stdout takes it without blocking (a pipe or terminal that
 * polls writable; a file always does); otherwise keeps it. out_lock held.
 */
static void console_write_nowait_locked(struct console *c)
{
	struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
	ssize_t n;

	if (atomic_load(&c->out_broken)) {
		c->out_len = 0;
		return;
	}
	if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
		return;
	/* At most PIPE_BUF bytes: a pipe that polls writable takes them whole. */
	n = write(c->out_fd, c->out, c->out_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (!atomic_exchange(&c->out_broken, true))
			log_warn("console output failed (%s); dropping further guest output",
				 n < 0 ? strerror(errno) : "no progress");
		c->out_len = 0;
		return;
	}
	memmove(c->out, c->out + n, c->out_len - (size_t)n);
	c->out_len -= (size_t)n;
}

void console_close(struct console *c)
{
	if (c->flush_fd >= 0) {
		/* The vCPUs are gone: nothing else holds out_lock. */
		pthread_mutex_lock(&c->out_lock);
		if (c->out_len)
			console_write_nowait_locked(c);
		c->out_len = 0;
		pthread_mutex_unlock(&c->out_lock);
		close(c->flush_fd);
		c->flush_fd = -1;
	}
	console_restore_terminal();
}

/*
 * Nothing went out for CONSOLE_FLUSH_MS (the guest's first output, a key's echo): the
 * byte just held goes at once. In a stream of lines each waits for its end.
 */
static bool console_quiet(const struct console *c)
{
	return c->out_len == 1 && clock_monotonic_ns() - c->last_out_ns >= CONSOLE_FLUSH_MS * 1000000ull;
}

void console_put(struct console *c, uint8_t byte)
{
	pthread_mutex_lock(&c->out_lock);
	if (c->out_len == sizeof(c->out))
		c->out_len = 0; /* a stopping VM's stdout took no more: drop the rest */
	c->out[c->out_len++] = byte;
	if (atomic_load(&c->stopping)) {
		/*
		 * The stop's kick may have come while this vCPU waited for the lock: a write
		 * that blocked now would never end. The bytes wait for console_close, which
		 * writes what stdout takes at once (the vCPU's filter has no poll).
		 */
	} else if (byte == '\n' || c->out_len == sizeof(c->out) || console_quiet(c)) {
		console_write(c, c->out, c->out_len);
		c->out_len = 0;
		c->last_out_ns = clock_monotonic_ns();
	} else {
		console_arm_locked(c);
	}
	pthread_mutex_unlock(&c->out_lock);
}

void console_flush_due(struct console *c)
{
	uint64_t expirations;

	if (read(c->flush_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_debug("console flush timer: %s", strerror(errno));
	/*
	 * A vCPU holding the lock is writing, maybe blocked on stdout: this thread must not
	 * wait. flush_armed stays set, and is true again: the timer is armed anew.
	 */
	if (pthread_mutex_trylock(&c->out_lock)) {
		(void)console_arm(c);
		return;
	}
	c->flush_armed = false;
	if (c->out_len)
		console_write_nowait_locked(c);
	if (c->out_len)
		console_arm_locked(c);
	pthread_mutex_unlock(&c->out_lock);
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	while (len && !atomic_load(&c->out_broken)) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR) {
			if (atomic_load(&c->stopping))
				return;
			continue;
		}
		if (n <= 0) {
			/* A closed pipe or a full disk: the guest keeps running without a console. */
			if (!atomic_exchange(&c->out_broken, true))
				log_warn("console output failed (%s); dropping further guest output",
					 n < 0 ? strerror(errno) : "no progress");
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

ssize_t console_read(struct console *c, uint8_t *buf, size_t len)
{
	ssize_t n = read(c->in_fd, buf, len);

	if (n > 0)
		return n;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -errno;
	/* EOF, or an error such as a hung-up terminal: input is over either way. */
	if (n < 0)
		log_debug("console input ended: %s", strerror(errno));
	c->in_eof = true;
	return 0;
}
