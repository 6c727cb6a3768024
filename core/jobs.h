/* The job core: the job table, each task's state machine and the durable
 * store under data_dir. It knows neither FUSE nor curl: fs/ and net/ call
 * the functions below, and the core tells them about changes through the
 * hooks that main registers.
 *
 * A job is NAME (from jobs/NAME.txt). Each submission of a job makes a task
 * with a new local sequence number `seq`; the job's newest task is its
 * current one and is what status/NAME shows. An older task that was already
 * sent keeps going (its credits are spent) and its images land in out/ under
 * history names. */
#ifndef GPTIMGFS_CORE_JOBS_H
#define GPTIMGFS_CORE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "opts.h"
#include "util/buf.h"

enum task_state {
	TASK_QUEUED,  /* accepted, not sent */
	TASK_SENDING, /* the creation request may be on the wire */
	TASK_PENDING, /* the API has the task (task id known) */
	TASK_PROCESSING,
	TASK_DOWNLOADING,
	TASK_COMPLETED,
	TASK_FAILED,
};

const char *core_task_state_word(enum task_state st);
static inline bool core_task_state_ended(enum task_state st)
{
	return st == TASK_COMPLETED || st == TASK_FAILED;
}

#define TASK_ID_MAX 128

struct core;

/* Called without any core lock held, from whatever thread made the change
 * (a FUSE handler, the network thread). A hook must not block and must not
 * call back into the core; it queues the work for its own thread. */
struct core_hooks {
	void *ctx;
	/* status/NAME changed, appeared or went away */
	void (*job_changed)(void *ctx, const char *name);
	/* out/ gained, renamed or lost files */
	void (*outputs_changed)(void *ctx);
	/* task seq needs the network: queued to send, or to poll */
	void (*task_ready)(void *ctx, uint64_t seq);
	/* someone wants a fresh balance (credits read with a stale cache) */
	void (*credits_wanted)(void *ctx);
	/* the credits text changed (a fetch finished) */
	void (*credits_changed)(void *ctx);
};

struct core_defaults {
	const char *aspect_ratio;
	const char *resolution;
	bool nsfw_checker;
};

/* Create data_dir (0700) and its layout, take the lock (a second daemon on
 * the same directory gets an error saying so), load the store. NULL with a
 * one-line message in err on failure. */
struct core *core_open(const char *data_dir, const struct core_defaults *def,
		       char *err, size_t errlen);
void core_set_hooks(struct core *c, const struct core_hooks *hooks);
/* daily_budget: credits the tasks this data directory creates in one UTC
 * day may cost; < 0 for none (the default). */
void core_set_daily_budget(struct core *c, double credits);
/* embed_metadata: model names the model in the metadata written into
 * every image stored from now on (embed.h); NULL writes none. model must
 * outlive c. Call before core_start. */
void core_set_embed_metadata(struct core *c, const char *model);
/* After fuse_daemonize forked: the lock file names the daemon's pid. */
void core_note_pid(struct core *c);
/* Announce, through task_ready, every task that needs the network (after a
 * restart: queued ones and ones with a task id). Call once the network
 * thread runs. */
void core_start(struct core *c);
void core_close(struct core *c);
/* This data directory's secret for the callback receiver's path: out
 * receives CORE_CALLBACK_TOKEN_LEN hex digits and a NUL, derived from the
 * store's key, the same at every start. 0, or -ENOMEM. */
#define CORE_CALLBACK_TOKEN_LEN 32
int core_callback_token(struct core *c, char *out);

/* ---- jobs/: the user's files, real files under data_dir ---- */

/* A job's name is its prompt file's path under jobs/ without ".txt": job
 * "a/b/x" is jobs/a/b/x.txt, status/a/b/x, out/a/b/x.png. */
#define CORE_NAME_MAX 1000  /* bytes of a job name, its folders included */
#define CORE_FOLDERS_MAX 16 /* folders below jobs/ (mkdir: ENAMETOOLONG) */
/* A path under jobs/ of a job's file ("a/b/x.opts") fits in this. */
#define CORE_FILE_MAX (CORE_NAME_MAX + 16)

/* Directory fd of the stored jobs/ files (fs/ works on it with *at()). */
int core_jobs_dirfd(const struct core *c);
/* Open path below it, never through a symbolic link, on the way or at the
 * end (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, as the store opens its
 * own files). The descriptor, or -errno. */
int core_jobs_open(struct core *c, const char *path, int flags, mode_t mode);
/* Is filename, a path under jobs/, a prompt file ("a/NAME.txt", neither
 * it nor a folder on its way hidden)? Then copy NAME ("a/NAME"). */
bool core_prompt_name(const char *filename, char *name, size_t namesz);
/* Is a prompt file with this name refused at creation and rename (control
 * characters, '~' which out/ keeps for further and older images, too
 * long for its outputs' names, too deep)? -errno (EINVAL, ENAMETOOLONG),
 * with a log line naming the file and the reason, or 0. A job of such a
 * name found in the store is never sent: its submission fails with
 * invalid_input. */
int core_check_prompt_filename(const char *filename);
/* Could name be a job's or an image's (a relative path of at most
 * CORE_FOLDERS_MAX folders, no empty, ".", ".." or hidden component, no
 * control character)? For what the store read back. */
bool core_name_ok(const char *name);
/* The last component of path ("a/b/x.txt": "x.txt"). */
const char *core_path_base(const char *path);
/* Is name below folder ("a/b/x" is below "a" and "a/b", not "a/b/x")? */
bool core_path_below(const char *name, const char *folder);
/* Does a component of path start with '.' (".git/x", "a/.b")? */
bool core_path_hidden(const char *path);
/* The number of folders in a path under jobs/ ("a/b/x.txt": 2). */
unsigned core_path_depth(const char *path);
/* Does folder path of jobs/ hold a prompt file, at any depth (as it would
 * under a name that is not hidden: hidden folders below it aside)? 1, 0,
 * or -errno (and then it may). */
int core_jobs_folder_has_prompts(struct core *c, const char *path);
/* The read permissions of a job's status/NAME, wait/NAME and images, from
 * the mode of its prompt file at submission (gptimgfs(1), Other users):
 * its read bits, and the owner's always (0600 gives 0400, 0644 0444). */
mode_t core_read_mode(mode_t prompt_mode);
/* What a record or image of an older version, which kept no mode, gets. */
#define CORE_READ_MODE_DEFAULT 0444
/* Submit job NAME from jobs/NAME.txt and its sidecar as they stand now
 * (gptimgfs(1), SUBMISSION): creates a task, unless prompt and options
 * equal those of the job's newest task that was not refused before the API
 * created it, and that task has not failed: then it is the job's current
 * task again. Invalid input makes a failed task with an invalid_input
 * error (nothing is sent). The task record is durable when this returns.
 * 0, or -errno when the store failed. */
int core_submit(struct core *c, const char *name);
/* A handle that changed jobs/NAME.txt is open: until the matching
 * core_write_end, status/NAME exists (even for a new job) and says queued
 * with a note, wait/NAME blocks and status/ lists NAME. Begins and ends
 * are counted; each is announced through job_changed when the count
 * leaves or reaches 0. In memory only. 0, or -ENOMEM. */
int core_write_begin(struct core *c, const char *name);
/* End one begin, after the submission that it was waiting for (so the
 * status goes from queued to the new task's state, never back to the old
 * one in between). */
void core_write_end(struct core *c, const char *name);
/* jobs/NAME.txt went away: forget the job once its task has ended. The
 * last task is remembered out of sight, so that writing the same prompt
 * again (an editor saving by rename and rewrite) brings it back instead of
 * paying for it twice. Tasks never sent, and attempts refused, are
 * dropped. */
void core_prompt_removed(struct core *c, const char *name);

/* ---- status/ and wait/ ---- */

struct core_status_info {
	enum task_state state;
	time_t updated; /* the status's last change */
	mode_t mode;	/* read permissions (core_read_mode) */
};

/* Render status/NAME into out (cleared first). -ENOENT when no such job.
 * info (optional) receives the state and the time of the last change. */
int core_status(struct core *c, const char *name, struct buf *out,
		struct core_status_info *info);
/* Does status/NAME exist (core_status would render it)? */
bool core_job_exists(struct core *c, const char *name);
/* The job names, sorted; a malloc'd array of malloc'd strings. */
char **core_job_names(struct core *c, size_t *count);
/* Is there a job below folder path ("a/b": a job "a/b/...")? */
bool core_job_folder(struct core *c, const char *path);
void core_free_names(char **names, size_t count);
/* The names in out/ of job name's images, once its current task has
 * completed (none before, nor while its prompt file is being written): an
 * array as core_job_names gives; NULL with count 0 when there are none or
 * memory ran out. */
char **core_job_outputs(struct core *c, const char *name, size_t *count);

/* ---- progress ---- */

/* Render the progress file (gptimgfs(1), PROGRESS) into out (cleared
 * first): the jobs by state, credits, throughput and the time left. */
int core_progress(struct core *c, struct buf *out);

/* ---- out/ ---- */

struct core_output {
	char backing[64]; /* file name under core_out_dirfd() */
	uint64_t id;	  /* unique for the life of the data dir */
	off_t size;
	struct timespec mtime; /* completion time */
	mode_t mode;	       /* read permissions (core_read_mode) */
};

int core_out_dirfd(const struct core *c);
/* -ENOENT when out/ has no such file. */
int core_output_find(struct core *c, const char *name, struct core_output *o);
char **core_output_names(struct core *c, size_t *count);
/* Is there an image below folder path of out/ ("a/b": "a/b/...")? */
bool core_output_folder(struct core *c, const char *path);
/* An extended attribute's value: user.gptimgfs.prompt, .task_id, .options,
 * user.xdg.origin.url. -ENOENT (no file), -ENODATA (no attribute). */
int core_output_xattr(struct core *c, const char *name, const char *attr,
		      struct buf *out);
/* The attribute names, each NUL-terminated, as listxattr wants them. */
int core_output_xattr_list(struct core *c, const char *name, struct buf *out);
/* rm out/NAME: deletes the image for good. */
int core_output_unlink(struct core *c, const char *name);

/* ---- credits ---- */

/* The credits file's text. When the cached balance is older than a few
 * seconds this asks for a new one (credits_wanted) and returns -EAGAIN:
 * the caller waits for credits_changed and asks again. */
int core_credits(struct core *c, struct buf *out);
/* The length of the credits text as last known, without asking the API
 * (0 before its first answer): the file's size for stat(2), so that
 * file(1) and the like do not take it for empty. */
size_t core_credits_size(struct core *c);
/* The network's answer: a balance, or an error (code and message). */
void core_credits_update(struct core *c, double balance, const char *code,
			 const char *message);

/* ---- the network's side of a task ---- */

/* A copy of what the network needs to know about a task. */
struct core_task {
	uint64_t seq;
	char *name;
	enum task_state state;
	char *prompt;
	size_t prompt_len;
	struct job_opts opts;
	char task_id[TASK_ID_MAX + 1]; /* "" until known */
	size_t n_urls;		       /* output URLs, once known */
	char *urls[OPTS_MAX_URLS];
	bool stored[OPTS_MAX_URLS]; /* output i already in the store */
	time_t unreached;	    /* see core_task_unreached; 0: none */
};

/* -ENOENT when the task is gone (superseded before it was sent). */
int core_task_get(struct core *c, uint64_t seq, struct core_task *t);
/* core_task_get of only the state, the task id and `unreached` (the rest
 * empty): for a poll, which needs no more, without copying the prompt. */
int core_task_peek(struct core *c, uint64_t seq, struct core_task *t);
void core_task_free(struct core_task *t);

/* Queued -> sending, durably, right before the creation request leaves;
 * its credits are held against the daily budget. -ENOENT: do not send it
 * (the task was dropped, or the budget refused it and it failed). */
int core_task_sending(struct core *c, uint64_t seq);
/* core_task_sending in two halves, so that the records of several
 * creations are written together: _begin moves task seq to sending and
 * queues its record (-ENOENT as above: then no _end); _end writes what is
 * queued, waits for op and returns what core_task_sending would. Between
 * the two the task is held (status/ shows it as it was); every _begin
 * needs its _end, before anything is sent. */
struct record_op;
int core_task_sending_begin(struct core *c, uint64_t seq,
			    struct record_op **op);
int core_task_sending_end(struct core *c, uint64_t seq, struct record_op *op);
/* The API answered that it did not create the task (or nothing was sent):
 * back to queued, with a note for the status file. */
int core_task_requeue(struct core *c, uint64_t seq, const char *note);
/* The creation did not reach the API (nothing was sent): back to queued,
 * durably, with a note. The first such try since the API last answered
 * is recorded, so that the wait for the API is bounded across restarts;
 * *since receives its time. */
int core_task_unreached(struct core *c, uint64_t seq, const char *note,
			time_t *since);
/* A batch of the calling thread's changes (the network thread's, for the
 * answers of one turn of its loop): core_task_created, _progress, _urls,
 * _output, _completed and _failed between the two are recorded together at
 * core_batch_end, which returns
 * once they are on disk and shown (until then status/ shows the tasks as
 * they were); they return 0 or -ENOENT at once. Nothing may depend on
 * their records before core_batch_end: call it before any request that
 * follows from them is sent. */
void core_batch_begin(struct core *c);
void core_batch_end(struct core *c);
/* The API created the task: -> pending with its id, durably. */
int core_task_created(struct core *c, uint64_t seq, const char *task_id);
/* pending / processing, as the API reports it. */
int core_task_progress(struct core *c, uint64_t seq, enum task_state st);
/* A transient problem worth showing in the status (cleared on progress). */
void core_task_note(struct core *c, uint64_t seq, const char *note);
/* The API finished: -> downloading with these URLs, durably. */
int core_task_urls(struct core *c, uint64_t seq, char *const *urls, size_t n);
/* A new temporary file for a download, in DATA_DIR/tmp/ (0600, made
 * without following a link, never an existing file): name receives its
 * name there, one component. Returns an fd opened O_RDWR, or -errno. */
int core_tmpfile(struct core *c, char *name, size_t namesz);
/* Remove the temporary file name (core_tmpfile's) from DATA_DIR/tmp/. */
void core_tmp_unlink(struct core *c, const char *name);
/* Output i of task seq was downloaded whole into the temporary file
 * tmp_name (core_tmpfile's, closed): check that it is an image, choose its
 * extension, move it into the store. The output becomes visible in out/
 * when the task completes. -ENOENT when the task no longer wants it,
 * -EBADMSG when the bytes are not an image, another -errno when the store
 * failed (logged); the temporary file is removed in every case but 0. */
int core_task_output(struct core *c, uint64_t seq, size_t i,
		     const char *tmp_name);
/* Every output is stored: publish them in out/ (moving the outputs they
 * replace to history names) and record the task completed. */
int core_task_completed(struct core *c, uint64_t seq);
/* The task ended without an image. code: the API's error code or a local
 * one (network_error, download_failed, bad_response, ...). For a task
 * being sent, "interrupted" and "bad_response" say the answer was lost and
 * the API may have created and charged it; any other code, that it did
 * not. A task the API has (an id, not downloading) keeps its charge: the
 * API gives back only what it failed itself (core_task_failed_at_api). */
int core_task_failed(struct core *c, uint64_t seq, const char *code,
		     const char *message);
/* The API's answer says the task failed: it gives back what it held. */
int core_task_failed_at_api(struct core *c, uint64_t seq, const char *code,
			    const char *message);

#endif
