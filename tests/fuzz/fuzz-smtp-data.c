/* Fuzz target for src/smtp/smtp-data.c: the input is fed twice, whole and
   in chunks whose sizes come from the input itself; both runs must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp-data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int feed(const uint8_t *data, size_t size, int chunked, size_t *consumed_r, struct buf *out,
                struct smtp_data_decoder *d)
{
	size_t pos = 0, used;
	int ended = 0;

	smtp_data_init(d, 1000);
	while (pos < size && !ended) {
		size_t n = chunked ? 1 + data[pos] % 7 : size - pos;

		if (n > size - pos)
			n = size - pos;
		ended = smtp_data_feed(d, data + pos, n, &used, out);
		if (used > n || (!ended && used != n))
			abort();
		pos += used;
	}
	*consumed_r = pos;
	return ended;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_decoder d1, d2;
	struct buf o1 = BUF_INIT, o2 = BUF_INIT;
	size_t c1, c2;
	int e1 = feed(data, size, 0, &c1, &o1, &d1);
	int e2 = feed(data, size, 1, &c2, &o2, &d2);

	if (e1 != e2 || c1 != c2 || o1.len != o2.len ||
	    memcmp(buf_cstr(&o1), buf_cstr(&o2), o1.len))
		abort();
	if (o1.len > 1000 || d1.size < o1.len)
		abort();
	if (smtp_data_result(&d1) != smtp_data_result(&d2))
		abort();
	/* the end is only ever CRLF.CRLF (the first CRLF may be the DATA line's) */
	if (e1 && (c1 < 3 || memcmp(data + c1 - 3, ".\r\n", 3) != 0))
		abort();
	if (e1 && c1 > 3 && memcmp(data + c1 - 5, "\r\n", 2) != 0)
		abort();
	buf_free(&o1);
	buf_free(&o2);
	return 0;
}
