/* util/buf.c: growth, the hard maximum, NUL termination, detach. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/buf.h"

static void test_empty(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 100);
	CHECK(b.data == NULL && b.len == 0);
	CHECK_STR(buf_str(&b), "");
	CHECK(buf_add(&b, "", 0) == 0);
	CHECK(b.len == 0);
	s = buf_detach(&b); /* an empty buffer still gives a string */
	CHECK_STR(s, "");
	free(s);
	buf_free(&b);
}

static void test_add_and_grow(void)
{
	struct buf b;
	size_t i;
	int ok = 1;

	buf_init(&b, 1 << 20);
	CHECK(buf_addstr(&b, "hello") == 0);
	CHECK(buf_add(&b, ", world!!", 7) == 0);
	CHECK_STR(buf_str(&b), "hello, world");
	CHECK(b.len == 12 && b.cap > b.len);
	/* Many appends: the content stays right and NUL-terminated. */
	for (i = 0; i < 10000 && ok; i++) {
		ok = buf_add(&b, "0123456789", 10) == 0 &&
		     b.len == 12 + 10 * (i + 1) && b.data[b.len] == '\0' &&
		     b.cap > b.len;
	}
	CHECK(ok);
	CHECK(memcmp(b.data + 12 + 9990, "0123456789", 10) == 0);
	/* Growth is by doubling: the allocation is a power-of-two multiple of
	 * the first one, not len + 1. */
	CHECK(b.cap >= b.len + 1 && b.cap < 2 * (b.len + 1));
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_binary(void)
{
	struct buf b;

	buf_init(&b, 16);
	CHECK(buf_add(&b, "a\0b", 3) == 0);
	CHECK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0);
	buf_free(&b);
}

static void test_max(void)
{
	struct buf b;
	char big[100];

	memset(big, 'x', sizeof(big));
	buf_init(&b, 10);
	CHECK(buf_add(&b, big, 10) == 0);  /* exactly max fits */
	CHECK(b.len == 10 && b.cap == 11); /* never more than max + 1 */
	errno = 0;
	CHECK(buf_add(&b, "y", 1) == -1);
	CHECK(errno == E2BIG);
	CHECK(b.len == 10 && b.data[10] == '\0'); /* unchanged */
	buf_reset(&b);
	CHECK(b.len == 0 && b.data && b.cap == 11); /* allocation kept */
	CHECK_STR(buf_str(&b), "");
	errno = 0;
	CHECK(buf_add(&b, big, 11) == -1 && errno == E2BIG);
	CHECK(b.len == 0);
	CHECK(buf_add(&b, big, 4) == 0 && buf_add(&b, big, 6) == 0);
	CHECK(buf_add(&b, big, 1) == -1);
	/* A huge length must not wrap around the check. */
	CHECK(buf_add(&b, big, SIZE_MAX) == -1 && errno == E2BIG);
	CHECK(b.len == 10);
	buf_free(&b);

	buf_init(&b, 0); /* a buffer that may hold nothing */
	CHECK(buf_add(&b, "a", 1) == -1 && errno == E2BIG);
	CHECK(buf_add(&b, "", 0) == 0);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
}

static void test_printf(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 32);
	CHECK(buf_printf(&b, "%d-%s", 42, "x") == 0);
	CHECK(buf_printf(&b, "%s", "") == 0);
	CHECK(buf_printf(&b, "|%05.1f", 4.7) == 0);
	CHECK_STR(buf_str(&b), "42-x|004.7");
	/* 10 + 23 = 33 > 32: refused as a whole, nothing appended. */
	errno = 0;
	CHECK(buf_printf(&b, "%023d", 1) == -1 && errno == E2BIG);
	CHECK_STR(buf_str(&b), "42-x|004.7");
	CHECK(buf_printf(&b, "%022d", 1) == 0); /* exactly 32 */
	CHECK(b.len == 32 && b.data[32] == '\0');
	s = buf_detach(&b);
	CHECK(s && strlen(s) == 32);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 32);
	free(s);
	/* Reusable after detach. */
	CHECK(buf_printf(&b, "%s", "again") == 0);
	CHECK_STR(buf_str(&b), "again");
	buf_free(&b);
}

static void test_big_printf(void)
{
	struct buf b;
	char *big = malloc(100001);

	memset(big, 'z', 100000);
	big[100000] = '\0';
	buf_init(&b, 200002);
	CHECK(buf_printf(&b, "<%s>", big) == 0);
	CHECK(buf_printf(&b, "<%s>", big) == -1); /* 200004 > max */
	CHECK(b.len == 100002 && b.data[0] == '<' && b.data[100001] == '>');
	CHECK(buf_printf(&b, "%s", big) == 0 && b.len == 200002);
	buf_free(&b);
	free(big);
}

int main(void)
{
	test_empty();
	test_add_and_grow();
	test_binary();
	test_max();
	test_printf();
	test_big_printf();
	return check_result("test_buf");
}
