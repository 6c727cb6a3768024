/* The data directory on disk:
 *
 *   DATA_DIR/lock          held (flock) by the running daemon
 *   DATA_DIR/jobs/         the user's prompt files and sidecars, as written
 *   DATA_DIR/records/      one JSON record per task, SEQ.json
 *   DATA_DIR/out/          images (SEQ-I.EXT) and their metadata (….json)
 *   DATA_DIR/tmp/          downloads in progress; emptied at start
 *   DATA_DIR/spent.json    credits spent today (for the credits file)
 *
 * Every record is replaced atomically: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory. */
#ifndef GPTIMGFS_STORE_H
#define GPTIMGFS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct store {
	char *path;		/* data_dir, absolute */
	int dir_fd;
	int jobs_fd;
	int records_fd;
	int out_fd;
	int tmp_fd;
	int lock_fd;
};

/* Create the layout (0700), take the lock, empty tmp/. -1 with err set. */
int store_open(struct store *s, const char *data_dir, char *err,
	       size_t errlen);
void store_close(struct store *s);

/* Write this process's pid into the lock file (again after a fork), for
 * the message a second daemon prints. -1 with errno. */
int store_note_pid(struct store *s);
/* Replace dir_fd/name with data, atomically: a reader, or a restart after
 * a crash or a power loss, finds the old content or the new one (the new
 * file's data is synced before the rename). With durable, the directory is
 * synced too, so that a power loss cannot undo the change. 0 or -errno. */
int store_write_atomic(int dir_fd, const char *name, const void *data,
		       size_t len, bool durable);
/* Read dir_fd/name whole into out (cleared first). -EFBIG when it is bigger
 * than max, else 0 or -errno. */
int store_read_file(int dir_fd, const char *name, size_t max,
		    struct buf *out);
/* Call fn for every entry of the directory but "." and "..". 0 or -errno.
 */
int store_for_each(int dir_fd, void (*fn)(void *ctx, const char *name),
		   void *ctx);
/* Remove dir_fd/name and fsync the directory; a missing file is fine. */
int store_unlink(int dir_fd, const char *name);

#endif
