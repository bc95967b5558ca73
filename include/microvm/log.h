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
/* Lines go to fd from now on (PUT /logger), each with its level's name when show_level. */
void log_set_output(int fd, bool show_level);

void log_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_info(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Only for main.c, thread entry points and the jailer past its point of no return. */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
