/* One line per event, to stderr in the foreground or, once the daemon is
 * detached, to syslog or a file (gptimgfs(1), log=). Never pass the API
 * key or a request header here. */
#ifndef GPTIMGFS_LOG_H
#define GPTIMGFS_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_to_syslog(bool on);
/* Lines go to fd (an O_APPEND file), each with its time and pid; -1:
 * stderr again. */
void log_to_fd(int fd);
void log_set_debug(bool on);
void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
