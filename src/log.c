#include "microvm/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_program = "microvm";
static enum log_level log_level = LOG_INFO;
static int log_fd = STDERR_FILENO;
static bool log_show_level, log_show_origin;

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level = level;
}

void log_set_output(int fd, bool show_level, bool show_origin)
{
	log_fd = fd;
	log_show_level = show_level;
	log_show_origin = show_origin;
}

enum log_level log_get_level(void)
{
	return log_level;
}

/* The source path as the tree names it: the build's "../" prefixes dropped. */
static const char *log_origin_path(const char *file)
{
	while (!strncmp(file, "../", 3))
		file += 3;
	return file;
}

static PRINTF_LIKE(5, 0) void log_vprint(enum log_level level, const char *tag, const char *file,
					 int line_no, const char *fmt, va_list ap)
{
	static const char *const names[] = { "", "[Error] ", "[Warning] ", "[Info] ", "[Debug] " };
	char msg[1024], origin[160] = "", line[1400];
	int n;

	if (level > log_level)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	if (log_show_origin && file)
		snprintf(origin, sizeof(origin), "[%s:%d] ", log_origin_path(file), line_no);
	/* One write per line so that lines from several threads never interleave. */
	n = snprintf(line, sizeof(line), "%s: %s%s%s%s\n", log_program,
		     log_show_level ? names[level] : "", origin, log_show_level ? "" : tag, msg);
	if (n > 0 && write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;
}

void log_at(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	static const char *const tags[] = { "", "error: ", "warning: ", "", "debug: " };
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, (unsigned int)level < ARRAY_SIZE(tags) ? tags[level] : "", file, line, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(LOG_ERROR, "error: ", NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
