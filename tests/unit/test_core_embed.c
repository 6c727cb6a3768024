/* Metadata embedded in images (gptimgfs(1), OUTPUT, Metadata in the image):
 * the texts, each container's plan (what is added where, what is left
 * alone, what is not a whole file) and the copy that carries a plan out.
 * The e2e test test_metadata checks the daemon's images end to end. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "core/embed.h"

static const struct embed_source cat = { "a cat", 5,	"gpt-image-2", "t-1",
					 "16:9",  "2k", false,	       2 };

static int file_of(const void *data, size_t len)
{
	int fd = memfd_create("embed", 0);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	return fd;
}

/* The plan's verdict for these bytes and that prompt; p is left for the
 * caller. */
static enum embed_verdict plan_with_prompt(const char *ext, const void *data,
					   size_t len, const char *prompt,
					   struct embed_plan *p)
{
	struct embed_source src = cat;
	struct embed_texts t;
	enum embed_verdict v;
	int fd = file_of(data, len);

	src.prompt = prompt;
	src.prompt_len = strlen(prompt);
	if (core_embed_texts(&t, &src) != 0)
		abort();
	core_embed_plan_init(p);
	v = core_embed_plan(ext, fd, (off_t)len, &t, p);
	core_embed_texts_free(&t);
	close(fd);
	return v;
}

static enum embed_verdict plan_of(const char *ext, const void *data, size_t len,
				  struct embed_plan *p)
{
	return plan_with_prompt(ext, data, len, cat.prompt, p);
}

static size_t add_chunk(unsigned char *out, const char *type, const void *data,
			uint32_t len)
{
	uLong crc = crc32(crc32(0L, (const Bytef *)type, 4), data, len);

	out[0] = len >> 24, out[1] = len >> 16, out[2] = len >> 8, out[3] = len;
	memcpy(out + 4, type, 4);
	memcpy(out + 8, data, len);
	out[8 + len] = crc >> 24, out[9 + len] = crc >> 16;
	out[10 + len] = crc >> 8, out[11 + len] = (unsigned char)crc;
	return 12 + len;
}

/* A 1 x 1 PNG with the text chunk `key` (none when NULL) after IHDR. */
static size_t png(unsigned char *out, const char *key)
{
	static const unsigned char ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8 };
	size_t n = 8;

	memcpy(out, "\x89PNG\r\n\x1a\n", 8);
	n += add_chunk(out + n, "IHDR", ihdr, sizeof(ihdr));
	if (key)
		n += add_chunk(out + n, "tEXt", key, (uint32_t)strlen(key) + 1);
	n += add_chunk(out + n, "IDAT", "\x78\x9c\x63\x60\x00\x00", 6);
	n += add_chunk(out + n, "IEND", "", 0);
	return n;
}

static void test_texts(void)
{
	struct embed_source src = cat;
	struct embed_texts t;

	CHECK(core_embed_texts(&t, &src) == 0);
	CHECK_STR(buf_str(&t.parameters),
		  "a cat\nModel: gpt-image-2, Aspect ratio: 16:9, Resolution: "
		  "2k, NSFW checker: false, Reference images: 2, Task id: t-1, "
		  "Generator: gptimgfs " GPTIMGFS_VERSION);
	CHECK(strstr(buf_str(&t.xmp),
		     "<Iptc4xmpExt:AIPromptInformation>a cat<"));
	core_embed_texts_free(&t);
	/* markup escaped; what XML 1.0 cannot hold replaced */
	src.prompt = "<b>&\x01\"\r\n";
	src.prompt_len = 8;
	CHECK(core_embed_texts(&t, &src) == 0);
	CHECK(strstr(buf_str(&t.xmp), ">&lt;b&gt;&amp;\xef\xbf\xbd\"&#xD;\n<"));
	core_embed_texts_free(&t);
	/* no prompt (image URLs only): no prompt property */
	src.prompt_len = 0;
	CHECK(core_embed_texts(&t, &src) == 0);
	CHECK(!strstr(buf_str(&t.xmp), "AIPromptInformation"));
	core_embed_texts_free(&t);
}

static void test_png(void)
{
	unsigned char file[256];
	struct embed_plan p;
	size_t n = png(file, NULL);

	CHECK(plan_of("png", file, n, &p) == EMBED_EDIT);
	CHECK(p.n == 1 && p.edits[0].at == 33 && p.edits[0].cut == 0);
	CHECK(memcmp(p.edits[0].put.data + 4, "tEXtparameters\0a cat", 20) ==
	      0);
	core_embed_plan_free(&p);
	/* a control character other than the line feed: iTXt */
	CHECK(plan_with_prompt("png", file, n, "a\tcat", &p) == EMBED_EDIT);
	CHECK(memcmp(p.edits[0].put.data + 4, "iTXtparameters", 14) == 0);
	core_embed_plan_free(&p);
	/* a parameters chunk of its own: only the XMP */
	n = png(file, "parameters");
	CHECK(plan_of("png", file, n, &p) == EMBED_EDIT);
	CHECK_STR(p.why, "embedded: XMP (iTXt XML:com.adobe.xmp)");
	core_embed_plan_free(&p);
	/* bytes after IEND are copied, not a reason to refuse */
	n = png(file, NULL);
	memcpy(file + n, "junk", 4);
	CHECK(plan_of("png", file, n + 4, &p) == EMBED_EDIT);
	core_embed_plan_free(&p);
	/* cut short, or a length past the end */
	CHECK(plan_of("png", file, n - 1, &p) == EMBED_MALFORMED);
	CHECK_STR(p.why,
		  "not a whole PNG: the chunk at byte 51 is missing or cut "
		  "short (no IEND)");
	file[33] = 0x7f;
	CHECK(plan_of("png", file, n, &p) == EMBED_MALFORMED);
}

static void test_jpeg(void)
{
	static const unsigned char jfif_only[] = {
		0xff, 0xd8, 0xff, 0xe0, 0,    4, 'J', 'F', 0xff, 0xdb,
		0,    3,    0,	  0xff, 0xda, 0, 2,   1,   0xff, 0xd9
	};
	static const unsigned char no_scan[] = { 0xff, 0xd8, 0xff, 0xdb,
						 0,    2,    0xff, 0xd9 };
	static const unsigned char progressive[] = {
		0xff, 0xd8, 0xff, 0xda, 0,    2, 0xff, 0,
		0xff, 0xd3, 7,	  0xff, 0xeb, 0, 4,    'J',
		'P',  0xff, 0xda, 0,	2,    9, 0xff, 0xd9
	};
	struct embed_source big = cat;
	struct embed_texts t;
	struct embed_plan p;
	char *prompt;
	int fd;

	CHECK(plan_of("jpg", jfif_only, sizeof(jfif_only), &p) == EMBED_EDIT);
	CHECK(p.n == 1 && p.edits[0].at == 8); /* after APP0, before DQT */
	core_embed_plan_free(&p);
	CHECK(plan_of("jpg", no_scan, sizeof(no_scan), &p) == EMBED_MALFORMED);
	/* progressive: a C2PA segment after the first scan is seen (its
	 * data holds a stuffed 0xff00 and a restart marker) */
	CHECK(plan_of("jpg", progressive, sizeof(progressive), &p) ==
	      EMBED_KEEP);
	CHECK(strstr(p.why, "APP11") != NULL);
	/* a scan that never ends */
	CHECK(plan_of("jpg", progressive, 18, &p) == EMBED_MALFORMED);
	/* a packet one APP1 segment cannot hold */
	prompt = malloc(70000);
	memset(prompt, 'x', 70000);
	big.prompt = prompt;
	big.prompt_len = 70000;
	CHECK(core_embed_texts(&t, &big) == 0);
	fd = file_of(jfif_only, sizeof(jfif_only));
	core_embed_plan_init(&p);
	CHECK(core_embed_plan_jpeg(fd, sizeof(jfif_only), &t, &p) ==
	      EMBED_KEEP);
	CHECK(strstr(p.why, "bigger than a JPEG APP1 segment holds") != NULL);
	close(fd);
	core_embed_texts_free(&t);
	free(prompt);
}

static void test_webp(void)
{
	/* an extended WebP: VP8X (no flags), then an unknown chunk */
	unsigned char file[] = "RIFF\x1e\0\0\0WEBPVP8X\x0a\0\0\0"
			       "\0\0\0\0\0\0\0\0\0\0ABCD\0\0\0\0";
	struct embed_plan p;
	size_t n = sizeof(file) - 1;

	CHECK(plan_of("webp", file, n, &p) == EMBED_EDIT);
	CHECK(p.n == 3 && p.edits[1].at == 20 && p.edits[1].cut == 1 &&
	      p.edits[1].put.data[0] == 0x04 && p.edits[2].at == (off_t)n);
	core_embed_plan_free(&p);
	memcpy(file + 30, "C2PA", 4);
	CHECK(plan_of("webp", file, n, &p) == EMBED_KEEP);
	CHECK(strstr(p.why, "C2PA chunk") != NULL);
	file[4] = 0x20; /* the RIFF size is not the file's */
	CHECK(plan_of("webp", file, n, &p) == EMBED_MALFORMED);
}

/* WebPs whose header the plan would misplace or make up: refused. */
static void test_webp_refused(void)
{
	/* a VP8X of 0 bytes: byte 20 is the next chunk's name */
	static const unsigned char empty_vp8x[] =
		"RIFF\x18\0\0\0WEBPVP8X\0\0\0\0"
		"ALPH\x04\0\0\0abcd";
	/* a simple WebP with a second chunk; a VP8 chunk too short to say
	 * its size */
	static const unsigned char two[] = "RIFF\x1c\0\0\0WEBPVP8L\x05\0\0\0"
					   "\x2f\0\0\0\0\0ICCP\x02\0\0\0ab";
	static const unsigned char short_vp8[] = "RIFF\x12\0\0\0WEBPVP8 "
						 "\x06\0\0\0\0\0\0\x9d\x01\x2a";
	struct embed_plan p;

	CHECK(plan_of("webp", empty_vp8x, sizeof(empty_vp8x) - 1, &p) ==
	      EMBED_MALFORMED);
	CHECK_STR(p.why, "not a whole WebP: its VP8X chunk is not 10 bytes");
	CHECK(plan_of("webp", two, sizeof(two) - 1, &p) == EMBED_MALFORMED);
	CHECK(plan_of("webp", short_vp8, sizeof(short_vp8) - 1, &p) ==
	      EMBED_MALFORMED);
}

static void test_write(void)
{
	struct embed_plan p;
	char out[64];
	int src = file_of("0123456789", 10), dst = memfd_create("out", 0);

	core_embed_plan_init(&p);
	CHECK(core_embed_plan_add(&p, 0, 0, "<", 1) == 0);
	CHECK(core_embed_plan_add(&p, 4, 2, "ab", 2) == 0);
	CHECK(core_embed_plan_add(&p, 10, 0, ">", 1) == 0);
	CHECK(core_embed_plan_add(&p, 10, 0, "!", 1) == -1); /* full */
	CHECK(core_embed_write(src, 10, dst, &p) == 0);
	memset(out, 0, sizeof(out));
	CHECK(pread(dst, out, sizeof(out), 0) == 12);
	CHECK_STR(out, "<0123ab6789>");
	core_embed_plan_free(&p);
	close(src);
	close(dst);
}

int main(void)
{
	test_texts();
	test_png();
	test_jpeg();
	test_webp();
	test_webp_refused();
	test_write();
	return check_result("test_core_embed");
}
