/* What the simulator needs beyond util/json: UTF-8 checks (json_parse
 * checks the grammar, not the encoding), because the simulator echoes
 * bodies back and must call invalid UTF-8 invalid JSON as a server would. */
#ifndef GPTIMGFS_SIM_JSONCHECK_H
#define GPTIMGFS_SIM_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Is s[0..len) valid UTF-8? (util/utf8's utf8_valid under the name the
 * simulator's request checks use.) */
bool sim_utf8_valid(const char *s, size_t len);
/* Is s[0..len) one JSON value in valid UTF-8? */
bool sim_json_valid(const char *s, size_t len);
/* Append s[0..len) as a JSON string, each invalid UTF-8 byte replaced by
 * U+FFFD. 0, or -1 past the buffer's maximum. */
int sim_json_add_lossy(struct buf *b, const char *s, size_t len);

#endif
