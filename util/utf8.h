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
/* Is s[0..n) valid UTF-8 made only of white space (Unicode White_Space:
 * U+0009-000D, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000) and of the invisible U+200B-200D,
 * U+2060 and U+FEFF? True when n is 0. */
bool utf8_blank(const char *s, size_t n);
/* Must code point cp be replaced in a one-line message (a status file, a
 * log line)? C0 and C1 controls, DEL, the line and paragraph separators
 * U+2028/2029, and the invisible format characters (Unicode category Cf:
 * soft hyphen, bidi controls, zero-width characters, BOM, tags, ...) that
 * could hide or reorder what the message says. */
bool utf8_unsafe(uint32_t cp);

#endif
