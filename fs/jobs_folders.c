/* The folders of jobs/ (gptimgfs(1), FOLDERS): stored directories under
 * DATA_DIR/jobs, made and removed by mkdir and rmdir, at most
 * CORE_FOLDERS_MAX deep. A name is a job or a folder, never both (status/a
 * could not be both), and a folder that holds prompt files is not renamed:
 * every prompt would be submitted again under its new name, and paid. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

/* path for a log line: quoted, as a folder name may hold a newline */
static const char *quoted(struct buf *b, const char *path)
{
	buf_init(b, 8 * PATH_MAX);
	if (json_add_cstr(b, path) < 0)
		return "(a path too long to show)";
	return buf_str(b);
}

/* A folder named like an image (x.png) would be both a folder and an
 * image of out/ (job x's): -EINVAL, logged; else 0. */
static int image_like(const char *path)
{
	static const char *const exts[] = { ".png", ".jpg", ".webp" };
	const char *base = core_path_base(path);
	size_t len = strlen(base), i;
	struct buf q;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t elen = strlen(exts[i]);

		if (len > elen && strcmp(base + len - elen, exts[i]) == 0) {
			log_warn("jobs/: folder %s refused: out/ shows images "
				 "under names ending in %s",
				 quoted(&q, path), exts[i]);
			buf_free(&q);
			return -EINVAL;
		}
	}
	return 0;
}

void fs_jobs_mkdir(fuse_req_t req, const char *path, mode_t mode)
{
	struct fs *fs = fs_of(req);
	struct stat st;
	int rc = 0;

	if (core_path_depth(path) + 1 > CORE_FOLDERS_MAX) {
		struct buf q;

		log_warn("jobs/: folder %s not made: folders in jobs/ go %d "
			 "deep at most",
			 quoted(&q, path), CORE_FOLDERS_MAX);
		buf_free(&q);
		rc = -ENAMETOOLONG;
	}
	if (rc == 0)
		rc = fs_jobs_name_clash(fs, path, true);
	if (rc == 0 && fs_jobs_mkdirat(fs, path, mode & FS_JOBS_MODE_BITS) < 0)
		rc = -errno;
	if (rc == 0 && fs_jobs_statat(fs, path, &st) < 0)
		rc = -errno;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_jobs_reply_entry(req, path, &st, NULL);
}

void fs_jobs_rmdir(fuse_req_t req, const char *path)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n;

	if (fs_jobs_unlinkat(fs, path, AT_REMOVEDIR) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	pthread_mutex_lock(&fs->nodes_lock);
	n = fs_node_by_name(fs, AREA_JOBS, path);
	if (n)
		fs_node_detach(fs, n);
	pthread_mutex_unlock(&fs->nodes_lock);
	fs_folder_gone(fs, path);
	fuse_reply_err(req, 0);
}

static int clash(const char *path, const char *what)
{
	struct buf q;

	log_warn("jobs/: %s refused: %s, and status/ and wait/ cannot hold "
		 "a job and a folder of one name",
		 quoted(&q, path), what);
	buf_free(&q);
	return -EEXIST;
}

int fs_jobs_name_clash(struct fs *fs, const char *path, bool folder)
{
	char job[CORE_NAME_MAX + 1], file[PATH_MAX];
	struct stat st;

	if (folder) {
		int rc = image_like(path);

		if (rc < 0)
			return rc;
		snprintf(file, sizeof(file), "%s.txt", path);
		if (core_prompt_name(file, job, sizeof(job)) &&
		    (fs_jobs_statat(fs, file, &st) == 0 ||
		     core_job_exists(fs->core, job)))
			return clash(path, "a job of that name exists");
		return 0;
	}
	if (!core_prompt_name(path, job, sizeof(job)))
		return 0;
	if (fs_jobs_is_folder(fs, job) || core_job_folder(fs->core, job))
		return clash(path, "a folder of that name exists");
	return 0;
}

int fs_jobs_folder_movable(struct fs *fs, const char *path, const char *newpath)
{
	int rc;
	struct buf q, nq;

	/* from hidden to hidden: no prompt file either side */
	if (core_path_hidden(path) && core_path_hidden(newpath))
		return 0;
	rc = core_jobs_folder_has_prompts(fs->core, path);
	if (rc == 0)
		return 0;
	log_warn("jobs/: folder %s not renamed to %s: it holds prompt "
		 "files, and each would be submitted again under its new name "
		 "(and paid for); move the files themselves",
		 quoted(&q, path), quoted(&nq, newpath));
	buf_free(&q);
	buf_free(&nq);
	return -EPERM;
}
