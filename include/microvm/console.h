/*
 * The VMM's terminal: the guest's serial console writes to stdout and reads stdin.
 * A terminal on stdin goes to raw mode for the VM's lifetime and is restored on every
 * way out: console_close, exit() (atexit), and the VMM's signal path.
 *
 * Output is collected a line at a time: one write per byte cost a system call and a
 * wake-up of stdout's reader per character, which made the guest's boot messages
 * most of its kernel's boot time under a nested KVM. A line goes out at its end, and
 * a byte after CONSOLE_FLUSH_MS of quiet at once (the guest's first output, a key's
 * echo, are seen when they come); a line still open goes out CONSOLE_FLUSH_MS after
 * its first byte (the event loop's timer), and at console_close.
 */
#ifndef MICROVM_CONSOLE_H
#define MICROVM_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "microvm/compiler.h"

#define CONSOLE_OUT_SIZE 4096 /* PIPE_BUF: a write of it to a pipe with room never blocks */
#define CONSOLE_FLUSH_MS 10   /* a prompt or an echoed key waits no longer than this */

struct console {
	int in_fd, out_fd;
	int flush_fd;           /* timerfd: an open line is due; the event loop watches it */
	bool in_eof;            /* stdin ended or failed: no more input */
	atomic_bool stopping;   /* set when the VM ends: a write blocked on a full pipe gives up */
	atomic_bool out_broken; /* stdout failed once: drop output and stay quiet */
	pthread_mutex_t out_lock; /* the vCPUs' bytes, in order, and the flush_fd's state */
	bool flush_armed;
	uint64_t last_out_ns;   /* CLOCK_MONOTONIC of the vCPUs' last write */
	size_t out_len;
	uint8_t out[CONSOLE_OUT_SIZE];
};

/*
 * Takes over in_fd/out_fd and makes flush_fd (before any filter); puts a foreground
 * terminal on in_fd in raw mode.
 */
MUST_CHECK int console_open(struct console *c, int in_fd, int out_fd);
/* Writes what an open line holds if stdout takes it now; restores the terminal; idempotent. */
void console_close(struct console *c);
/* Writes all of buf, retrying partial writes and EINTR until stopping. */
void console_write(struct console *c, const uint8_t *buf, size_t len);
/*
 * A byte the guest sent (a vCPU thread): held until its line ends or the buffer is
 * full (at once after a quiet spell), then written as console_write does; a held byte
 * arms flush_fd.
 */
void console_put(struct console *c, uint8_t byte);
/*
 * flush_fd fired (the event loop's thread, which must never block on stdout): writes
 * the open line if stdout takes it now, else tries again after CONSOLE_FLUSH_MS.
 */
void console_flush_due(struct console *c);
/* One read of at most len bytes; 0 at EOF (then in_eof is set); -errno on a transient error. */
MUST_CHECK ssize_t console_read(struct console *c, uint8_t *buf, size_t len);
/* Restores a terminal left in raw mode; async-signal-safe. */
void console_restore_terminal(void);

#endif
