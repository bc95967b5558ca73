#include "microvm/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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
	/* A background job reading its terminal would be stopped by SIGTTIN: no input then. */
	if (isatty(in_fd) && tcgetpgrp(in_fd) != getpgrp()) {
		c->in_eof = true;
		return 0;
	}
	return console_make_raw(in_fd);
}

void console_close(struct console *c)
{
	(void)c;
	console_restore_terminal();
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
