/* JPEG: the XMP packet in an APP1 segment named by the XMP namespace, after
 * SOI and the APP0 (JFIF) and Exif APP1 segments that must come first.
 * Every segment is walked, from SOI to EOI, the entropy-coded data of each
 * scan skipped; an APP11 segment (JUMBF, where C2PA keeps its manifest)
 * leaves the file as it is. A JPEG
 * gets no "parameters": AUTOMATIC1111 keeps it in Exif, which would mean
 * rewriting the camera segment. A packet bigger than one APP1 segment
 * holds is not written (Extended XMP, split over segments, is not). */
#include <stdio.h>
#include <string.h>

#include "embed.h"

#define JPEG_XMP_NAME "http://ns.adobe.com/xap/1.0/"
#define JPEG_XMP_NAME_LEN (sizeof(JPEG_XMP_NAME)) /* with its NUL */
#define JPEG_SEGMENT_MAX 65535
#define JPEG_FILL_MAX 64 /* 0xff fill bytes before a marker, at most */

#define M_SOS 0xda
#define M_EOI 0xd9
#define M_APP0 0xe0
#define M_APP1 0xe1
#define M_APP11 0xeb

struct jpeg_found {
	bool provenance;
	bool xmp;
	bool scanned;	 /* a scan was seen */
	off_t insert_at; /* after the leading JFIF and Exif segments */
};

static bool standalone(unsigned char m)
{
	return m == 0x01 || (m >= 0xd0 && m <= 0xd7);
}

/* Segment of marker m, len bytes of length and data, at pos. */
static void note_segment(int fd, off_t pos, unsigned char m, unsigned len,
			 struct jpeg_found *f)
{
	char name[JPEG_XMP_NAME_LEN];
	size_t n = len - 2 < sizeof(name) ? len - 2 : sizeof(name);
	bool exif, leading;

	memset(name, 0, sizeof(name));
	if (m == M_APP1 && core_embed_read(fd, pos + 4, name, n) < 0)
		n = 0;
	exif = m == M_APP1 && n >= 6 && memcmp(name, "Exif\0\0", 6) == 0;
	if (m == M_APP1 && n == sizeof(name) &&
	    memcmp(name, JPEG_XMP_NAME, sizeof(name)) == 0)
		f->xmp = true;
	if (m == M_APP11)
		f->provenance = true;
	leading = m == M_APP0 || exif;
	if (f->insert_at < 0 && !leading)
		f->insert_at = pos;
}

/* The marker that ends the entropy-coded data from pos: the next 0xff not
 * followed by a stuffed 0x00, a fill 0xff or a restart marker; -1 when the
 * file ends first. A progressive JPEG has segments between its scans, and
 * a C2PA manifest among them must be seen. */
static off_t after_scan(int fd, off_t pos, off_t size)
{
	unsigned char block[65536], m;
	size_t n, i;

	while (pos >= 0 && size - pos >= 2) {
		n = (size_t)(size - pos) < sizeof(block) ?
			    (size_t)(size - pos) :
			    sizeof(block);
		if (core_embed_read(fd, pos, block, n) < 0)
			return -1;
		for (i = 0; i + 1 < n; i++) {
			m = block[i + 1];
			if (block[i] == 0xff && m != 0 && m != 0xff &&
			    !(m >= 0xd0 && m <= 0xd7))
				return pos + (off_t)i;
		}
		pos += (off_t)n - 1; /* its last byte again: it may be 0xff */
	}
	return -1;
}

static enum embed_verdict walk(int fd, off_t size, struct jpeg_found *f,
			       char *why)
{
	unsigned char b[4];
	off_t pos = 2;
	unsigned fill = 0, len;

	f->insert_at = -1;
	if (core_embed_read(fd, 0, b, 2) < 0 || b[0] != 0xff || b[1] != 0xd8) {
		snprintf(why, EMBED_WHY_MAX, "no JPEG start of image");
		return EMBED_MALFORMED;
	}
	while (pos >= 0 && size - pos >= 2 &&
	       core_embed_read(fd, pos, b, 2) == 0 && b[0] == 0xff) {
		if (b[1] == 0xff) {
			if (fill++ == JPEG_FILL_MAX)
				break;
			pos++;
			continue;
		}
		if (b[1] == M_EOI && f->scanned)
			return EMBED_EDIT;
		if (b[1] == M_EOI)
			break;
		if (standalone(b[1])) {
			pos += 2;
			continue;
		}
		if (size - pos < 4 || core_embed_read(fd, pos, b, 4) < 0)
			break;
		len = (unsigned)b[2] << 8 | b[3];
		if (len < 2 || len > size - pos - 2)
			break;
		note_segment(fd, pos, b[1], len, f);
		pos += 2 + (off_t)len;
		if (b[1] == M_SOS) {
			f->scanned = true;
			pos = after_scan(fd, pos, size);
		}
		fill = 0;
	}
	snprintf(why, EMBED_WHY_MAX,
		 "not a whole JPEG: no marker at byte %lld, before its end",
		 (long long)(pos < 0 ? size : pos));
	return EMBED_MALFORMED;
}

enum embed_verdict core_embed_plan_jpeg(int fd, off_t size,
					const struct embed_texts *t,
					struct embed_plan *p)
{
	struct jpeg_found f = { 0 };
	enum embed_verdict v = walk(fd, size, &f, p->why);
	size_t len = 2 + JPEG_XMP_NAME_LEN + t->xmp.len;
	unsigned char head[4] = { 0xff, M_APP1, (unsigned char)(len >> 8),
				  (unsigned char)len };
	struct buf put;
	int rc = 0;

	if (v != EMBED_EDIT)
		return v;
	if (f.provenance || f.xmp)
		return core_embed_keep(p, f.provenance ? "APP11 JUMBF" : NULL,
				       "XMP");
	if (len > JPEG_SEGMENT_MAX) {
		snprintf(p->why, EMBED_WHY_MAX,
			 "not embedded: the XMP packet (%zu bytes) is bigger "
			 "than a JPEG APP1 segment holds",
			 t->xmp.len);
		return EMBED_KEEP;
	}
	buf_init(&put, JPEG_SEGMENT_MAX + 2);
	rc |= buf_add(&put, head, sizeof(head));
	rc |= buf_add(&put, JPEG_XMP_NAME, JPEG_XMP_NAME_LEN);
	rc |= buf_add(&put, t->xmp.data, t->xmp.len);
	if (rc == 0)
		rc = core_embed_plan_add(p, f.insert_at, 0, put.data, put.len);
	buf_free(&put);
	snprintf(p->why, EMBED_WHY_MAX, "%s",
		 rc < 0 ? "not embedded: out of memory" :
			  "embedded: XMP (APP1)");
	return rc < 0 ? EMBED_KEEP : EMBED_EDIT;
}
