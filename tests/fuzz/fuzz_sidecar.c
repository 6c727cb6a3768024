/* libFuzzer harness: the sidecar parsers and the prompt rules
 * (core/opts.h). The first byte picks the .opts (even) or the .json (odd)
 * parser; the rest is the sidecar text, and also the prompt file's bytes
 * for core_prompt_check. Whatever parses is validated, copied and serialized,
 * as a submission would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/opts.h"
#include "util/buf.h"

static void use_options(const struct job_opts *o, size_t prompt_len)
{
	struct job_opts copy;
	struct buf json;
	char err[512];

	core_opts_validate(o, prompt_len, "jobs/f.txt", "jobs/f.opts", err,
			   sizeof(err));
	core_opts_price(o);
	if (core_opts_copy(&copy, o) == 0)
		core_opts_free(&copy);
	buf_init(&json, 64 * 1024);
	core_opts_to_json(o, &json);
	buf_free(&json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_opts o;
	char err[512], *text;
	size_t len, plen = 0;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	text = malloc(len ? len : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, len);
	core_opts_init(&o, "auto", "1k", true);
	if (data[0] & 1)
		rc = core_opts_parse_json(&o, "jobs/f.json", text, len, err,
					  sizeof(err));
	else
		rc = core_opts_parse_ini(&o, "jobs/f.opts", text, len, err,
					 sizeof(err));
	if (core_prompt_check("jobs/f.txt", text, len, &plen, err,
			      sizeof(err)) == 0 &&
	    plen > len)
		abort();
	if (rc == 0)
		use_options(&o, plen);
	core_opts_free(&o);
	free(text);
	return 0;
}
