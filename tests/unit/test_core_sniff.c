/* out/: what the downloaded bytes are (core/sniff.c): an image is
 * published with its type's extension; other bytes fail the download,
 * described. */
#include "core_fixture.h"
#include "core/sniff.h"

/* A task NAME in downloading with one URL; bytes downloaded as its output.
 * *seq receives the task. */
static int download_as(struct fx *f, const char *name, const char *url,
		       const void *bytes, size_t len, uint64_t *seq, char *tmp,
		       size_t tmpsz)
{
	char prompt[64];

	snprintf(prompt, sizeof(prompt), "a picture called %s", name);
	*seq = fx_submit(f, name, prompt);
	if (!*seq || fx_send(f, *seq, name) < 0 ||
	    core_task_urls(f->c, *seq, (char *[]){ (char *)url }, 1) < 0)
		return -EINVAL;
	return fx_download(f, *seq, 0, bytes, len, tmp, tmpsz);
}

/* A string literal's bytes, NULs included, and their count. */
#define BYTES(s) s, sizeof(s) - 1

static void test_sniff(void)
{
	static const struct {
		const char *name, *url, *bytes;
		size_t len;
		const char *out; /* NULL: not an image */
	} cases[] = {
		{ "page", "https://cdn.example/a.png",
		  BYTES("<!DOCTYPE html>\n<html><body>403</body></html>\n"),
		  NULL },
		{ "body", "https://cdn.example/a.png",
		  BYTES("{\"error\":\"expired\"}"), NULL },
		{ "empty", "https://cdn.example/a.png", BYTES(""), NULL },
		/* only PNG, JPEG and WebP are images; the URL's extension
		 * chooses nothing */
		{ "anim", "https://cdn.example/x/anim.GIF?sig=ab.c",
		  BYTES("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff"), NULL },
		{ "blob", "https://cdn.example/v1.dir/blob",
		  BYTES("\x01\x02\x03\x00\xfe"), NULL },
		{ "zeros", "https://cdn.example/z.png",
		  BYTES("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), NULL },
		{ "gz", "https://cdn.example/setup.exe",
		  BYTES("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), NULL },
		{ "riff", "https://cdn.example/a.webp",
		  BYTES("RIFF\x24\x00\x00\x00WAVEfmt "), NULL },
		{ "photo", "https://cdn.example/photo.png",
		  BYTES("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "photo.jpg" },
		{ "web", "https://cdn.example/web.exe",
		  BYTES("RIFF\x24\x00\x00\x00WEBPVP8 "), "web.webp" },
		{ "pic", "https://cdn.example/pic.exe",
		  BYTES("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "pic.png" },
	};
	char tmp[512], want[64];
	struct fx f;
	uint64_t seq;
	size_t i;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = download_as(&f, cases[i].name, cases[i].url,
				     cases[i].bytes, cases[i].len, &seq, tmp,
				     sizeof(tmp));

		if (!cases[i].out) {
			/* an error page is not an image: refused, and the
			 * download is gone */
			CHECK(rc == -EBADMSG);
			CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
			CHECK_STR(fx_first_line(&f, cases[i].name),
				  "downloading");
			continue;
		}
		CHECK(rc == 0);
		CHECK(core_task_completed(f.c, seq) == 0);
		CHECK(core_output_find(f.c, cases[i].out,
				       &(struct core_output){ 0 }) == 0);
		snprintf(want, sizeof(want), "out/%s", cases[i].out);
		CHECK_STR(fx_value(fx_status(&f, cases[i].name), "outputs"),
			  want);
	}
	CHECK(fx_entries(&f, "tmp") == 0);
	CHECK(fx_n_outputs(&f) == 3);

	/* a download for a task that is not downloading is dropped */
	CHECK(fx_download(&f, seq, 0, fx_png, FX_PNG_LEN, tmp, sizeof(tmp)) ==
	      -ENOENT);
	CHECK(access(tmp, F_OK) < 0);
	CHECK(fx_entries(&f, "tmp") == 0);
	fx_close(&f);
}

/* What bytes that are no image look like, for download_failed. */
static void test_sniff_describe(void)
{
	CHECK_STR(core_sniff_describe(BYTES("")), "an empty body");
	CHECK_STR(core_sniff_describe(BYTES("\x1f\x8b\x08\x00")), "gzip data");
	CHECK_STR(core_sniff_describe(BYTES("\0\0\0\0")), "only NUL bytes");
	CHECK_STR(core_sniff_describe(BYTES("MZ\x90\x00")), "a program");
	CHECK_STR(core_sniff_describe(BYTES("\x7f"
					    "ELF\x02")),
		  "a program");
	CHECK_STR(core_sniff_describe(BYTES("PK\x03\x04")), "a zip archive");
	CHECK_STR(core_sniff_describe(BYTES("GIF89a")),
		  "a GIF image, which is not accepted");
	CHECK_STR(core_sniff_describe(BYTES(" \n<html>")), "HTML or XML");
	CHECK_STR(core_sniff_describe(BYTES("{\"error\":1}")), "JSON");
	CHECK_STR(core_sniff_describe(BYTES("Forbidden")), "text");
	CHECK_STR(core_sniff_describe(BYTES("\x01\x02\x00\xfe")),
		  "binary data");
	/* short heads of images are no images */
	CHECK(core_sniff_image(BYTES("\x89PNG")) == NULL);
	CHECK(core_sniff_image(BYTES("RIFF\0\0\0\0WEB")) == NULL);
	CHECK_STR(core_sniff_image(BYTES("\xff\xd8\xff")), "jpg");
}

int main(void)
{
	test_sniff();
	test_sniff_describe();
	return check_result("test_core_sniff");
}
