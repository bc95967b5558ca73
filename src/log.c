#include "microvm/log.h"

#include <stdio.h>
#include <stdlib.h>

static const char *log_program = "microvm";
static enum log_level log_level = LOG_INFO;

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

static PRINTF_LIKE(3, 0) void log_vprint(enum log_level level, const char *tag, const char *fmt, va_list ap)
{
	char line[1024];

	if (level > log_level)
		return;
	/* One write per line so that lines from several threads never interleave. */
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	fprintf(stderr, "%s: %s%s\n", log_program, tag, line);
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
