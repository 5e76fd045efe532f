/* Fuzz the milter reply decoder (filter/milter-codec.h): the input is fed
   in chunks whose size comes from its first byte, then whole; both must
   give the same replies (command and field sizes) and the same end, and
   every reply's strings must be NUL-terminated inside the packet. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/milter-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void digest_reply(struct buf *digest, const struct milter_reply *r)
{
	buf_printf(digest, "%c %u %u %zu %zu %zu %u;", r->cmd, r->code, r->index,
	           r->name != NULL ? strlen(r->name) : 0, r->value != NULL ? strlen(r->value) : 0,
	           r->len, r->version);
	if (r->cmd == SMFIR_REPLYCODE && (r->code < 400 || r->code > 599 || r->text == NULL))
		abort();
}

static int decode(const uint8_t *data, size_t size, size_t step, struct buf *digest)
{
	struct milter_decoder d = {0};
	size_t pos = 0;
	int ret = 0;

	/* bounded: each round consumes bytes or ends */
	while (pos < size && ret >= 0) {
		size_t n = step == 0 || size - pos < step ? size - pos : step, used;
		struct milter_reply r;
		const char *error;

		ret = milter_decoder_feed(&d, data + pos, n, &used, &r, &error);
		if (used > n || (ret == 0 && used != n))
			abort();
		pos += used;
		if (ret > 0)
			digest_reply(digest, &r);
	}
	milter_decoder_clear(&d);
	buf_printf(digest, "end %d", ret < 0 ? -1 : 0);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t step;

	if (size == 0)
		return 0;
	step = (size_t)(data[0] % 16) + 1;
	decode(data + 1, size - 1, step, &a);
	decode(data + 1, size - 1, 0, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
