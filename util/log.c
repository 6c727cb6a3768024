#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static bool use_syslog;
static bool debug_on;

void log_to_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("gptimgfs", LOG_PID, LOG_DAEMON);
	use_syslog = on;
}

void log_set_debug(bool on)
{
	debug_on = on;
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	if (priority == LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(priority, fmt, ap);
	} else {
		/* one fprintf per line so lines from threads do not interleave */
		char line[1024];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "gptimgfs: %s\n", line);
	}
	va_end(ap);
}
