/* PNG encoder: signature, IHDR, one IDAT (zlib stream, crc32 from zlib),
 * IEND. The picture is a gradient whose rows differ by a constant, so the
 * filtered rows deflate to almost nothing. */
#include "png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PNG_FILTER_SUB 1
#define PNG_FILTER_UP 2
#define DEFLATE_CHUNK 65536

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int add_chunk(struct buf *out, const char type[4],
		     const unsigned char *data, size_t len)
{
	unsigned char head[8], tail[4];
	uLong crc;

	if (len > 0x7fffffffu)
		return -1;
	put_be32(head, len);
	memcpy(head + 4, type, 4);
	crc = crc32(0L, (const Bytef *)type, 4);
	/* crc32 takes a uInt length: feed big data in pieces */
	for (size_t off = 0; off < len;) {
		size_t n = len - off > 0x40000000u ? 0x40000000u : len - off;

		crc = crc32(crc, data + off, (uInt)n);
		off += n;
	}
	put_be32(tail, crc);
	if (buf_add(out, head, sizeof(head)) < 0 ||
	    buf_add(out, data, len) < 0 || buf_add(out, tail, sizeof(tail)) < 0)
		return -1;
	return 0;
}

/* Row y of the image: red follows x, green follows y, blue and the
 * offsets follow the seed. With noise, every byte is pseudo-random, so the
 * file does not compress (as big as a real photograph or more). */
static void draw_row(unsigned char *px, uint32_t width, uint32_t height,
		     uint32_t y, uint32_t seed, bool noise)
{
	uint64_t state = ((uint64_t)seed << 32 | y) * 0x9e3779b97f4a7c15ULL | 1;

	for (uint32_t x = 0; x < width; x++, px += 3) {
		if (noise) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			memcpy(px, &state, 3);
			continue;
		}
		px[0] = (unsigned char)(seed + (uint64_t)x * 256 / width);
		px[1] = (unsigned char)((seed >> 8) +
					(uint64_t)y * 256 / height);
		px[2] = (unsigned char)(seed >> 16);
	}
}

/* The filtered scanline of row (the filter byte first): Sub for the first
 * row, Up for the others, which makes every later row one repeated byte. */
static void filter_row(unsigned char *out, const unsigned char *row,
		       const unsigned char *prev, size_t len)
{
	out[0] = prev ? PNG_FILTER_UP : PNG_FILTER_SUB;
	for (size_t i = 0; i < len; i++) {
		unsigned char before = prev ? prev[i] : i >= 3 ? row[i - 3] : 0;

		out[1 + i] = (unsigned char)(row[i] - before);
	}
}

/* Drain whatever deflate has produced so far into idat. */
static int deflate_step(z_stream *zs, int flush, struct buf *idat)
{
	unsigned char chunk[DEFLATE_CHUNK];
	int rc;

	do {
		zs->next_out = chunk;
		zs->avail_out = sizeof(chunk);
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
			return -1;
		if (buf_add(idat, chunk, sizeof(chunk) - zs->avail_out) < 0)
			return -1;
	} while (zs->avail_out == 0);
	return flush == Z_FINISH && rc != Z_STREAM_END ? -1 : 0;
}

static int compress_rows(struct buf *idat, uint32_t width, uint32_t height,
			 uint32_t seed, bool noise)
{
	size_t len = (size_t)width * 3;
	unsigned char *rows = malloc(3 * len + 1);
	unsigned char *row = rows, *prev = rows + len, *out = rows + 2 * len;
	z_stream zs;
	int rc = 0;

	if (!rows)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(rows);
		return -1;
	}
	for (uint32_t y = 0; y < height && rc == 0; y++) {
		unsigned char *swap;

		draw_row(row, width, height, y, seed, noise);
		filter_row(out, row, y ? prev : NULL, len);
		zs.next_in = out;
		zs.avail_in = (uInt)(len + 1);
		rc = deflate_step(&zs, Z_NO_FLUSH, idat);
		swap = prev;
		prev = row;
		row = swap;
	}
	if (rc == 0)
		rc = deflate_step(&zs, Z_FINISH, idat);
	deflateEnd(&zs);
	free(rows);
	return rc;
}

int sim_png_encode(struct buf *out, uint32_t width, uint32_t height,
		   uint32_t seed, bool noise)
{
	static const unsigned char signature[8] = { 0x89, 'P',	'N',  'G',
						    '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13];
	struct buf idat;
	int rc;

	if (width < 1 || height < 1 || width > SIM_PNG_MAX_SIDE ||
	    height > SIM_PNG_MAX_SIDE)
		return -1;
	put_be32(ihdr, width);
	put_be32(ihdr + 4, height);
	ihdr[8] = 8;  /* bits per sample */
	ihdr[9] = 2;  /* colour type: RGB */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering */
	ihdr[12] = 0; /* no interlace */
	buf_init(&idat, out->max);
	rc = compress_rows(&idat, width, height, seed, noise);
	if (rc == 0)
		rc = buf_add(out, signature, sizeof(signature));
	if (rc == 0)
		rc = add_chunk(out, "IHDR", ihdr, sizeof(ihdr));
	if (rc == 0)
		rc = add_chunk(out, "IDAT", (const unsigned char *)idat.data,
			       idat.len);
	if (rc == 0)
		rc = add_chunk(out, "IEND", NULL, 0);
	buf_free(&idat);
	return rc;
}
