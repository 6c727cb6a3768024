/* The job core driven by hand, for the test_core_*.c files: a data dir made
 * with mkdtemp, hooks that record what they were told, prompt files written
 * straight into jobs/, and the network's side of a task played step by step.
 * Nothing here knows FUSE or curl. */
#ifndef GPTIMGFS_CORE_FIXTURE_H
#define GPTIMGFS_CORE_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/jobs.h"
#include "core/store.h"
#include "util/buf.h"

#define FX_MAX_CALLS 64

/* What the hooks were told since the last fx_clear_calls(). */
struct fx_calls {
	char changed[FX_MAX_CALLS][256]; /* job_changed names */
	size_t n_changed;
	uint64_t ready[FX_MAX_CALLS];	   /* task_ready seqs */
	bool ready_recorded[FX_MAX_CALLS]; /* records/SEQ.json existed */
	size_t n_ready;
	int outputs_changed;
	int credits_wanted;
	int credits_changed;
};

struct fx {
	char dir[64];  /* from mkdtemp */
	char data[96]; /* dir/data, created by core_open */
	struct core *c;
	struct fx_calls calls;
	struct buf text; /* scratch for status, xattrs, credits */
};

static inline void fx_clear_calls(struct fx *f)
{
	memset(&f->calls, 0, sizeof(f->calls));
}

static inline void fx_on_changed(void *ctx, const char *name)
{
	struct fx *f = ctx;

	if (f->calls.n_changed < FX_MAX_CALLS)
		snprintf(f->calls.changed[f->calls.n_changed++],
			 sizeof(f->calls.changed[0]), "%s", name);
}

static inline void fx_on_outputs(void *ctx)
{
	((struct fx *)ctx)->calls.outputs_changed++;
}

/* The network must never see a task that a crash could lose: the record
 * is on disk before task_ready. */
static inline void fx_on_ready(void *ctx, uint64_t seq)
{
	struct fx *f = ctx;
	char path[160];

	if (f->calls.n_ready >= FX_MAX_CALLS)
		return;
	snprintf(path, sizeof(path), "%s/records/%016" PRIu64 ".json", f->data,
		 seq);
	f->calls.ready_recorded[f->calls.n_ready] = access(path, F_OK) == 0;
	f->calls.ready[f->calls.n_ready++] = seq;
}

static inline void fx_on_credits_wanted(void *ctx)
{
	((struct fx *)ctx)->calls.credits_wanted++;
}

static inline void fx_on_credits_changed(void *ctx)
{
	((struct fx *)ctx)->calls.credits_changed++;
}

/* core_open on f->data with the defaults {"auto", "1k", true}. */
static inline bool fx_core_open(struct fx *f)
{
	static const struct core_defaults def = { "auto", "1k", true };
	struct core_hooks hooks = {
		.ctx = f,
		.job_changed = fx_on_changed,
		.outputs_changed = fx_on_outputs,
		.task_ready = fx_on_ready,
		.credits_wanted = fx_on_credits_wanted,
		.credits_changed = fx_on_credits_changed,
	};
	char err[512] = "";

	f->c = core_open(f->data, &def, err, sizeof(err));
	if (!f->c) {
		fprintf(stderr, "core_open %s: %s\n", f->data, err);
		return false;
	}
	core_set_hooks(f->c, &hooks);
	fx_clear_calls(f);
	return true;
}

static inline bool fx_open(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->text, 1 << 20);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gptimgfs-core-XXXXXX");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		return false;
	}
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	return fx_core_open(f);
}

/* A restart: what the records say now is all the new core knows. */
static inline bool fx_reopen(struct fx *f)
{
	core_close(f->c);
	f->c = NULL;
	return fx_core_open(f);
}

static inline int fx_rm_entry(const char *path, const struct stat *st, int flag,
			      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fx_close(struct fx *f)
{
	core_close(f->c);
	f->c = NULL;
	buf_free(&f->text);
	nftw(f->dir, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- files ---- */

static inline int fx_write_at(int dir_fd, const char *file, const void *data,
			      size_t len)
{
	int fd = openat(dir_fd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Up to size bytes of dir_fd/file into data: how many, or -1. */
static inline ssize_t fx_read_at(int dir_fd, const char *file, void *data,
				 size_t size)
{
	int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, data, size);
	close(fd);
	return n;
}

/* Seal DATA_DIR/SUB/FILE again with the store's key, as the daemon would
 * have written it: for a record or metadata file edited by a test. */
static inline bool fx_reseal(struct fx *f, const char *sub, const char *file)
{
	unsigned char key[STORE_KEY_LEN];
	char path[512];
	struct buf b;
	int dir_fd, fd, rc;

	snprintf(path, sizeof(path), "%s/%s", f->data, STORE_KEY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 || read(fd, key, sizeof(key)) != (ssize_t)sizeof(key);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/%s", f->data, sub);
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf_init(&b, 1 << 24);
	if (rc == 0 && dir_fd >= 0 &&
	    core_store_read_file(dir_fd, file, 1 << 24, &b) == 0 &&
	    core_store_seal(key, file, &b) == 0)
		rc = fx_write_at(dir_fd, file, b.data, b.len);
	else
		rc = -1;
	buf_free(&b);
	if (dir_fd >= 0)
		close(dir_fd);
	return rc == 0;
}

/* jobs/FILE := text */
static inline int fx_write_job(struct fx *f, const char *file, const char *text)
{
	return fx_write_at(core_jobs_dirfd(f->c), file, text, strlen(text));
}

static inline bool fx_exists(struct fx *f, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->data, rel);
	return access(path, F_OK) == 0;
}

/* The number of entries in DATA_DIR/SUBDIR but the store's spare files
 * (.spare-N.tmp, store.h), -1 when unreadable. */
static inline int fx_entries(struct fx *f, const char *subdir)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", f->data, subdir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		     strcmp(de->d_name, "..") != 0 &&
		     strncmp(de->d_name, ".spare-", 7) != 0;
	closedir(d);
	return n;
}

/* ---- submissions ---- */

/* The seq of the last task_ready, 0 when none. */
static inline uint64_t fx_last_ready(const struct fx *f)
{
	return f->calls.n_ready ? f->calls.ready[f->calls.n_ready - 1] : 0;
}

/* Write jobs/NAME.txt and submit it. The seq announced, or 0 when none. */
static inline uint64_t fx_submit(struct fx *f, const char *name,
				 const char *prompt)
{
	char file[256];
	size_t before = f->calls.n_ready;

	snprintf(file, sizeof(file), "%s.txt", name);
	if (fx_write_job(f, file, prompt) < 0 || core_submit(f->c, name) < 0)
		return 0;
	return f->calls.n_ready > before ? fx_last_ready(f) : 0;
}

/* status/NAME's text (in f->text), or NULL when -ENOENT. */
static inline const char *fx_status(struct fx *f, const char *name)
{
	return core_status(f->c, name, &f->text, NULL) == 0 ?
		       buf_str(&f->text) :
		       NULL;
}

static inline const char *fx_first_line(struct fx *f, const char *name)
{
	static char line[64];
	const char *s = fx_status(f, name);

	if (!s)
		return "(no status)";
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	return line;
}

/* The value of "key: value" in text, or NULL. */
static inline const char *fx_value(const char *text, const char *key)
{
	static char value[1024];
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' &&
		    p[klen + 1] == ' ') {
			p += klen + 2;
			snprintf(value, sizeof(value), "%.*s",
				 (int)strcspn(p, "\n"), p);
			return value;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static inline bool fx_matches(const char *s, const char *pattern)
{
	regex_t re;
	bool ok;

	if (!s || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static inline bool fx_changed(const struct fx *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->calls.n_changed; i++) {
		if (strcmp(f->calls.changed[i], name) == 0)
			return true;
	}
	return false;
}

/* Is name among names (from core_job_names or core_output_names)? Frees
 * names. */
static inline bool fx_in_names(char **names, size_t n, const char *name)
{
	size_t i;
	bool found = false;

	for (i = 0; i < n; i++)
		found |= strcmp(names[i], name) == 0;
	core_free_names(names, n);
	return found;
}

static inline bool fx_is_job(struct fx *f, const char *name)
{
	size_t n;
	char **names = core_job_names(f->c, &n);

	return fx_in_names(names, n, name);
}

static inline size_t fx_n_outputs(struct fx *f)
{
	size_t n;
	char **names = core_output_names(f->c, &n);

	core_free_names(names, n);
	return n;
}

/* ---- the network's side ---- */

/* A 1x1 PNG, whole and valid. */
static const unsigned char fx_png[] =
	"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52"
	"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
	"\x89\x00\x00\x00\x0b\x49\x44\x41\x54\x78\x9c\x63\x60\x00\x02\x00"
	"\x00\x05\x00\x01\x7a\x5e\xab\x3f\x00\x00\x00\x00\x49\x45\x4e\x44"
	"\xae\x42\x60\x82";
#define FX_PNG_LEN (sizeof(fx_png) - 1)

/* Does the core still know task seq? */
static inline bool fx_task_exists(struct fx *f, uint64_t seq)
{
	struct core_task t;
	int rc = core_task_get(f->c, seq, &t);

	if (rc == 0)
		core_task_free(&t);
	return rc == 0;
}

/* queued -> sending -> pending with task id ID. */
static inline int fx_send(struct fx *f, uint64_t seq, const char *id)
{
	int rc = core_task_sending(f->c, seq);

	return rc < 0 ? rc : core_task_created(f->c, seq, id);
}

/* Download bytes as output i through a core_tmpfile. tmp_path receives the
 * temporary file's path when given. */
static inline int fx_download(struct fx *f, uint64_t seq, size_t i,
			      const void *bytes, size_t len, char *tmp_path,
			      size_t tmpsz)
{
	char name[64];
	int fd = core_tmpfile(f->c, name, sizeof(name));
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, bytes, len);
	close(fd);
	if (n != (ssize_t)len)
		return -EIO;
	if (tmp_path)
		snprintf(tmp_path, tmpsz, "%s/tmp/%s", f->data, name);
	return core_task_output(f->c, seq, i, name);
}

/* From pending: n URLs "https://cdn.example/SEQ/I.png", each downloaded as
 * fx_png with extra bytes making output i (i + 1) bytes longer, then
 * completed. */
static inline int fx_complete_n(struct fx *f, uint64_t seq, size_t n)
{
	char urls[OPTS_MAX_URLS][96], *list[OPTS_MAX_URLS];
	unsigned char bytes[sizeof(fx_png) + OPTS_MAX_URLS];
	size_t i;
	int rc;

	memcpy(bytes, fx_png, FX_PNG_LEN);
	memset(bytes + FX_PNG_LEN, 0, OPTS_MAX_URLS);
	for (i = 0; i < n; i++) {
		snprintf(urls[i], sizeof(urls[i]),
			 "https://cdn.example/%" PRIu64 "/%zu.png", seq, i);
		list[i] = urls[i];
	}
	rc = core_task_urls(f->c, seq, list, n);
	for (i = 0; rc == 0 && i < n; i++)
		rc = fx_download(f, seq, i, bytes, FX_PNG_LEN + i, NULL, 0);
	return rc < 0 ? rc : core_task_completed(f->c, seq);
}

static inline int fx_complete(struct fx *f, uint64_t seq)
{
	return fx_complete_n(f, seq, 1);
}

/* Submit jobs/NAME.txt holding prompt, send it as task id, complete it
 * with n images: its seq, or 0 when a step failed. */
static inline uint64_t fx_done_n(struct fx *f, const char *name,
				 const char *prompt, const char *id, size_t n)
{
	uint64_t seq = fx_submit(f, name, prompt);

	if (seq == 0 || fx_send(f, seq, id) < 0 || fx_complete_n(f, seq, n) < 0)
		return 0;
	return seq;
}

static inline uint64_t fx_done(struct fx *f, const char *name,
			       const char *prompt, const char *id)
{
	return fx_done_n(f, name, prompt, id, 1);
}

/* An out/ file's attribute (in f->text), or NULL. */
static inline const char *fx_xattr(struct fx *f, const char *name,
				   const char *attr)
{
	return core_output_xattr(f->c, name, attr, &f->text) == 0 ?
		       buf_str(&f->text) :
		       NULL;
}

#define FX_OPTS_1K \
	"{\"aspect_ratio\":\"auto\",\"resolution\":\"1k\",\"nsfw_checker\":true}"
#define FX_STAMP "[0-9]{8}T[0-9]{6}Z"

#endif
