/* The smallest test harness that does the job: CHECK records a failure with
 * its location and goes on; a test file's main() returns check_result(). */
#ifndef GPTIMGFS_CHECK_H
#define GPTIMGFS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                            \
	do {                                                                   \
		check_count++;                                                 \
		if (!(cond)) {                                                 \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                \
	do {                                                                \
		const char *check_got_ = (got), *check_want_ = (want);      \
		check_count++;                                              \
		if (!check_got_ || strcmp(check_got_, check_want_) != 0) {  \
			check_failures++;                                   \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__,                         \
				check_got_ ? check_got_ : "(null)",         \
				check_want_);                               \
		}                                                           \
	} while (0)

static inline int check_result(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_count - check_failures,
	       check_failures);
	return check_failures ? 1 : 0;
}

#endif
