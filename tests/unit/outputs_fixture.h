/* What the test_core_outputs*.c files share: finding an out/ name by
 * pattern. */
#ifndef GPTIMGFS_OUTPUTS_FIXTURE_H
#define GPTIMGFS_OUTPUTS_FIXTURE_H

#include "core_fixture.h"

#define HIST(name, ext) "^" name "~" FX_STAMP "(-[0-9]+)?\\." ext "$"

/* The one output name matching pattern, in a static buffer; "" if not
 * exactly one. */
static inline const char *output_matching(struct fx *f, const char *pattern)
{
	static char found[256];
	char **names;
	size_t i, n, hits = 0;

	found[0] = '\0';
	names = core_output_names(f->c, &n);
	for (i = 0; i < n; i++) {
		if (fx_matches(names[i], pattern)) {
			snprintf(found, sizeof(found), "%s", names[i]);
			hits++;
		}
	}
	core_free_names(names, n);
	if (hits != 1)
		found[0] = '\0';
	return found;
}

#endif
