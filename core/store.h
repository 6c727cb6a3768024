/* The data directory on disk:
 *
 *   DATA_DIR/lock          held (flock) by the running daemon
 *   DATA_DIR/jobs/         the user's prompt files and sidecars, as written
 *   DATA_DIR/records/      one JSON record per task, SEQ.json
 *   DATA_DIR/out/          images (SEQ-I.EXT) and their metadata (….json)
 *   DATA_DIR/tmp/          downloads in progress; emptied at start
 *   DATA_DIR/spent.json    credits spent today (for the credits file)
 *   DATA_DIR/store.key     the store's secret (0600) that seals records and
 *                          image metadata; not the API key
 *
 * Every record is replaced atomically: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory (core/records.c does it
 * for a batch of records at once, with one sync of their data and one of
 * each directory, and swaps the old file into a spare instead of freeing
 * it: core_spares_commit).
 *
 * Only the daemon's user controls the store: core_store_open refuses a data
 * directory or a folder of it that is a symbolic link, owned by someone
 * else or writable by group or others, and every file is opened relative to
 * its directory's descriptor without following a symbolic link. A record
 * or metadata file carries a seal, an HMAC-SHA256 keyed with store.key
 * over its name and bytes, so that one this daemon did not write is known. */
#ifndef GPTIMGFS_CORE_STORE_H
#define GPTIMGFS_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

#define STORE_KEY_LEN 32
#define STORE_KEY_FILE "store.key"

struct store {
	char *path; /* data_dir, absolute */
	int dir_fd;
	int jobs_fd;
	int records_fd;
	int out_fd;
	int tmp_fd;
	int lock_fd;
	unsigned char key[STORE_KEY_LEN]; /* STORE_KEY_FILE */
};

/* Check the data directory and its parents, create the layout (0700) and
 * the key, take the lock, empty tmp/. -1 with err set to one line naming
 * the path and what is wrong with it. */
int core_store_open(struct store *s, const char *data_dir, char *err,
		    size_t errlen);
void core_store_close(struct store *s);

/* store_parents.c, for core_store_open: every folder above data_dir and every
 * symbolic link on the way to it may be changed by root or the daemon's
 * user only. 0, or -1 with err set. */
int core_store_check_parents(const char *data_dir, char *err, size_t errlen);

/* Write this process's pid into the lock file (again after a fork), for
 * the message a second daemon prints. -1 with errno. */
int core_store_note_pid(struct store *s);
/* Replace dir_fd/name with data, atomically: a reader, or a restart after
 * a crash or a power loss, finds the old content or the new one (the new
 * file's data is synced before the rename). With durable, the directory is
 * synced too, so that a power loss cannot undo the change. 0 or -errno. */
int core_store_write_atomic(int dir_fd, const char *name, const void *data,
			    size_t len, bool durable);
/* Write all of data at fd's offset (again after EINTR). 0 or -errno. */
int core_store_write_all(int fd, const void *data, size_t len);
/* Spare files (store_spare.c): the temporary files of a batch of
 * replacements, kept from one batch to the next, one pool per directory,
 * used by one thread at a time (records.c: under save_lock). A durable
 * replacement swaps its spare with the file it replaces (renameat2
 * RENAME_EXCHANGE), so the old file becomes a spare: no inode is made or
 * freed, which is most of a replacement's cost where every creation scans
 * recently freed inodes (ext4 without a journal). The old file is written
 * again only once the directory is synced: until then a power loss may
 * bring back the name that pointed at it. Spares are named ".spare-N.tmp"
 * and swept at start as every temporary file. */
#define STORE_SPARES_MAX 64
struct store_spares {
	int dir_fd;
	unsigned next; /* the number of the next new spare */
	unsigned free[STORE_SPARES_MAX];
	unsigned n_free;
	/* swapped out since the last sync of the directory */
	unsigned unsettled[STORE_SPARES_MAX];
	unsigned n_unsettled;
};
void core_spares_init(struct store_spares *p, int dir_fd);
/* Write data into a spare (a free one, else a new one, 0600, never
 * through a link), fdatasync it with sync; its number in *spare. On
 * failure the spare is gone. 0 or -errno. */
int core_spares_write(struct store_spares *p, const void *data, size_t len,
		      bool sync, unsigned *spare);
/* Put spare in name's place, atomically. With swap (for a change whose
 * directory the caller syncs next, then calls core_spares_settle), what
 * name held becomes a spare, free once settled; a directory in the way
 * is swapped too. Else, when name did not exist, or when the file system
 * cannot swap two names, the spare is name from now on and what name
 * held is freed (rename(2)). On failure the spare is gone. 0 or -errno. */
int core_spares_commit(struct store_spares *p, unsigned spare, const char *name,
		       bool swap);
/* The directory of p is synced: the spares swapped out before are free. */
void core_spares_settle(struct store_spares *p);
/* Remove a spare written but not to be committed. */
void core_spares_drop(struct store_spares *p, unsigned spare);
/* Every file of the store's file system written so far onto the disk, in
 * one call (syncfs): one sync for a batch of temporary files instead of
 * one each. 0 or -errno. */
int core_store_sync_data(const struct store *s);
/* Read dir_fd/name whole into out (cleared first). -EFBIG when it is bigger
 * than max, -ELOOP when it is not a regular file (a symbolic link is never
 * followed), else 0 or -errno. */
int core_store_read_file(int dir_fd, const char *name, size_t max,
			 struct buf *out);
/* Open dir_fd/name, never following a symbolic link (openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the kernel has it; else one
 * component at a time, each with O_NOFOLLOW). name is a relative path
 * (core_store_path_ok). The descriptor, or -errno (-ELOOP or -ENOTDIR: a
 * symbolic link on the way, -EINVAL: no such path). */
int core_store_open_file(int dir_fd, const char *name, int flags, mode_t mode);
/* Is path relative and free of empty, "." and ".." components ("a/b/c")? */
bool core_store_path_ok(const char *path);
/* Create a new file dir_fd/PREFIX + random letters, 0600, with
 * core_store_open_file's O_CREAT|O_EXCL (never through a link, never an
 * existing file; another name on a clash). name receives its name. The
 * descriptor (O_RDWR), or -errno. */
int core_store_create_temp(int dir_fd, const char *prefix, char *name,
			   size_t namesz);
/* strerror, but -ELOOP from the functions above says "not a regular
 * file". */
const char *core_store_strerror(int rc);

/* The seal of a record or metadata file: b, a JSON object that ends in
 * '}' (and a newline), gets a last member "mac", the HMAC-SHA256 under key
 * of name (its file name, so that a file cannot pass for another) and of
 * the bytes before it. 0, -EINVAL when b is no JSON object, or -ENOMEM. */
int core_store_seal(const unsigned char *key, const char *name, struct buf *b);
/* 0 when data is sealed by key for name, -ENOKEY when it carries no seal
 * (an older version's file), -EBADMSG when the seal does not match. */
int core_store_check_seal(const unsigned char *key, const char *name,
			  const char *data, size_t len);
/* The callback path's secret: the first CORE_CALLBACK_TOKEN_LEN hex
 * digits of the HMAC-SHA256 under key of CORE_CALLBACK_LABEL and its NUL
 * (gptimgfs(1), CALLBACKS). 0, or -ENOMEM. */
#define CORE_CALLBACK_LABEL "gptimgfs callback v1"
int core_store_callback_token(const unsigned char *key, char *out);
/* core_store_write_atomic of b (a JSON object), sealed; b is changed. */
int core_store_write_sealed(const struct store *s, int dir_fd, const char *name,
			    struct buf *b, bool durable);
/* core_store_read_file, then core_store_check_seal: -ENOKEY and -EBADMSG leave
 * the bytes in out. */
int core_store_read_sealed(const struct store *s, int dir_fd, const char *name,
			   size_t max, struct buf *out);
/* Call fn for every entry of the directory but "." and "..". 0 or -errno.
 */
int core_store_for_each(int dir_fd, void (*fn)(void *ctx, const char *name),
			void *ctx);
/* Call fn with the path ("a/b/x.txt") of every file below dir_fd, down to
 * max_depth folders, skipping hidden folders (".git": they hold no prompt
 * files). 0, or the first -errno of a folder that could not be read (the
 * walk goes on). */
int core_store_walk(int dir_fd, unsigned max_depth,
		    void (*fn)(void *ctx, const char *path), void *ctx);
/* Remove dir_fd/name and fsync the directory; a missing file is fine. */
int core_store_unlink(int dir_fd, const char *name);
/* The same without the fsync of the directory, for a batch that syncs it
 * once. */
int core_store_remove(int dir_fd, const char *name);

#endif
