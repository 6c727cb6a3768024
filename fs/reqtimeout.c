/* The kernel's limit on how long a FUSE request may stay unanswered.
 *
 * Since Linux 6.14 an administrator can set fs.fuse.default_request_timeout
 * (for mounts whose daemon asks for none) and fs.fuse.max_request_timeout
 * (a cap on any), in seconds. A request older than the limit aborts the
 * whole connection: every process then gets ENOTCONN. libfuse asks for no
 * timeout of its own at INIT and reports none back (3.14 and 3.17), so the
 * limit of this mount is the default, capped by the maximum; both are read
 * when the mount is made, as the kernel applies them then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "util/log.h"

#define SYSCTL_DIR "/proc/sys/fs/fuse/"

/* A sysctl of SYSCTL_DIR in seconds; 0 when the kernel has none (older
 * than 6.14) or it cannot be read. */
static unsigned read_seconds(const char *name)
{
	char path[64], line[32], *end;
	unsigned long value;
	FILE *f;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	errno = 0;
	value = strtoul(line, &end, 10);
	if (errno || end == line || (*end != '\n' && *end) || value > 65535) {
		log_warn("%s: not a number of seconds: %s", path, line);
		return 0;
	}
	return (unsigned)value;
}

unsigned fs_request_timeout_s(void)
{
	unsigned limit = read_seconds("default_request_timeout");
	unsigned cap = read_seconds("max_request_timeout");

	if (cap && (!limit || cap < limit))
		limit = cap;
	return limit;
}

void fs_set_request_timeout(struct fs *fs, unsigned seconds)
{
	/* half the limit: the notifier looks every quarter (notify.c), so a
	 * parked read is answered within three quarters of it */
	fs->park_limit_ms = (int64_t)seconds * 500;
	if (seconds)
		log_info("the kernel aborts a FUSE request after %u s "
			 "(fs.fuse.*_request_timeout): a blocked read of wait/ "
			 "or credits is answered EINTR after %.1f s, and the "
			 "reader reads again",
			 seconds, (double)fs->park_limit_ms / 1000);
}
