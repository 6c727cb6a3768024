/* One line per event: to stderr in the foreground, to syslog or a file
 * (log=) once the daemon is detached. Never pass the API key or a request
 * header here. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static bool use_syslog;
static int log_fd = -1; /* log=FILE, once detached */
static bool debug_on;

void log_to_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("gptimgfs", LOG_PID, LOG_DAEMON);
	use_syslog = on;
}

void log_to_fd(int fd)
{
	log_fd = fd;
	use_syslog = false;
}

void log_set_debug(bool on)
{
	debug_on = on;
}

/* A line of a log file: its UTC time, the pid, the message. One write of
 * an O_APPEND file: lines of threads never interleave. */
static void file_line(const char *msg)
{
	char line[1200], when[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s gptimgfs[%ld]: %s\n", when,
		     (long)getpid(), msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (n > 0 && write(log_fd, line, (size_t)n) < 0)
		return; /* nowhere else to say it */
}

void log_msg(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (priority == LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(priority, fmt, ap);
		va_end(ap);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fd >= 0)
		file_line(line);
	else /* one fprintf per line so lines from threads do not interleave */
		fprintf(stderr, "gptimgfs: %s\n", line);
}
