/* WebP: the XMP packet in an "XMP " chunk at the end of the RIFF file, its
 * flag set in the VP8X header. A simple WebP (one VP8 or VP8L chunk) gets
 * the VP8X header first, with the canvas size and alpha flag its
 * bitstream's header gives. Every chunk is walked; a C2PA chunk leaves the
 * file as it is. The bitstream is copied unchanged. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "embed.h"

#define RIFF_SIZE_MAX 0xfffffffeu
#define VP8X_AT 12
#define VP8X_LEN 10
#define VP8X_FLAG_ALPHA 0x10
#define VP8X_FLAG_XMP 0x04

struct webp_found {
	bool provenance;
	bool xmp;
	bool vp8x;
	uint8_t vp8x_flags;
	unsigned chunks;
	unsigned char first[8]; /* the first chunk's type and size */
	unsigned char bits[10]; /* and its first data bytes */
};

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void note_chunk(int fd, off_t pos, const unsigned char *head,
		       struct webp_found *f)
{
	f->chunks++;
	if (pos == VP8X_AT) {
		memcpy(f->first, head, 8);
		if (core_embed_read(fd, pos + 8, f->bits, sizeof(f->bits)) < 0)
			memset(f->bits, 0, sizeof(f->bits));
		f->vp8x = memcmp(head, "VP8X", 4) == 0;
		f->vp8x_flags = f->bits[0];
	}
	if (memcmp(head, "XMP ", 4) == 0)
		f->xmp = true;
	if (memcmp(head, "C2PA", 4) == 0)
		f->provenance = true;
}

/* The RIFF header and every chunk, which must end exactly at the file's
 * end. */
static enum embed_verdict walk(int fd, off_t size, struct webp_found *f,
			       char *why)
{
	unsigned char head[12];
	off_t pos = VP8X_AT, step;

	if (core_embed_read(fd, 0, head, 12) < 0 ||
	    memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "WEBP", 4) != 0 ||
	    (off_t)le32(head + 4) != size - 8) {
		snprintf(why, EMBED_WHY_MAX,
			 "not a whole WebP: its RIFF size is not the file's");
		return EMBED_MALFORMED;
	}
	while (pos < size) {
		if (size - pos < 8 || core_embed_read(fd, pos, head, 8) < 0)
			break;
		step = 8 + (off_t)le32(head + 4) + (le32(head + 4) & 1);
		if (step > size - pos)
			break;
		note_chunk(fd, pos, head, f);
		pos += step;
	}
	/* the flags are rewritten in place: a VP8X of another size would
	 * have them elsewhere (libwebp refuses it too) */
	if (f->vp8x && le32(f->first + 4) != VP8X_LEN) {
		snprintf(why, EMBED_WHY_MAX,
			 "not a whole WebP: its VP8X chunk is not %d bytes",
			 VP8X_LEN);
		return EMBED_MALFORMED;
	}
	if (pos == size && size > VP8X_AT)
		return EMBED_EDIT;
	snprintf(why, EMBED_WHY_MAX,
		 "not a whole WebP: the chunk at byte %lld is cut short",
		 (long long)pos);
	return EMBED_MALFORMED;
}

/* The VP8X chunk a simple WebP lacks, from the header of its one chunk,
 * a VP8L (signature, 14-bit width and height less one, alpha bit) or a
 * VP8 key frame (start code, 14-bit width and height). */
static int make_vp8x(const struct webp_found *f, unsigned char *out)
{
	const unsigned char *b = f->bits;
	uint32_t w, h, bits, len = le32(f->first + 4);
	bool alpha = false;

	if (f->chunks != 1)
		return -1;
	if (memcmp(f->first, "VP8L", 4) == 0 && len >= 5 && b[0] == 0x2f) {
		bits = le32(b + 1);
		w = (bits & 0x3fff) + 1;
		h = (bits >> 14 & 0x3fff) + 1;
		alpha = bits >> 28 & 1;
	} else if (memcmp(f->first, "VP8 ", 4) == 0 && len >= 10 &&
		   (b[0] & 1) == 0 && b[3] == 0x9d && b[4] == 0x01 &&
		   b[5] == 0x2a) {
		w = (b[6] | (uint32_t)b[7] << 8) & 0x3fff;
		h = (b[8] | (uint32_t)b[9] << 8) & 0x3fff;
	} else {
		return -1;
	}
	if (w == 0 || h == 0)
		return -1;
	memcpy(out, "VP8X", 4);
	put_le(out + 4, VP8X_LEN, 4);
	memset(out + 8, 0, VP8X_LEN);
	out[8] = VP8X_FLAG_XMP | (alpha ? VP8X_FLAG_ALPHA : 0);
	put_le(out + 12, w - 1, 3);
	put_le(out + 15, h - 1, 3);
	return 0;
}

static int plan_edits(off_t size, const struct webp_found *f,
		      const struct embed_texts *t, struct embed_plan *p)
{
	unsigned char vp8x[8 + VP8X_LEN], riff[4], head[8], flags;
	size_t pad = t->xmp.len & 1;
	uint64_t grown = 8 + t->xmp.len + pad + (f->vp8x ? 0 : sizeof(vp8x));
	int rc = 0;

	if (!f->vp8x && make_vp8x(f, vp8x) < 0)
		return -EINVAL;
	if ((uint64_t)size - 8 + grown > RIFF_SIZE_MAX)
		return -EFBIG;
	put_le(riff, (uint32_t)((uint64_t)size - 8 + grown), 4);
	rc |= core_embed_plan_add(p, 4, 4, riff, 4);
	flags = f->vp8x_flags | VP8X_FLAG_XMP;
	if (f->vp8x)
		rc |= core_embed_plan_add(p, VP8X_AT + 8, 1, &flags, 1);
	else
		rc |= core_embed_plan_add(p, VP8X_AT, 0, vp8x, sizeof(vp8x));
	memcpy(head, "XMP ", 4);
	put_le(head + 4, (uint32_t)t->xmp.len, 4);
	rc |= core_embed_plan_add(p, size, 0, head, 8);
	if (rc == 0) {
		struct buf *put = &p->edits[p->n - 1].put;

		rc |= buf_add(put, t->xmp.data, t->xmp.len);
		rc |= buf_add(put, "", pad);
	}
	return rc ? -ENOMEM : 0;
}

enum embed_verdict core_embed_plan_webp(int fd, off_t size,
					const struct embed_texts *t,
					struct embed_plan *p)
{
	struct webp_found f = { 0 };
	enum embed_verdict v = walk(fd, size, &f, p->why);
	int rc;

	if (v != EMBED_EDIT)
		return v;
	if (f.provenance || f.xmp || (f.vp8x && (f.vp8x_flags & VP8X_FLAG_XMP)))
		return core_embed_keep(p, f.provenance ? "C2PA chunk" : NULL,
				       "XMP");
	rc = plan_edits(size, &f, t, p);
	if (rc == -EINVAL) {
		snprintf(p->why, EMBED_WHY_MAX,
			 "not a whole WebP: neither a VP8X header nor one "
			 "VP8 or VP8L chunk");
		return EMBED_MALFORMED;
	}
	if (rc < 0) {
		core_embed_plan_free(p);
		snprintf(p->why, EMBED_WHY_MAX, "not embedded: %s",
			 rc == -EFBIG ? "the file would pass RIFF's 4 GiB" :
					"out of memory");
		return EMBED_KEEP;
	}
	snprintf(p->why, EMBED_WHY_MAX, "embedded: XMP (%s)",
		 f.vp8x ? "XMP chunk" : "XMP chunk, VP8X header added");
	return EMBED_EDIT;
}
