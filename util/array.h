/* Growable arrays with a hard maximum, the element-wise sibling of buf.h
 * (and, like it, in the spirit of curl's dynbuf): every array states the
 * most elements it may ever hold, so a runaway count fails cleanly instead
 * of overflowing a size or eating the memory. The caller keeps its typed
 * pointer, count and capacity; array_reserve only makes room. */
#ifndef GPTIMGFS_ARRAY_H
#define GPTIMGFS_ARRAY_H

#include <stddef.h>

/* Room for one more element in v, an allocation of *cap elements of size
 * bytes of which n are in use: v itself while n < *cap, else v moved into
 * an allocation twice as large (16 elements at first, never beyond max)
 * with *cap updated. NULL, errno ENOMEM or E2BIG (n is max already), when
 * it cannot: v and *cap are then untouched and v still the caller's. */
void *array_reserve(void *v, size_t n, size_t *cap, size_t size, size_t max);

#endif
