/* A growable byte buffer with a hard maximum size: see buf.h. */
#include "buf.h"
#include "debugassert.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_ALLOC 64
/* Debug builds mark an initialised buffer, as curl's dynbuf does: a buffer
 * used before buf_init (stack garbage, or zeroed memory whose max is 0)
 * is a bug that would otherwise show as a spurious E2BIG. */
#define BUF_INIT_MAGIC 0xb0ffe7u
#define BUF_ASSERT_INIT(b) DEBUGASSERT((b)->init == BUF_INIT_MAGIC)

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
#ifndef NDEBUG
	b->init = BUF_INIT_MAGIC;
#endif
}

void buf_free(struct buf *b)
{
	/* zeroed memory never initialised holds nothing to free: allowed */
	DEBUGASSERT(!b->data || b->init == BUF_INIT_MAGIC);
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	BUF_ASSERT_INIT(b);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for add more bytes plus the NUL, doubling the allocation (never
 * beyond max + 1). The content is untouched on failure. */
static int buf_reserve(struct buf *b, size_t add)
{
	size_t need, limit, cap;
	char *p;

	if (add > b->max - b->len || b->len + add == SIZE_MAX) {
		errno = E2BIG;
		return -1;
	}
	need = b->len + add + 1;
	if (need <= b->cap)
		return 0;
	limit = b->max < SIZE_MAX ? b->max + 1 : SIZE_MAX;
	cap = b->cap ? b->cap : BUF_MIN_ALLOC;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > limit)
		cap = limit;
	p = realloc(b->data, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	BUF_ASSERT_INIT(b);
	if (len == 0)
		return 0;
	if (buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list measure;
	int n;

	BUF_ASSERT_INIT(b);
	va_copy(measure, ap);
	n = vsnprintf(NULL, 0, fmt, measure);
	va_end(measure);
	if (n < 0)
		return -1; /* errno set by vsnprintf */
	if (n == 0)
		return 0;
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_detach(struct buf *b)
{
	char *s = b->data;

	BUF_ASSERT_INIT(b);
	if (!s) {
		s = malloc(1);
		if (!s)
			return NULL;
		s[0] = '\0';
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}
