/* Submission (gptimgfs(1), SUBMISSION): a prompt file and its sidecar,
 * read as they stand, become a task — unless they equal the job's
 * reference task's (its newest one not refused, table.h), which then
 * stands again (no accidental spending). Invalid input becomes a failed
 * task that says why, and nothing is sent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "table.h"
#include "util/json.h"
#include "util/log.h"

/* The longest last component of a NAME: its longest history output
 * ("NAME~16~20261125T083000Z-999.webp", 30 bytes more, and extensions run
 * to 5 letters) must still fit in NAME_MAX (255 bytes). */
#define JOB_BASE_MAX 200

const char *core_path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool core_path_below(const char *name, const char *folder)
{
	size_t len = strlen(folder);

	return strncmp(name, folder, len) == 0 && name[len] == '/';
}

unsigned core_path_depth(const char *path)
{
	unsigned n = 0;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

bool core_path_hidden(const char *path)
{
	return path[0] == '.' || strstr(path, "/.") != NULL;
}

bool core_prompt_name(const char *filename, char *name, size_t namesz)
{
	size_t len = strlen(filename);

	if (strlen(core_path_base(filename)) <= 4 ||
	    core_path_hidden(filename) ||
	    strcmp(filename + len - 4, ".txt") != 0 || len - 4 >= namesz)
		return false;
	memcpy(name, filename, len - 4);
	name[len - 4] = '\0';
	return true;
}

bool core_name_ok(const char *name)
{
	const unsigned char *p;

	if (!name[0] || strlen(name) > CORE_NAME_MAX + 64 ||
	    core_path_hidden(name) || !core_store_path_ok(name) ||
	    core_path_depth(name) > CORE_FOLDERS_MAX)
		return false;
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* Why NAME cannot name a job, in why: -ENAMETOOLONG, -EINVAL, or 0. */
static int job_name_problem(const char *name, char *why, size_t whylen)
{
	const unsigned char *p;

	if (strlen(core_path_base(name)) > JOB_BASE_MAX) {
		snprintf(why, whylen,
			 "the name is longer than %d bytes before .txt "
			 "(its history images must fit in 255 bytes)",
			 JOB_BASE_MAX);
		return -ENAMETOOLONG;
	}
	if (strlen(name) > CORE_NAME_MAX ||
	    core_path_depth(name) > CORE_FOLDERS_MAX) {
		snprintf(why, whylen,
			 "the path is longer than %d bytes before .txt, or "
			 "deeper than %d folders",
			 CORE_NAME_MAX, CORE_FOLDERS_MAX);
		return -ENAMETOOLONG;
	}
	for (p = (const unsigned char *)name; *p; p++) {
		/* a name is a line in status files and in scripts' output */
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen,
				 "the name holds a control character");
			return -EINVAL;
		}
	}
	/* NAME~2.png, NAME~20261125T083000Z.png: '~' marks another image of
	 * a job, never a job's own first one (folders may hold it) */
	if (strchr(core_path_base(name), '~')) {
		snprintf(why, whylen,
			 "the name holds '~', which out/ keeps for further "
			 "and older images (NAME~2.png)");
		return -EINVAL;
	}
	return 0;
}

int core_check_prompt_filename(const char *filename)
{
	char name[PATH_MAX], why[160];
	struct buf quoted;
	int rc;

	if (!core_prompt_name(filename, name, sizeof(name)))
		return 0;
	rc = job_name_problem(name, why, sizeof(why));
	if (rc < 0) {
		/* quoted: the name may hold control characters */
		buf_init(&quoted, 8 * CORE_FILE_MAX);
		json_add_cstr(&quoted, filename);
		log_warn("jobs/: prompt file name %s refused: %s",
			 buf_str(&quoted), why);
		buf_free(&quoted);
	}
	return rc;
}

mode_t core_read_mode(mode_t prompt_mode)
{
	return (prompt_mode & 0444) | 0400;
}

mode_t core_submit_read_mode(struct core *c, const char *name)
{
	char file[CORE_FILE_MAX + 1];
	struct stat st;

	snprintf(file, sizeof(file), "%s.txt", name);
	if (fstatat(c->store.jobs_fd, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0400;
	return core_read_mode(st.st_mode);
}

/* What a submission read from jobs/. */
struct input {
	struct buf prompt_file;
	size_t prompt_len;
	mode_t read_mode; /* the prompt file's (core_read_mode) */
	struct job_opts opts;
	struct buf opts_json;
	char sidecar[CORE_FILE_MAX + 8]; /* "jobs/NAME.opts" if read, or "" */
	bool opts_unknown; /* the sidecar was refused: opts are not its */
	char error[ERROR_MAX - 64]; /* invalid_input message, or "" */
};

static void input_init(struct core *c, struct input *in)
{
	buf_init(&in->prompt_file, PROMPT_MAX_FILE);
	buf_init(&in->opts_json, 1 << 20);
	core_opts_init(&in->opts, c->defaults.aspect_ratio,
		       c->defaults.resolution, c->defaults.nsfw_checker);
	in->prompt_len = 0;
	in->read_mode = 0400;
	in->sidecar[0] = '\0';
	in->opts_unknown = false;
	in->error[0] = '\0';
}

static void input_free(struct input *in)
{
	buf_free(&in->prompt_file);
	buf_free(&in->opts_json);
	core_opts_free(&in->opts);
}

/* Read jobs/NAME.SUFFIX if it exists. 1 when read, 0 when absent, -1 with
 * err set. */
static int read_sidecar(struct core *c, const char *name, const char *suffix,
			struct buf *text, char *err, size_t errlen)
{
	char file[CORE_FILE_MAX + 1];
	int rc;

	snprintf(file, sizeof(file), "%s.%s", name, suffix);
	rc = core_store_read_file(c->store.jobs_fd, file, SIDECAR_MAX_FILE,
				  text);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "jobs/%s: %s", file,
			 rc == -EFBIG ? "larger than 256 KiB" : strerror(-rc));
		return -1;
	}
	return 1;
}

/* The sidecar's options over the defaults. Read also when the prompt is
 * refused, so that the failed task shows the options it asked for; the
 * first error stands. A refused sidecar leaves the options unknown: the
 * defaults in in->opts are not what it asked for. */
/* in->error gets err, after the prompt's error if there is one: the user
 * mends both at once. */
static void add_error(struct input *in, const char *err)
{
	size_t used = strlen(in->error);

	if (used == 0)
		snprintf(in->error, sizeof(in->error), "%s", err);
	else
		snprintf(in->error + used, sizeof(in->error) - used, "; and %s",
			 err);
}

static void read_options(struct core *c, const char *name, struct input *in)
{
	char err[sizeof(in->error)] = "";
	struct buf ini, json;
	int has_ini, has_json;

	buf_init(&ini, SIDECAR_MAX_FILE);
	buf_init(&json, SIDECAR_MAX_FILE);
	has_ini = read_sidecar(c, name, "opts", &ini, err, sizeof(err));
	has_json = has_ini < 0 ? 0 :
				 read_sidecar(c, name, "json", &json, err,
					      sizeof(err));
	if (has_ini == 1 && has_json == 1) {
		snprintf(err, sizeof(err),
			 "jobs/%s.opts and jobs/%s.json both exist: keep one",
			 name, name);
	} else if (has_ini == 1) {
		snprintf(in->sidecar, sizeof(in->sidecar), "jobs/%s.opts",
			 name);
		core_opts_parse_ini(&in->opts, in->sidecar, buf_str(&ini),
				    ini.len, err, sizeof(err));
	} else if (has_json == 1) {
		snprintf(in->sidecar, sizeof(in->sidecar), "jobs/%s.json",
			 name);
		core_opts_parse_json(&in->opts, in->sidecar, buf_str(&json),
				     json.len, err, sizeof(err));
	}
	buf_free(&ini);
	buf_free(&json);
	in->opts_unknown = err[0] != '\0';
	if (err[0])
		add_error(in, err);
}

/* The prompt, or an error in in->error (then the prompt is left empty:
 * a record keeps no invalid text). */
static void read_prompt(const char *label, struct input *in, int rc)
{
	if (rc == -EFBIG)
		snprintf(in->error, sizeof(in->error), "%s: larger than 1 MiB",
			 label);
	else if (core_prompt_check(label, buf_str(&in->prompt_file),
				   in->prompt_file.len, &in->prompt_len,
				   in->error, sizeof(in->error)) == 0)
		return;
	in->prompt_len = 0;
}

/* A prompt file that could not be created today may exist in a data
 * directory of an older version: it is never sent. */
static void check_job_name(const char *name, const char *label,
			   struct input *in)
{
	char why[160];

	if (job_name_problem(name, why, sizeof(why)) < 0)
		snprintf(in->error, sizeof(in->error),
			 "%s: %s; rename the file", label, why);
}

/* The prompt file alone: 0 when read (valid or not: see in->error),
 * -ENOENT when it is gone, another -errno when it cannot be read. */
static int read_prompt_file(struct core *c, const char *name, struct input *in)
{
	char file[CORE_FILE_MAX + 1], label[CORE_FILE_MAX + 8];
	int rc;

	snprintf(file, sizeof(file), "%s.txt", name);
	snprintf(label, sizeof(label), "jobs/%s", file);
	rc = core_store_read_file(c->store.jobs_fd, file, PROMPT_MAX_FILE,
				  &in->prompt_file);
	if (rc < 0 && rc != -EFBIG)
		return rc;
	in->read_mode = core_submit_read_mode(c, name);
	check_job_name(name, label, in);
	if (!in->error[0])
		read_prompt(label, in, rc);
	return 0;
}

/* The prompt file and its sidecar: as read_prompt_file. */
static int read_input(struct core *c, const char *name, struct input *in)
{
	char label[CORE_FILE_MAX + 8];
	int rc = read_prompt_file(c, name, in);

	if (rc < 0)
		return rc;
	snprintf(label, sizeof(label), "jobs/%s.txt", name);
	read_options(c, name, in);
	if (!in->error[0])
		core_opts_validate(&in->opts, in->prompt_len, label,
				   in->sidecar[0] ? in->sidecar : NULL,
				   in->error, sizeof(in->error));
	return core_opts_to_json(&in->opts, &in->opts_json) < 0 ? -ENOMEM : 0;
}

/* Unchanged: what the reference task asked for, and it has not failed. */
static bool same_as_reference(const struct task *ref, const struct input *in)
{
	return ref && ref->state != TASK_FAILED && !in->error[0] &&
	       ref->prompt_len == in->prompt_len &&
	       memcmp(ref->prompt, buf_str(&in->prompt_file), in->prompt_len) ==
		       0 &&
	       strcmp(ref->opts_json, buf_str(&in->opts_json)) == 0;
}

/* Do jobs/NAME.txt and its sidecar still say what queued task t says?
 * (After a kill, a queued task is sent only if they do.) */
bool core_submit_input_unchanged(struct core *c, const struct task *t)
{
	struct input in;
	bool same;

	input_init(c, &in);
	same = read_input(c, t->name, &in) == 0 && !in.error[0] &&
	       t->prompt_len == in.prompt_len &&
	       memcmp(t->prompt, buf_str(&in.prompt_file), in.prompt_len) ==
		       0 &&
	       strcmp(t->opts_json, buf_str(&in.opts_json)) == 0;
	input_free(&in);
	return same;
}

static struct task *task_from_input(uint64_t seq, const char *name,
				    struct input *in)
{
	struct task *t = core_task_new(seq, name);

	if (!t)
		return NULL;
	t->prompt = strndup(buf_str(&in->prompt_file), in->prompt_len);
	t->prompt_len = in->prompt_len;
	if (!in->opts_unknown)
		t->opts_json = strdup(buf_str(&in->opts_json));
	t->submitted = t->updated = time(NULL);
	t->read_mode = in->read_mode;
	if (!t->prompt || (!t->opts_json && !in->opts_unknown) ||
	    core_opts_copy(&t->opts, &in->opts) < 0) {
		core_task_destroy(t);
		return NULL;
	}
	if (in->error[0]) {
		t->state = TASK_FAILED;
		snprintf(t->error, sizeof(t->error), "invalid_input: %s",
			 in->error);
	}
	return t;
}

/* The store cannot record the job (disk full, data directory read-only):
 * nothing is sent, the status says why, and the caller gets the error (a
 * rename fails with it).
 */
static void refuse_unrecorded(struct task *t, int err)
{
	t->state = TASK_FAILED;
	snprintf(t->error, sizeof(t->error),
		 "store_failed: cannot record the job in the data directory: "
		 "%s; nothing was sent (write the prompt again to retry)",
		 strerror(-err));
}

/* The input is the reference task's again: the attempts refused since are
 * dropped (they cost nothing) and the job shows the reference task again,
 * also when its prompt file had been removed. *shown: status/NAME changed. */
static int restore(struct core *c, const char *name, bool *shown)
{
	struct record_op *op = NULL;
	struct task *ref, *t;
	bool saved = false;

	core_lock(c);
	ref = core_table_reference(c, name);
	while ((t = core_table_current(c, name)) != ref) {
		core_task_drop(c, t);
		*shown = true;
	}
	if (ref->forgotten) {
		ref->forgotten = false;
		op = core_task_save_later(c, ref, true);
		saved = true;
		*shown = true;
	}
	if (!saved) {
		core_unlock_flush(c);
		return 0;
	}
	core_unlock(c);
	return core_record_wait(c, op);
}

/* ---- after a restart ---- */

/* Does jobs/NAME.txt say what the job's current task cur asked for? A
 * refused task keeps no invalid text: an invalid file matches it. */
static bool prompt_matches(const struct task *cur, const struct input *in)
{
	if (in->error[0])
		return core_task_is_refused(cur);
	return cur->prompt_len == in->prompt_len &&
	       memcmp(cur->prompt, buf_str(&in->prompt_file), in->prompt_len) ==
		       0;
}

/* jobs/NAME.txt changed after its job's last submission: the daemon was
 * killed between a writer's close and the release that submits it, or
 * the file was changed while the daemon was stopped. Whether the text is
 * whole is unsure, so nothing is sent: the job shows a failed task that
 * says why, and the next write of the prompt submits it. */
static void record_unsubmitted(struct core *c, const char *name,
			       struct input *in)
{
	struct task *t;

	/* nothing is sent, but the status shows the options asked for */
	read_options(c, name, in);
	if (core_opts_to_json(&in->opts, &in->opts_json) < 0)
		return;
	t = task_from_input(c->last_seq + 1, name, in);
	if (!t)
		return;
	t->state = TASK_FAILED;
	snprintf(t->error, sizeof(t->error),
		 "interrupted: jobs/%s.txt changed after its last submission "
		 "(the daemon stopped before the close that ended the write "
		 "was handled, or the file changed while it was stopped); "
		 "nothing was sent, nothing was charged (write the prompt "
		 "again to send it)",
		 name);
	log_warn("jobs/%s.txt: %s", name, t->error);
	if (core_table_insert(c, t) < 0) {
		core_task_destroy(t);
		return;
	}
	core_task_save(c, t);
	core_prune_job(c, t->name);
}

static void check_prompt_file(void *ctx, const char *file)
{
	char name[CORE_FILE_MAX + 1];
	struct core *c = ctx;
	struct task *cur;
	struct input in;

	if (!core_prompt_name(file, name, sizeof(name)))
		return;
	cur = core_table_current(c, name);
	if (cur && cur->state == TASK_QUEUED)
		return; /* check_queued's */
	/* a job without a task may be that of a record set aside as corrupt
	 * (the log names it): its state is unknown, not unsubmitted */
	if (!cur && c->records_set_aside)
		return;
	input_init(c, &in);
	if (read_prompt_file(c, name, &in) == 0) {
		if (!cur || !prompt_matches(cur, &in))
			record_unsubmitted(c, name, &in);
		else if (cur->forgotten) { /* written again, same text */
			cur->forgotten = false;
			core_task_save(c, cur);
		}
	}
	input_free(&in);
}

void core_submit_check_unsubmitted(struct core *c)
{
	int rc = core_store_walk(c->store.jobs_fd, CORE_FOLDERS_MAX,
				 check_prompt_file, c);

	if (rc < 0)
		log_err("%s/jobs: cannot list it to check what was submitted: "
			"%s",
			c->store.path, strerror(-rc));
}

/* The submission proper, under the submit lock. What the others must be
 * told is left in *changed and *ready (0: nothing to send). */
static int submit_locked(struct core *c, const char *name, bool *changed,
			 uint64_t *ready)
{
	struct input in;
	struct task *t = NULL;
	uint64_t seq;
	bool same;
	int rc, saved;

	input_init(c, &in);
	rc = read_input(c, name, &in);
	if (rc < 0)
		goto out;
	core_lock(c);
	same = same_as_reference(core_table_reference(c, name), &in);
	seq = c->last_seq + 1;
	core_unlock(c);
	if (same) {
		rc = restore(c, name, changed);
		goto out;
	}
	rc = -ENOMEM;
	t = task_from_input(seq, name, &in);
	if (!t)
		goto out;
	/* durable before the network hears of it: a crash now re-sends it */
	saved = core_task_save(c, t);
	if (saved < 0)
		refuse_unrecorded(t, saved);
	log_info("jobs/%s.txt: task %llu %s", name, (unsigned long long)seq,
		 t->state == TASK_QUEUED ? "queued" : t->error);
	*ready = t->state == TASK_QUEUED ? seq : 0;
	core_lock(c);
	rc = core_table_insert(c, t);
	if (rc == 0) /* what t supersedes (core_table_keeps) */
		core_prune_job(c, t->name);
	core_unlock_flush(c);
	if (rc < 0) {
		*ready = 0;
		core_task_delete_record(c, t);
		goto out;
	}
	t = NULL;
	*changed = true;
	rc = saved;
out:
	core_task_destroy(t);
	input_free(&in);
	return rc == -ENOENT ? 0 : rc;
}

int core_submit(struct core *c, const char *name)
{
	bool changed = false;
	uint64_t ready = 0;
	int rc;

	pthread_mutex_lock(&c->submit_lock);
	rc = submit_locked(c, name, &changed, &ready);
	pthread_mutex_unlock(&c->submit_lock);
	if (changed)
		core_notify_job(c, name);
	if (ready)
		core_notify_ready(c, ready);
	return rc;
}

/* jobs/NAME.txt went away: what was never sent goes (queued tasks, and
 * refused attempts: nothing was spent), and the job's last task is
 * forgotten: out of sight once it ends, remembered for a week. */
void core_prompt_removed(struct core *c, const char *name)
{
	struct task *t;
	bool changed = false;

	pthread_mutex_lock(&c->submit_lock);
	core_lock(c);
	while ((t = core_table_current(c, name)) != NULL &&
	       (t->state == TASK_QUEUED || core_task_is_refused(t))) {
		core_task_drop(c, t);
		changed = true;
	}
	if (t && !t->forgotten) {
		t->forgotten = true;
		core_task_save_queued(c, t, true);
		changed = changed || core_task_state_ended(t->state);
	}
	core_unlock_flush(c);
	pthread_mutex_unlock(&c->submit_lock);
	if (changed)
		core_notify_job(c, name);
}
