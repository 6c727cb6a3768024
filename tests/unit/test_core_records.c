/* The record queue's batches (core/records.c): what is queued while no
 * flush runs is written as one batch. A record written twice in a batch
 * lands once with the later bytes and both writers see its result; a
 * removal keeps its place (nothing written after it lands before it); a
 * queue longer than a batch is written whole; the syncs are one for the
 * data of the batch and one a folder, not one a file. syncfs, fsync and
 * fdatasync are counted here. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "core/internal.h" /* white box: the queue, the lock */
#include "core/table.h"
#include "core_fixture.h"

static unsigned n_syncfs, n_fsync, n_fdatasync;

int syncfs(int fd)
{
	n_syncfs++;
	return (int)syscall(SYS_syncfs, fd);
}

int fsync(int fd)
{
	n_fsync++;
	return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	n_fdatasync++;
	return (int)syscall(SYS_fdatasync, fd);
}

static void count_reset(void)
{
	n_syncfs = n_fsync = n_fdatasync = 0;
}

/* The bytes of DATA/sub/file, or "" when it is missing. */
static const char *read_at(struct fx *f, const char *sub, const char *file)
{
	static char text[65536];
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s/%s", f->data, sub, file);
	fp = fopen(path, "r");
	if (!fp)
		return "";
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return text;
}

static void queue_plain(struct core *c, const char *file, const char *text)
{
	struct buf b;

	buf_init(&b, 1024);
	CHECK(buf_add(&b, text, strlen(text)) == 0);
	core_write_later(c, c->store.dir_fd, file, &b);
	buf_free(&b);
}

/* Two saves of one task in a batch: the later bytes, written once; both
 * waiters see success. */
static void test_superseded_record(void)
{
	struct record_op *first, *second;
	struct task *t;
	struct fx f;
	uint64_t seq;
	char file[64];

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	seq = fx_submit(&f, "cat", "a cat");
	core_lock(f.c);
	t = core_table_find(f.c, seq);
	CHECK(t != NULL);
	t->updated = 1111111111;
	first = core_task_save_later(f.c, t, true);
	t->updated = 1222222222;
	second = core_task_save_later(f.c, t, false);
	core_unlock(f.c);
	count_reset();
	CHECK(core_record_wait(f.c, first) == 0);
	CHECK(core_record_wait(f.c, second) == 0);
	/* one file written: synced on its own, its folder once (durable:
	 * the first save asked for it) */
	CHECK(n_fdatasync == 1 && n_syncfs == 0 && n_fsync == 1);
	snprintf(file, sizeof(file), "%016" PRIu64 ".json", seq);
	CHECK(strstr(read_at(&f, "records", file), "1222222222") != NULL);
	CHECK(fx_reopen(&f));
	CHECK_STR(fx_first_line(&f, "cat"), "queued");
	fx_close(&f);
}

/* write, remove, write again: the file is there with the second bytes;
 * write then remove: it is gone. */
static void test_removal_keeps_its_place(void)
{
	struct record_op *rm;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	core_lock(f.c);
	queue_plain(f.c, "a.txt", "one");
	rm = core_delete_later(f.c, f.c->store.dir_fd, "a.txt");
	CHECK(rm != NULL);
	queue_plain(f.c, "a.txt", "two");
	queue_plain(f.c, "b.txt", "one");
	core_unlock(f.c);
	core_record_flush(f.c);
	core_lock(f.c);
	CHECK(f.c->ops_head == NULL);
	core_unlock(f.c);
	/* an awaited op: its waiter reads its result and frees it */
	CHECK(core_record_wait(f.c, rm) == 0);
	CHECK_STR(read_at(&f, ".", "a.txt"), "two");
	CHECK_STR(read_at(&f, ".", "b.txt"), "one");
	core_lock(f.c);
	queue_plain(f.c, "b.txt", "two");
	rm = core_delete_later(f.c, f.c->store.dir_fd, "b.txt");
	core_unlock(f.c);
	CHECK(core_record_wait(f.c, rm) == 0);
	CHECK_STR(read_at(&f, ".", "b.txt"), "");
	CHECK(access(f.data, F_OK) == 0);
	fx_close(&f);
}

/* More records queued than a batch takes: every one is written, with one
 * data sync a batch, not one a file. */
static void test_long_queue(void)
{
	enum { N = 2500 };
	char name[32], text[32];
	struct fx f;
	unsigned i, missing = 0;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	core_lock(f.c);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%u.txt", i);
		snprintf(text, sizeof(text), "text %u", i);
		queue_plain(f.c, name, text);
	}
	core_unlock(f.c);
	count_reset();
	core_record_flush(f.c);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%u.txt", i);
		snprintf(text, sizeof(text), "text %u", i);
		missing += strcmp(read_at(&f, ".", name), text) != 0;
	}
	CHECK(missing == 0);
	CHECK(n_fdatasync == 0);
	CHECK(n_syncfs >= 2 && n_syncfs <= 4);
	CHECK(n_fsync == 0); /* plain files: atomic, not durable */
	fx_close(&f);
}

int main(void)
{
	test_superseded_record();
	test_removal_keeps_its_place();
	test_long_queue();
	return check_result("test_core_records");
}
