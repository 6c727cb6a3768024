/* What downloaded bytes are, from their first bytes: only PNG, JPEG and
 * WebP are images here. Pure functions, shared by the core (which decides)
 * and the network thread (which stops a body that is no image early). */
#ifndef GPTIMGFS_CORE_SNIFF_H
#define GPTIMGFS_CORE_SNIFF_H

#include <stddef.h>

/* Enough first bytes to tell every kind apart. */
#define SNIFF_HEAD 12

/* "png", "jpg" or "webp" when head (the first len bytes of a file, at
 * least SNIFF_HEAD of them unless the file is shorter) starts an image of
 * that kind, else NULL. */
const char *core_sniff_image(const void *head, size_t len);
/* What bytes that are no image look like, for a message: "an empty body",
 * "HTML", "gzip data", ... */
const char *core_sniff_describe(const void *head, size_t len);

#endif
