/* The texts embedded in images and the copy that writes them: see embed.h.
 * The XMP packet is written here, not with exempi: it is five properties
 * in a fixed layout, and exempi would parse and rewrite the whole image
 * (bytes from the network) in C++ inside a daemon that often runs as root,
 * without knowing the PNG "parameters" chunk or C2PA at all. */
#include "embed.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "util/debugassert.h"
#include "util/utf8.h"

#define COPY_CHUNK (1 << 20)

#define XMP_HEAD                                                               \
	"<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n" \
	"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"                             \
	" <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/"                     \
	"22-rdf-syntax-ns#\">\n"                                               \
	"  <rdf:Description rdf:about=\"\"\n"                                  \
	"    xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/"             \
	"2008-02-29/\"\n"                                                      \
	"    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"                     \
	"    xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"                 \
	"   <Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/"      \
	"digitalsourcetype/trainedAlgorithmicMedia"                            \
	"</Iptc4xmpExt:DigitalSourceType>\n"
#define XMP_TAIL                 \
	"  </rdf:Description>\n" \
	" </rdf:RDF>\n"          \
	"</x:xmpmeta>\n"         \
	"<?xpacket end=\"w\"?>"

/* Text as XML character data: the markup characters escaped, and what XML
 * 1.0 cannot hold at all (C0 controls but tab, newline and return; U+FFFE,
 * U+FFFF) replaced by U+FFFD; a return as a reference, kept by parsers. s is valid UTF-8 (core_prompt_check). */
static int add_xml_text(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;
	int rc = 0;

	while (i < len && rc == 0) {
		n = utf8_char(p + i, len - i, &cp);
		if (n == 0) /* not UTF-8 after all: one byte replaced */
			n = 1, cp = 0xfffd;
		if (cp == '&')
			rc = buf_addstr(b, "&amp;");
		else if (cp == '<')
			rc = buf_addstr(b, "&lt;");
		else if (cp == '>')
			rc = buf_addstr(b, "&gt;");
		else if (cp == '\r') /* a parser makes a raw one a '\n' */
			rc = buf_addstr(b, "&#xD;");
		else if ((cp < 0x20 && cp != '\t' && cp != '\n' &&
			  cp != '\r') ||
			 cp == 0xfffe || cp == 0xffff || cp == 0xfffd)
			rc = buf_addstr(b, "\xef\xbf\xbd");
		else
			rc = buf_add(b, p + i, n);
		i += n;
	}
	return rc;
}

static int add_xmp_property(struct buf *b, const char *name, const char *v,
			    size_t len)
{
	int rc = 0;

	if (len == 0)
		return 0;
	rc |= buf_printf(b, "   <%s>", name);
	rc |= add_xml_text(b, v, len);
	rc |= buf_printf(b, "</%s>\n", name);
	return rc;
}

static int make_xmp(struct buf *b, const struct embed_source *src)
{
	const char *tool = "gptimgfs " GPTIMGFS_VERSION;
	int rc = 0;

	rc |= buf_addstr(b, XMP_HEAD);
	rc |= add_xmp_property(b, "Iptc4xmpExt:AISystemUsed", src->model,
			       strlen(src->model));
	rc |= add_xmp_property(b, "Iptc4xmpExt:AIPromptInformation",
			       src->prompt, src->prompt_len);
	rc |= add_xmp_property(b, "xmp:CreatorTool", tool, strlen(tool));
	rc |= add_xmp_property(b, "dc:identifier", src->task_id,
			       strlen(src->task_id));
	rc |= buf_addstr(b, XMP_TAIL);
	return rc;
}

/* AUTOMATIC1111's layout: the prompt, then one line of "Key: value"
 * pairs (the values hold no comma: they are words the options allow). */
static int make_parameters(struct buf *b, const struct embed_source *src)
{
	int rc = 0;

	rc |= buf_add(b, src->prompt, src->prompt_len);
	rc |= buf_printf(b, "\nModel: %s, Aspect ratio: %s, Resolution: %s",
			 src->model, src->aspect_ratio, src->resolution);
	rc |= buf_printf(b, ", NSFW checker: %s",
			 src->nsfw_checker ? "true" : "false");
	if (src->n_image_urls)
		rc |= buf_printf(b, ", Reference images: %zu",
				 src->n_image_urls);
	rc |= buf_printf(b, ", Task id: %s, Generator: gptimgfs %s",
			 src->task_id, GPTIMGFS_VERSION);
	return rc;
}

int core_embed_texts(struct embed_texts *t, const struct embed_source *src)
{
	buf_init(&t->parameters, EMBED_PARAMETERS_MAX);
	buf_init(&t->xmp, EMBED_XMP_MAX);
	if (make_parameters(&t->parameters, src) < 0 ||
	    make_xmp(&t->xmp, src) < 0) {
		core_embed_texts_free(t);
		return -ENOMEM;
	}
	return 0;
}

void core_embed_texts_free(struct embed_texts *t)
{
	buf_free(&t->parameters);
	buf_free(&t->xmp);
}

void core_embed_plan_init(struct embed_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void core_embed_plan_free(struct embed_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		buf_free(&p->edits[i].put);
	p->n = 0;
}

int core_embed_plan_add(struct embed_plan *p, off_t at, off_t cut,
			const void *put, size_t len)
{
	struct embed_edit *e;

	if (p->n == EMBED_EDITS_MAX)
		return -1;
	e = &p->edits[p->n];
	DEBUGASSERT(p->n == 0 ||
		    at >= p->edits[p->n - 1].at + p->edits[p->n - 1].cut);
	e->at = at;
	e->cut = cut;
	buf_init(&e->put, EMBED_XMP_MAX + 64);
	if (buf_add(&e->put, put, len) < 0) {
		buf_free(&e->put);
		return -1;
	}
	p->n++;
	return 0;
}

enum embed_verdict core_embed_keep(struct embed_plan *p, const char *signed_by,
				   const char *own)
{
	if (signed_by)
		snprintf(p->why, sizeof(p->why),
			 "not embedded: the image carries a C2PA manifest "
			 "(%s) and is byte-identical to the API's",
			 signed_by);
	else
		snprintf(p->why, sizeof(p->why),
			 "not embedded: the image has %s of its own", own);
	return EMBED_KEEP;
}

enum embed_verdict core_embed_plan(const char *ext, int fd, off_t size,
				   const struct embed_texts *t,
				   struct embed_plan *p)
{
	if (strcmp(ext, "png") == 0)
		return core_embed_plan_png(fd, size, t, p);
	if (strcmp(ext, "jpg") == 0)
		return core_embed_plan_jpeg(fd, size, t, p);
	return core_embed_plan_webp(fd, size, t, p);
}

int core_embed_read(int fd, off_t off, void *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p = (char *)p + n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes [from, to) of src appended to dst: copy_file_range (a reflink or
 * an in-kernel copy on most file systems), read and write where it is not
 * offered. */
static int copy_range(int src, off_t from, off_t to, int dst)
{
	char bounce[65536];
	ssize_t n;
	int rc;

	while (from < to) {
		size_t want = (size_t)(to - from) < COPY_CHUNK ?
				      (size_t)(to - from) :
				      COPY_CHUNK;

		n = copy_file_range(src, &from, dst, NULL, want, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return -EIO; /* src shrank under us */
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return -errno;
		/* no in-kernel copy here */
		want = want < sizeof(bounce) ? want : sizeof(bounce);
		n = pread(src, bounce, want, from);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		rc = core_store_write_all(dst, bounce, (size_t)n);
		if (rc < 0)
			return rc;
		from += n;
	}
	return 0;
}

int core_embed_write(int src, off_t size, int dst, const struct embed_plan *p)
{
	off_t pos = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < p->n && rc == 0; i++) {
		const struct embed_edit *e = &p->edits[i];

		DEBUGASSERT(e->at >= pos && e->at + e->cut <= size);
		rc = copy_range(src, pos, e->at, dst);
		if (rc == 0)
			rc = core_store_write_all(dst, e->put.data, e->put.len);
		pos = e->at + e->cut;
	}
	if (rc == 0)
		rc = copy_range(src, pos, size, dst);
	return rc;
}
