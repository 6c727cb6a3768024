/* What a create request asks for: the body of POST /v1/images/generations
 * checked exactly as doc/api.md documents it, the image size and price it
 * implies, and the test directives hidden in its prompt. */
#ifndef GPTIMGFS_SIM_CREATE_H
#define GPTIMGFS_SIM_CREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PROMPT_MAX_CHARS 20000
#define SIM_URLS_MAX 16

struct sim_create {
	char *prompt; /* decoded, "" when absent */
	size_t n_urls;
	int ratio_w, ratio_h; /* "auto" is 1:1 */
	uint32_t long_side;   /* 1024, 2048 or 4096 */
	int64_t price;	      /* milli-credits */
	bool nsfw_checker;
	char *callback_url; /* NULL when absent */
};

struct sim_create_error {
	unsigned status;
	const char *code;
	char message[256];
};

/* 0, or -1 with the status, code and message to answer. */
int sim_create_parse(struct sim_create *c, const char *body, size_t len,
		     struct sim_create_error *err);
void sim_create_free(struct sim_create *c);

/* The image size: the long side scaled, the short one by the ratio, each
 * at least 1 pixel. */
void sim_image_size(const struct sim_create *c, double scale, uint32_t *w,
		    uint32_t *h);

/* What the file URLs of a task serve instead of its images. */
enum sim_nonimage {
	SIM_IMAGE,	    /* its images */
	SIM_NONIMAGE_HTML,  /* <html>expired</html> */
	SIM_NONIMAGE_ZEROS, /* 4096 zero bytes */
	SIM_NONIMAGE_GZIP,  /* a gzip stream */
};

/* Test directives in a prompt (see daemon/sim_main.c's --help):
 * [sim:fail=CODE] [sim:outputs=N] [sim:nonimage] [sim:nonimage=KIND]
 * [sim:noise] [sim:url=URL]. */
#define SIM_URL_MAX 256
struct sim_directives {
	char fail_code[64]; /* "" unless [sim:fail=CODE] */
	int outputs;	    /* 1 unless [sim:outputs=N], N in 1..4 */
	enum sim_nonimage nonimage;
	bool noise;
	char output_url[SIM_URL_MAX]; /* "" unless [sim:url=URL] */
};

void sim_directives_parse(const char *prompt, struct sim_directives *d);

#endif
