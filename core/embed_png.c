/* PNG: a "parameters" text chunk (tEXt when the text is ASCII, iTXt
 * otherwise) and the XMP packet (iTXt "XML:com.adobe.xmp"), both right
 * after IHDR, where readers that stop at the pixels still see them. Every
 * chunk is walked first: one the file cannot hold is a malformed file, and
 * a caBX chunk (a C2PA manifest) leaves the file as it is. IDAT and every
 * other chunk are copied unchanged. CRCs with zlib. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "embed.h"

#define PNG_SIGNATURE "\x89PNG\r\n\x1a\n"
#define PNG_CHUNK_MAX 0x7fffffffu
#define PNG_KEYWORD_MAX 79
#define PNG_IHDR_END (8 + 8 + 13 + 4)
#define KEY_PARAMETERS "parameters"
#define KEY_XMP "XML:com.adobe.xmp"

/* What the walk found. */
struct png_found {
	bool provenance;
	bool parameters;
	bool xmp;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static bool type_is(const unsigned char *type, const char *want)
{
	return memcmp(type, want, 4) == 0;
}

static bool type_ok(const unsigned char *type)
{
	for (int i = 0; i < 4; i++) {
		unsigned char ch = type[i] | 0x20;

		if (ch < 'a' || ch > 'z')
			return false;
	}
	return true;
}

/* The keyword of a text chunk of len bytes at pos, into key (NUL-ended;
 * "" when it has none). */
static void read_keyword(int fd, off_t pos, uint32_t len, char *key)
{
	size_t n = len < PNG_KEYWORD_MAX + 1 ? len : PNG_KEYWORD_MAX + 1;

	key[0] = '\0';
	if (core_embed_read(fd, pos + 8, key, n) < 0 || !memchr(key, '\0', n))
		key[0] = '\0';
}

static void note_chunk(int fd, off_t pos, const unsigned char *head,
		       struct png_found *f)
{
	const unsigned char *type = head + 4;
	char key[PNG_KEYWORD_MAX + 1];

	if (type_is(type, "caBX"))
		f->provenance = true;
	if (!type_is(type, "tEXt") && !type_is(type, "iTXt") &&
	    !type_is(type, "zTXt"))
		return;
	read_keyword(fd, pos, be32(head), key);
	if (strcmp(key, KEY_PARAMETERS) == 0)
		f->parameters = true;
	if (type_is(type, "iTXt") && strcmp(key, KEY_XMP) == 0)
		f->xmp = true;
}

/* Every chunk from the signature to IEND: EMBED_EDIT when the file is a
 * whole PNG (bytes after IEND are left where they are). */
static enum embed_verdict walk(int fd, off_t size, struct png_found *f,
			       char *why)
{
	unsigned char head[8];
	off_t pos = 8;
	uint32_t len;

	if (core_embed_read(fd, 0, head, 8) < 0 ||
	    memcmp(head, PNG_SIGNATURE, 8) != 0) {
		snprintf(why, EMBED_WHY_MAX, "no PNG signature");
		return EMBED_MALFORMED;
	}
	for (;;) {
		if (size - pos < 12 || core_embed_read(fd, pos, head, 8) < 0)
			break;
		len = be32(head);
		if (len > PNG_CHUNK_MAX || len > size - pos - 12 ||
		    !type_ok(head + 4))
			break;
		if (pos == 8 && (!type_is(head + 4, "IHDR") || len != 13))
			break;
		note_chunk(fd, pos, head, f);
		if (type_is(head + 4, "IEND"))
			return EMBED_EDIT;
		pos += 12 + (off_t)len;
	}
	snprintf(why, EMBED_WHY_MAX,
		 "not a whole PNG: the chunk at byte %lld is %s",
		 (long long)pos,
		 pos == 8	 ? "not IHDR" :
		 size - pos < 12 ? "missing or cut short (no IEND)" :
				   "cut short or not a chunk");
	return EMBED_MALFORMED;
}

static int add_chunk(struct buf *b, const char *type, const char *key,
		     bool itxt, const struct buf *text)
{
	/* iTXt after the keyword: not compressed, method 0, no language,
	 * no translated keyword */
	static const unsigned char itxt_flags[4] = { 0, 0, 0, 0 };
	size_t keylen = strlen(key) + 1, start = b->len;
	size_t len = keylen + (itxt ? sizeof(itxt_flags) : 0) + text->len;
	unsigned char word[4];
	uLong crc;
	int rc = 0;

	put_be32(word, (uint32_t)len);
	rc |= buf_add(b, word, 4);
	rc |= buf_add(b, type, 4);
	rc |= buf_add(b, key, keylen);
	if (itxt)
		rc |= buf_add(b, itxt_flags, sizeof(itxt_flags));
	rc |= buf_add(b, text->data, text->len);
	if (rc)
		return -1;
	crc = crc32(0L, (const Bytef *)b->data + start + 4, (uInt)(len + 4));
	put_be32(word, (uint32_t)crc);
	return buf_add(b, word, 4);
}

/* Can text go in a tEXt chunk? Latin-1 without control characters but
 * the line feed; ASCII only here, so that it reads the same as UTF-8. */
static bool plain_ascii(const struct buf *text)
{
	for (size_t i = 0; i < text->len; i++) {
		unsigned char ch = (unsigned char)text->data[i];

		if ((ch < 0x20 && ch != '\n') || ch >= 0x7f)
			return false;
	}
	return true;
}

enum embed_verdict core_embed_plan_png(int fd, off_t size,
				       const struct embed_texts *t,
				       struct embed_plan *p)
{
	struct png_found f = { 0 };
	enum embed_verdict v = walk(fd, size, &f, p->why);
	bool ascii = plain_ascii(&t->parameters);
	struct buf put;
	int rc = 0;

	if (v != EMBED_EDIT)
		return v;
	if (f.provenance || (f.parameters && f.xmp))
		return core_embed_keep(p, f.provenance ? "caBX chunk" : NULL,
				       "a parameters chunk and XMP");
	buf_init(&put, EMBED_XMP_MAX + EMBED_PARAMETERS_MAX + 128);
	if (!f.parameters)
		rc |= add_chunk(&put, ascii ? "tEXt" : "iTXt", KEY_PARAMETERS,
				!ascii, &t->parameters);
	if (!f.xmp)
		rc |= add_chunk(&put, "iTXt", KEY_XMP, true, &t->xmp);
	if (rc == 0)
		rc = core_embed_plan_add(p, PNG_IHDR_END, 0, put.data, put.len);
	buf_free(&put);
	if (rc < 0) {
		snprintf(p->why, EMBED_WHY_MAX, "not embedded: out of memory");
		return EMBED_KEEP;
	}
	snprintf(p->why, EMBED_WHY_MAX, "embedded: %s%s%s",
		 f.parameters ? "" :
		 ascii	      ? "parameters (tEXt)" :
				"parameters (iTXt)",
		 !f.parameters && !f.xmp ? ", " : "",
		 f.xmp ? "" : "XMP (iTXt XML:com.adobe.xmp)");
	return EMBED_EDIT;
}
