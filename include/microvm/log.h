/* One-line diagnostics on stderr (or where PUT /logger says), prefixed with the program name. */
#ifndef MICROVM_LOG_H
#define MICROVM_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "microvm/compiler.h"

enum log_level { LOG_QUIET, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the prefix ("microvm", "jailer") and the most verbose level printed. */
void log_init(const char *program, enum log_level level);
enum log_level log_get_level(void);
/*
 * Lines go to fd from now on (PUT /logger), each with its level's name when show_level
 * and the source file and line that logged it when show_origin.
 */
void log_set_output(int fd, bool show_level, bool show_origin);

/* One line at level, logged at file:line (the macros below pass their own). */
void log_at(enum log_level level, const char *file, int line, const char *fmt, ...) PRINTF_LIKE(4, 5);
#define log_error(...) log_at(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

/* Only for main.c, thread entry points and the jailer past its point of no return. */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
