/* A growable byte buffer with a hard maximum size (in the spirit of curl's
 * dynbuf): every append either fits under the maximum or fails, leaving the
 * buffer as it was. The content is always NUL-terminated. */
#ifndef GPTIMGFS_BUF_H
#define GPTIMGFS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated content, NULL while empty */
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the content may never grow beyond this many bytes */
#ifndef NDEBUG
	unsigned init; /* BUF_INIT_MAGIC once buf_init ran (debug builds) */
#endif
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forget the content but keep the allocation. */
void buf_reset(struct buf *b);
/* 0 on success, -1 (errno ENOMEM or E2BIG) when it would exceed max. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* The content as a C string: "" when empty, never NULL. */
const char *buf_str(const struct buf *b);
/* Hand the allocation to the caller (a malloc'd C string, never NULL on
 * success; NULL when out of memory) and leave the buffer empty. */
char *buf_detach(struct buf *b);

#endif
