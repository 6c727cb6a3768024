/* Metadata that travels with an image (gptimgfs(1), OUTPUT, "Metadata in
 * the image"): the prompt, the options, the model and the task id written
 * into the downloaded file before it is stored, without touching a byte of
 * its picture. embed.c makes the texts and writes the new file;
 * embed_png.c, embed_jpeg.c and embed_webp.c each plan the edits of their
 * container. An image that carries a provenance manifest (C2PA: PNG caBX,
 * JPEG APP11, WebP C2PA) is never edited: a changed byte breaks its
 * signature. */
#ifndef GPTIMGFS_CORE_EMBED_H
#define GPTIMGFS_CORE_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

#define EMBED_EDITS_MAX 3
#define EMBED_WHY_MAX 160
/* what is said of an image: "not embedded: " and a why, or an error */
#define EMBED_NOTE_MAX (EMBED_WHY_MAX + 64)
/* the XMP packet's own limit: a prompt of PROMPT_MAX_CHARS escaped */
#define EMBED_XMP_MAX (512 * 1024)
#define EMBED_PARAMETERS_MAX (256 * 1024)

/* What is written: the AUTOMATIC1111 "parameters" text (the prompt, then
 * one line of "Key: value" pairs) and the XMP packet. */
struct embed_texts {
	struct buf parameters;
	struct buf xmp;
};

/* The task's side of it, copied under the core lock. */
struct embed_source {
	const char *prompt;
	size_t prompt_len;
	const char *model;
	const char *task_id;
	const char *aspect_ratio;
	const char *resolution;
	bool nsfw_checker;
	size_t n_image_urls;
};

/* One edit of the original file: at byte `at`, `cut` bytes are dropped
 * and `put` written instead. */
struct embed_edit {
	off_t at;
	off_t cut;
	struct buf put;
};

/* The edits of one file, by increasing `at`, none overlapping. */
struct embed_plan {
	struct embed_edit edits[EMBED_EDITS_MAX];
	size_t n;
	char why[EMBED_WHY_MAX]; /* what was found: the xattr's sentence */
};

enum embed_verdict {
	EMBED_EDIT,	 /* the plan holds the edits; why says what they add */
	EMBED_KEEP,	 /* nothing to add or nothing allowed: why says which */
	EMBED_MALFORMED, /* the container is not what its signature says */
};

int core_embed_texts(struct embed_texts *t, const struct embed_source *src);
void core_embed_texts_free(struct embed_texts *t);

void core_embed_plan_init(struct embed_plan *p);
void core_embed_plan_free(struct embed_plan *p);
/* Append an edit; -1 when the plan is full or out of memory. */
int core_embed_plan_add(struct embed_plan *p, off_t at, off_t cut,
			const void *put, size_t len);

/* The plan of a file that stays as the API sent it: signed_by names the
 * manifest found (C2PA's "caBX chunk"), NULL when the file holds XMP of
 * its own (`own`: "XMP", "a parameters chunk and XMP"). EMBED_KEEP. */
enum embed_verdict core_embed_keep(struct embed_plan *p, const char *signed_by,
				   const char *own);

/* The planners: fd is the image, size its length. */
enum embed_verdict core_embed_plan_png(int fd, off_t size,
				       const struct embed_texts *t,
				       struct embed_plan *p);
enum embed_verdict core_embed_plan_jpeg(int fd, off_t size,
					const struct embed_texts *t,
					struct embed_plan *p);
enum embed_verdict core_embed_plan_webp(int fd, off_t size,
					const struct embed_texts *t,
					struct embed_plan *p);
/* Dispatch by the extension core_sniff_image gave. */
enum embed_verdict core_embed_plan(const char *ext, int fd, off_t size,
				   const struct embed_texts *t,
				   struct embed_plan *p);

/* len bytes at off, all of them: 0, or -1 (an I/O error or the end). */
int core_embed_read(int fd, off_t off, void *p, size_t len);

/* Copy src (size bytes) to dst with the plan's edits applied. 0 or
 * -errno. */
int core_embed_write(int src, off_t size, int dst, const struct embed_plan *p);

#endif
