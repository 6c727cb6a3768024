/* DEBUGASSERT(cond): an invariant, checked in debug builds (NDEBUG not
 * defined: CMAKE_BUILD_TYPE=Debug, the sanitizer and fuzz builds) and
 * compiled out otherwise, as curl's DEBUGASSERT. cond must have no side
 * effects: a release build never evaluates it. Code after an assertion
 * still handles the case in release builds where that is cheap (a
 * lookup-count underflow is clamped), so an assertion documents a bug
 * rather than replacing the handling. */
#ifndef GPTIMGFS_DEBUGASSERT_H
#define GPTIMGFS_DEBUGASSERT_H

#ifndef NDEBUG
#include <assert.h>
#define DEBUGASSERT(cond) assert(cond)
#else
#define DEBUGASSERT(cond) ((void)0)
#endif

#endif
