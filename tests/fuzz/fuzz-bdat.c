/* Fuzz target for src/smtp/smtp-bdat.c. The input is a little session of
   BDAT chunks: each "BDAT <args>\n" line is parsed by
   smtp_bdat_parse_args() and, when valid, that many following bytes are a
   chunk. The chunks are fed twice, whole and in pieces whose sizes come
   from the input; both runs must agree, take exactly the chunk's octets,
   and never store past the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp-bdat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIZE 1000

/* Feed one chunk of want octets from data (avail bytes there); returns the
   bytes taken. */
static size_t feed_chunk(struct smtp_bdat_reader *r, const uint8_t *data, size_t avail,
                         uint64_t want, int pieces, struct buf *out)
{
	size_t pos = 0, used;
	int done = 0;

	smtp_bdat_chunk(r, want);
	if (want == 0) {
		if (smtp_bdat_feed(r, data, 0, &used, out) != 1 || used != 0)
			abort();
		return 0;
	}
	while (pos < avail && !done) {
		size_t n = pieces ? 1 + data[pos] % 5 : avail - pos;

		if (n > avail - pos)
			n = avail - pos;
		done = smtp_bdat_feed(r, data + pos, n, &used, out);
		if (used > n || (!done && used != n))
			abort();
		pos += used;
	}
	if (done && pos > want)
		abort();
	return pos;
}

struct run {
	struct smtp_bdat_reader r;
	struct buf out;
	size_t chunks;
};

static void run_session(const uint8_t *data, size_t size, int pieces, struct run *o)
{
	size_t pos = 0;
	bool binary = size > 0 && (data[0] & 1);

	memset(o, 0, sizeof(*o));
	smtp_bdat_init(&o->r, MAX_SIZE, binary);
	while (pos < size && o->chunks < 64) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		char line[64];
		size_t llen = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		uint64_t csize;
		bool last;

		if (nl == NULL || llen >= sizeof(line))
			break;
		memcpy(line, data + pos, llen);
		line[llen] = '\0';
		pos += llen + 1;
		if (memchr(line, '\0', llen) != NULL ||
		    smtp_bdat_parse_args(line, &csize, &last) < 0)
			continue;
		if (csize > size - pos)
			csize = size - pos; /* what the input holds */
		pos += feed_chunk(&o->r, data + pos, size - pos, csize, pieces, &o->out);
		o->chunks++;
		if (last) {
			smtp_bdat_finish(&o->r);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;

	run_session(data, size, 0, &a);
	run_session(data, size, 1, &b);
	if (a.chunks != b.chunks || a.r.size != b.r.size || a.out.len != b.out.len ||
	    memcmp(buf_cstr(&a.out), buf_cstr(&b.out), a.out.len) != 0)
		abort();
	if (smtp_bdat_result(&a.r) != smtp_bdat_result(&b.r))
		abort();
	if (a.out.len > MAX_SIZE || a.r.size < a.out.len)
		abort();
	if ((a.r.size > MAX_SIZE) != (smtp_bdat_result(&a.r) == SMTP_DATA_TOO_BIG))
		abort();
	buf_free(&a.out);
	buf_free(&b.out);
	return 0;
}
