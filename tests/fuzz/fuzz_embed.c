/* libFuzzer harness: the planners that walk a downloaded image to embed
 * metadata in it (core/embed.h). The first byte picks PNG, JPEG or WebP;
 * the rest is the file. A plan is carried out, and the result must be the
 * input with the edits applied, every other byte unchanged, and must never
 * be planned again: the daemon embeds once, whatever the API sent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/embed.h"

static const char *const exts[] = { "png", "jpg", "webp" };

static int file_of(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	return fd;
}

/* The output is the input with the plan's edits, nothing else. */
static void check_bytes(const uint8_t *in, off_t size, int out,
			const struct embed_plan *p, off_t want)
{
	uint8_t *got = malloc((size_t)want + 1);
	off_t pos = 0, o = 0;
	size_t i;

	if (!got || pread(out, got, (size_t)want + 1, 0) != want)
		abort();
	for (i = 0; i < p->n; i++) {
		const struct embed_edit *e = &p->edits[i];
		size_t keep = (size_t)(e->at - pos);

		if (memcmp(got + o, in + pos, keep) != 0 ||
		    memcmp(got + o + keep, e->put.data, e->put.len) != 0)
			abort();
		o += (off_t)(keep + e->put.len);
		pos = e->at + e->cut;
	}
	if (memcmp(got + o, in + pos, (size_t)(size - pos)) != 0)
		abort();
	free(got);
}

static void check_result(const char *ext, int fd, const uint8_t *in, off_t size,
			 const struct embed_plan *p,
			 const struct embed_texts *t)
{
	struct embed_plan again;
	off_t want = size;
	size_t i;
	int out = file_of(NULL, 0);

	for (i = 0; i < p->n; i++)
		want += (off_t)p->edits[i].put.len - p->edits[i].cut;
	if (core_embed_write(fd, size, out, p) != 0 ||
	    lseek(out, 0, SEEK_END) != want)
		abort();
	check_bytes(in, size, out, p, want);
	core_embed_plan_init(&again);
	if (core_embed_plan(ext, out, want, t, &again) != EMBED_KEEP)
		abort();
	core_embed_plan_free(&again);
	close(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct embed_source src = {
		"a cat & <dog>", 13,   "gpt-image-2", "task-1",
		"auto",		 "1k", true,	      0
	};
	struct embed_texts t;
	struct embed_plan p;
	const char *ext;
	int fd;

	if (size < 1 || core_embed_texts(&t, &src) != 0)
		return 0;
	ext = exts[data[0] % 3];
	fd = file_of(data + 1, size - 1);
	core_embed_plan_init(&p);
	if (core_embed_plan(ext, fd, (off_t)size - 1, &t, &p) == EMBED_EDIT)
		check_result(ext, fd, data + 1, (off_t)size - 1, &p, &t);
	core_embed_plan_free(&p);
	core_embed_texts_free(&t);
	close(fd);
	return 0;
}
