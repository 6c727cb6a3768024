/* What test_api.c and test_api_task.c share. */
#ifndef GPTIMGFS_API_FIXTURE_H
#define GPTIMGFS_API_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#define ERRLEN 256

/* head, n times unit, tail: a malloc'd string. */
static inline char *repeat(const char *head, const char *unit, size_t n,
			   const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1), *p = s;

	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

#endif
