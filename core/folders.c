/* Folders of jobs/ and what they mean elsewhere: a folder of status/ or
 * wait/ holds jobs, one of out/ images (outputs_read.c); a folder of jobs/
 * that holds prompt files cannot be renamed (fs/jobs_folders.c). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "table.h"

bool core_job_folder(struct core *c, const char *path)
{
	bool found = false;
	size_t i;

	core_lock(c);
	for (i = 0; !found && i < c->n_tasks; i++)
		found = core_path_below(c->tasks[i]->name, path) &&
			core_table_visible(c, c->tasks[i]->name) == c->tasks[i];
	found = found || core_writing_below(c, path);
	core_unlock(c);
	return found;
}

int core_jobs_open(struct core *c, const char *path, int flags, mode_t mode)
{
	return core_store_open_file(c->store.jobs_fd, path, flags, mode);
}

static void note_prompt(void *ctx, const char *path)
{
	char name[CORE_FILE_MAX + 1];

	if (core_prompt_name(path, name, sizeof(name)))
		*(bool *)ctx = true;
}

int core_jobs_folder_has_prompts(struct core *c, const char *path)
{
	int fd = core_store_open_file(c->store.jobs_fd, path,
				      O_RDONLY | O_DIRECTORY, 0);
	bool found = false;
	int rc;

	if (fd < 0)
		return fd;
	rc = core_store_walk(fd, CORE_FOLDERS_MAX, note_prompt, &found);
	close(fd);
	return rc < 0 ? rc : found;
}
