/* UTF-8 decoding: the one strict decoder the daemon and the simulator share
 * (prompt checks, messages quoted into status files, echoed bodies). */
#ifndef GPTIMGFS_CORE_UTF8_H
#define GPTIMGFS_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 character at s (n > 0 bytes left), 0 when it is
 * not valid: no overlong forms, no surrogates, nothing above U+10FFFF, not
 * cut short by the end of s. *cp (optional) receives the code point. */
size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp);
/* Is s[0..n) valid UTF-8? */
bool utf8_valid(const char *s, size_t n);

#endif
