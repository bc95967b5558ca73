/*
 * The VMM's terminal: the guest's serial console writes to stdout and reads stdin.
 * A terminal on stdin goes to raw mode for the VM's lifetime and is restored on every
 * way out: console_close, exit() (atexit), and the VMM's signal path.
 */
#ifndef MICROVM_CONSOLE_H
#define MICROVM_CONSOLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "microvm/compiler.h"

struct console {
	int in_fd, out_fd;
	bool in_eof;            /* stdin ended or failed: no more input */
	atomic_bool stopping;   /* set when the VM ends: a write blocked on a full pipe gives up */
	atomic_bool out_broken; /* stdout failed once: drop output and stay quiet */
};

/* Takes over in_fd/out_fd; puts a foreground terminal on in_fd in raw mode. */
MUST_CHECK int console_open(struct console *c, int in_fd, int out_fd);
/* Restores the terminal; idempotent. */
void console_close(struct console *c);
/* Writes all of buf, retrying partial writes and EINTR until stopping. */
void console_write(struct console *c, const uint8_t *buf, size_t len);
/* One read of at most len bytes; 0 at EOF (then in_eof is set); -errno on a transient error. */
MUST_CHECK ssize_t console_read(struct console *c, uint8_t *buf, size_t len);
/* Restores a terminal left in raw mode; async-signal-safe. */
void console_restore_terminal(void);

#endif
