/* Reading the small files config/ reads whole: the config file and the key
 * file. Only regular files, and only up to a size: a FIFO or /dev/zero
 * named by mistake must not hang or fill memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

int config_small_file_read(const char *path, size_t max, char **data,
			   size_t *len, unsigned *mode)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, saved;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	buf = calloc(1, max + 2);
	if (!buf)
		goto fail;
	/* One byte more than allowed tells a file that is too big. */
	n = read_all(fd, buf, max + 1);
	if (n < 0)
		goto fail;
	if ((size_t)n > max) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	*data = buf;
	*len = n;
	*mode = st.st_mode;
	return 0;
fail:
	saved = errno;
	if (buf) {
		explicit_bzero(buf, max + 2);
		free(buf);
	}
	close(fd);
	errno = saved;
	return -1;
}

void config_small_file_error(int err, size_t max, char *out, size_t outlen)
{
	if (err == EINVAL)
		snprintf(out, outlen, "not a regular file");
	else if (err == EFBIG)
		snprintf(out, outlen, "larger than %zu bytes", max);
	else
		snprintf(out, outlen, "%s", strerror(err));
}
