/* Fuzz target for src/smtp/smtp-header.c: the input is split into header
   section and body twice, whole and in chunks whose sizes come from the
   input itself (both runs must agree); the fields found are iterated and
   filtered as the server does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the last feed result; *body_at_r is where the body starts. */
static int split(const uint8_t *data, size_t size, int chunked, struct smtp_header *h,
                 size_t *body_at_r)
{
	size_t pos = 0, used;
	int ret = 0;

	smtp_header_init(h, 512);
	*body_at_r = size;
	while (pos < size && ret != 1) {
		size_t n = chunked ? 1 + data[pos] % 7 : size - pos;

		if (n > size - pos)
			n = size - pos;
		ret = smtp_header_feed(h, data + pos, n, &used);
		if (used > n || (ret != 1 && used != n))
			abort();
		pos += used;
	}
	if (ret == 1)
		*body_at_r = pos;
	return ret;
}

static void check_fields(const struct smtp_header *h)
{
	struct smtp_header_field f;
	struct buf out = BUF_INIT;
	size_t pos = 0, total = 0;

	while (smtp_header_next(h->fields.data, h->fields.len, &pos, &f) == 1) {
		if (f.raw_len == 0 || f.raw < h->fields.data ||
		    f.raw + f.raw_len > h->fields.data + h->fields.len)
			abort();
		total += f.raw_len;
		(void)smtp_header_field_is(&f, "From");
	}
	if (total != h->fields.len)
		abort();
	(void)smtp_header_filter(h->fields.data, h->fields.len, "mx.example.org", &out);
	if (out.len > h->fields.len)
		abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_header h1, h2;
	size_t b1, b2;
	int r1 = split(data, size, 0, &h1, &b1);
	int r2 = split(data, size, 1, &h2, &b2);

	if (r1 != r2 || b1 != b2 || h1.fields.len != h2.fields.len ||
	    (h1.fields.len > 0 && memcmp(h1.fields.data, h2.fields.data, h1.fields.len) != 0))
		abort();
	check_fields(&h1);
	smtp_header_clear(&h1);
	smtp_header_clear(&h2);
	return 0;
}
