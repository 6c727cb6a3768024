/* libFuzzer harness: the config file parser (config/file.c, through
 * config_load, as the daemon reads it). The input is the file's content.
 * It lives in a memfd, mode 0600 like a config file that holds a key, and
 * is named on the command line as config=/proc/self/fd/N. The environment
 * is fixed and holds no key, so that the file's api_key and key_file are
 * read too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

static int config_fd = -1;
static char config_opt[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_fd = memfd_create("fuzz-config.ini", MFD_CLOEXEC);
	if (config_fd < 0 || fchmod(config_fd, 0600) < 0) {
		perror("fuzz_config: memfd");
		exit(1);
	}
	snprintf(config_opt, sizeof(config_opt), "config=/proc/self/fd/%d",
		 config_fd);
	return 0;
}

static int put_file(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(config_fd, 0) < 0)
		return -1;
	while (done < size) {
		n = pwrite(config_fd, data + done, size - done, done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char arg0[] = "gptimgfs", arg1[] = "-o", arg3[] = "/mnt";
	char *argv[] = { arg0, arg1, config_opt, arg3, NULL };
	char *env[] = { "HOME=/nonexistent-fuzz-home", "PATH=/usr/bin", NULL };
	struct config cfg;
	char err[512];

	if (put_file(data, size) < 0)
		abort();
	config_load(&cfg, 4, argv, env, err, sizeof(err));
	config_free(&cfg);
	return 0;
}
