/* Fuzz the SMTP client's reply parser: the input is fed in chunks whose
   size comes from its first byte; every reply must satisfy the contract
   (a code in 200..599, an enhanced code of the code's class or none, a
   text without CR), and the same input fed whole must give the same
   replies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp-client-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const uint8_t *data, size_t size, size_t step, struct buf *digest)
{
	struct smtp_reply_parser p;
	struct smtp_reply r = {0};
	size_t pos = 0;
	int ret = 0;

	smtp_reply_parser_init(&p);
	while (pos < size && ret >= 0) {
		size_t n = step == 0 || size - pos < step ? size - pos : step;
		size_t off = 0;

		while (off < n) {
			size_t used = 0;
			const char *error;

			ret = smtp_reply_parse(&p, data + pos + off, n - off, &used, &r, &error);
			if (ret < 0)
				break;
			if (used > n - off)
				abort();
			off += used;
			if (ret == 0)
				break;
			if (r.code < 200 || r.code > 599 ||
			    (r.enhanced[0] != '\0' &&
			     r.enhanced[0] != (char)('0' + r.code / 100)) ||
			    memchr(r.text.data != NULL ? r.text.data : "", '\r', r.text.len) !=
			        NULL)
				abort();
			buf_printf(digest, "%u %s %zu;", r.code, r.enhanced, r.text.len);
			buf_append(digest, r.text.data, r.text.len);
		}
		pos += n;
	}
	buf_free(&r.text);
	smtp_reply_parser_free(&p);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t step;
	int ra, rb;

	if (size == 0)
		return 0;
	step = data[0] % 16;
	data++;
	size--;
	ra = parse(data, size, step, &a);
	rb = parse(data, size, 0, &b);
	if ((ra < 0) != (rb < 0) || a.len != b.len ||
	    (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
