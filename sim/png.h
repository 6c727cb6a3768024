/* A small PNG encoder for the simulator's images: 8-bit RGB, a gradient
 * whose colours follow a seed, so that different tasks give different bytes
 * while the files stay small (the rows deflate to almost nothing); or, for
 * benchmarks, noise that does not compress. */
#ifndef GPTIMGFS_SIM_PNG_H
#define GPTIMGFS_SIM_PNG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define SIM_PNG_MAX_SIDE 16384

/* Append the PNG of a width x height image (1..SIM_PNG_MAX_SIDE each) to
 * out. 0 on success, -1 when out of memory or past out's maximum. */
int sim_png_encode(struct buf *out, uint32_t width, uint32_t height,
		   uint32_t seed, bool noise);

#endif
