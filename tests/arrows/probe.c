/* One include, PROBE_HEADER (given with -D): check_arrows.cmake compiles
 * this file with one module's flags to learn whether that module may
 * include the header. */
#include PROBE_HEADER
