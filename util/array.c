/* Growable arrays with a hard maximum: see array.h. */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "debugassert.h"

#define ARRAY_MIN_ALLOC 16

void *array_reserve(void *v, size_t n, size_t *cap, size_t size, size_t max)
{
	size_t grown;

	DEBUGASSERT(n <= *cap && size > 0);
	if (n < *cap)
		return v;
	if (n >= max) {
		errno = E2BIG;
		return NULL;
	}
	grown = *cap ? (*cap > max / 2 ? max : *cap * 2) : ARRAY_MIN_ALLOC;
	if (grown > max)
		grown = max;
	if (grown > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	v = realloc(v, grown * size);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	*cap = grown;
	return v;
}
