#include "microvm/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *log_program = "microvm";
static enum log_level log_level = LOG_INFO;
static int log_fd = STDERR_FILENO;
static bool log_show_level;

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level = level;
}

void log_set_output(int fd, bool show_level)
{
	log_fd = fd;
	log_show_level = show_level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

static PRINTF_LIKE(3, 0) void log_vprint(enum log_level level, const char *tag, const char *fmt, va_list ap)
{
	static const char *const names[] = { "", "[Error] ", "[Warning] ", "[Info] ", "[Debug] " };
	char msg[1024], line[1200];
	int n;

	if (level > log_level)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	/* One write per line so that lines from several threads never interleave. */
	n = snprintf(line, sizeof(line), "%s: %s%s%s\n", log_program,
		     log_show_level ? names[level] : "", log_show_level ? "" : tag, msg);
	if (n > 0 && write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;
}

#define LOG_FN(name, level, tag)                  \
	void name(const char *fmt, ...)           \
	{                                         \
		va_list ap;                       \
		va_start(ap, fmt);                \
		log_vprint(level, tag, fmt, ap);  \
		va_end(ap);                       \
	}

LOG_FN(log_error, LOG_ERROR, "error: ")
LOG_FN(log_warn, LOG_WARN, "warning: ")
LOG_FN(log_info, LOG_INFO, "")
LOG_FN(log_debug, LOG_DEBUG, "debug: ")

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_ERROR, "error: ", fmt, ap);
	va_end(ap);
	exit(1);
}
