/* Fuzz the channel decoder: the input is fed in chunks whose sizes come from
   its first byte, and every message decoded is checked against the
   contract (length bound, a valid type, a name that re-encodes to the same
   bytes); the same input fed whole must give the same messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode data in chunks of step bytes (step 0: all at once); append a
   digest of each message to out. Returns the decoder's final result. */
static int decode(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error;
	size_t pos = 0;
	int ret = 0;

	channel_decoder_init(&d);
	while (ret >= 0) {
		size_t n = step == 0 || size - pos < step ? size - pos : step;

		channel_decoder_feed(&d, data + pos, n);
		pos += n;
		while ((ret = channel_decoder_next(&d, &msg, &error)) == 1) {
			struct buf again = BUF_INIT;

			if (msg.len > CHANNEL_MAX_PAYLOAD || msg.type < CHANNEL_TYPE_FIRST ||
			    msg.type > CHANNEL_TYPE_LAST)
				abort();
			if (msg.name != NULL && strlen(msg.name) != msg.len)
				abort();
			/* What decodes must encode back. */
			if (channel_encode(&again, msg.type, msg.payload, msg.len, &error) < 0 ||
			    again.len != CHANNEL_HEADER_SIZE + msg.len)
				abort();
			buf_append(out, again.data, again.len);
			buf_free(&again);
		}
		if (pos == size)
			break;
	}
	channel_decoder_free(&d);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t step;
	int ra, rb;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	ra = decode(data, size, step, &a);
	rb = decode(data, size, 0, &b);
	/* Chunking changes nothing: same messages, same verdict; and the
	   messages are exactly a prefix of the input. */
	if (ra != rb || a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	if (a.len > size || (a.len > 0 && memcmp(a.data, data, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
