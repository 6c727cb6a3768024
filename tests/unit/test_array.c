/* util/array.c: room for one more, doubling, the hard maximum. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "util/array.h"

static void test_grow(void)
{
	int *v = NULL, *grown;
	size_t n = 0, cap = 0, i;
	int ok = 1;

	for (i = 0; i < 1000 && ok; i++) {
		grown = array_reserve(v, n, &cap, sizeof(*v), 1000);
		ok = grown != NULL && cap > n;
		if (grown) {
			v = grown;
			v[n++] = (int)i;
		}
	}
	CHECK(ok && n == 1000 && cap == 1000);
	for (i = 0; i < n && ok; i++)
		ok = v[i] == (int)i;
	CHECK(ok);
	/* with room left, the same allocation comes back */
	cap = 2000;
	grown = array_reserve(v, n, &cap, sizeof(*v), 4000);
	CHECK(grown == v && cap == 2000);
	free(v);
}

static void test_max(void)
{
	int *v = NULL, *grown;
	size_t cap = 0;

	grown = array_reserve(v, 0, &cap, sizeof(*v), 3);
	CHECK(grown != NULL && cap == 3); /* never beyond max */
	v = grown;
	errno = 0;
	CHECK(array_reserve(v, 3, &cap, sizeof(*v), 3) == NULL &&
	      errno == E2BIG && cap == 3);
	free(v);
}

static void test_overflow(void)
{
	char *v = NULL;
	size_t cap = (SIZE_MAX / 16) / 2 + 1;

	/* the doubled size would not fit a size_t: refused, v untouched */
	errno = 0;
	CHECK(array_reserve(v, cap, &cap, 16, SIZE_MAX) == NULL &&
	      errno == ENOMEM);
}

int main(void)
{
	test_grow();
	test_max();
	test_overflow();
	return check_result("test_array");
}
