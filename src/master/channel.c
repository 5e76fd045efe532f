/* The channel codec: see channel.h. */
#include "master/channel.h"

#include <string.h>

/* Longest queue id (CHANNEL_MESSAGE_QUEUED). */
#define QUEUE_ID_MAX 64

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool channel_name_valid(const unsigned char *data, size_t len)
{
	if (len == 0 || len > CHANNEL_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		/* Bytes >= 0x80 are let through (UTF-8 local parts, RFC 6531);
		   what a user name may be is the directory's business. */
		if (data[i] <= 0x20 || data[i] == 0x7f)
			return false;
	}
	return true;
}

static bool queue_id_valid(const unsigned char *data, size_t len)
{
	if (len == 0 || len > QUEUE_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = data[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool metrics_valid(const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((data[i] < 0x20 && data[i] != '\n') || data[i] == 0x7f)
			return false;
	}
	return true;
}

/* Is payload valid for type? Returns NULL, or the static reason. */
static const char *payload_check(unsigned type, const unsigned char *p, size_t len)
{
	if (len > CHANNEL_MAX_PAYLOAD)
		return "payload too long";
	switch (type) {
	case CHANNEL_MAILBOX_CHANGED:
		return channel_name_valid(p, len) ? NULL : "bad user in mailbox-changed";
	case CHANNEL_MESSAGE_QUEUED:
		return queue_id_valid(p, len) ? NULL : "bad queue id in message-queued";
	case CHANNEL_RELOAD:
		return len == 0 ? NULL : "reload takes no payload";
	case CHANNEL_METRICS:
		return metrics_valid(p, len) ? NULL : "bad bytes in metrics";
	default:
		return "unknown message type";
	}
}

int channel_encode(struct buf *out, enum channel_type type, const void *payload, size_t len,
                   const char **error_r)
{
	unsigned char h[CHANNEL_HEADER_SIZE];
	const char *why = payload_check(type, payload, len);

	if (why != NULL) {
		*error_r = why;
		return -1;
	}
	h[0] = (unsigned char)(len >> 24);
	h[1] = (unsigned char)(len >> 16);
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	h[4] = (unsigned char)((unsigned)type >> 8);
	h[5] = (unsigned char)type;
	h[6] = 0;
	h[7] = 0;
	buf_append(out, h, sizeof(h));
	if (len > 0)
		buf_append(out, payload, len);
	return 0;
}

void channel_decoder_init(struct channel_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void channel_decoder_free(struct channel_decoder *d)
{
	buf_free(&d->in);
	d->pos = 0;
}

void channel_decoder_feed(struct channel_decoder *d, const void *data, size_t len)
{
	if (d->error != NULL || len == 0)
		return;
	/* Drop what was handed out before growing, so the buffer holds at most
	   one partial message plus the new chunk. */
	if (d->pos > 0) {
		buf_consume(&d->in, d->pos);
		d->pos = 0;
	}
	buf_append(&d->in, data, len);
}

static int decoder_fail(struct channel_decoder *d, const char *why, const char **error_r)
{
	d->error = why;
	*error_r = why;
	return -1;
}

int channel_decoder_next(struct channel_decoder *d, struct channel_msg *msg_r, const char **error_r)
{
	const unsigned char *p;
	size_t avail = d->in.len - d->pos;
	uint32_t len;
	uint16_t type;
	const char *why;

	if (d->error != NULL)
		return decoder_fail(d, d->error, error_r);
	if (avail < CHANNEL_HEADER_SIZE)
		return 0; /* also before the first byte: in.data may be NULL */
	p = (const unsigned char *)d->in.data + d->pos;
	len = get_u32(p);
	type = get_u16(p + 4);
	/* Header faults are reported before the payload arrives, so a bad
	   length cannot make us wait for (or buffer) gigabytes. */
	if (len > CHANNEL_MAX_PAYLOAD)
		return decoder_fail(d, "payload too long", error_r);
	if (get_u16(p + 6) != 0)
		return decoder_fail(d, "non-zero flags", error_r);
	if (type < CHANNEL_TYPE_FIRST || type > CHANNEL_TYPE_LAST)
		return decoder_fail(d, "unknown message type", error_r);
	if (avail - CHANNEL_HEADER_SIZE < len)
		return 0;
	p += CHANNEL_HEADER_SIZE;
	why = payload_check(type, p, len);
	if (why != NULL)
		return decoder_fail(d, why, error_r);
	msg_r->type = (enum channel_type)type;
	msg_r->payload = p;
	msg_r->len = len;
	msg_r->name = NULL;
	if (type == CHANNEL_MAILBOX_CHANGED || type == CHANNEL_MESSAGE_QUEUED) {
		memcpy(d->name, p, len); /* len <= CHANNEL_MAX_NAME, checked above */
		d->name[len] = '\0';
		msg_r->name = d->name;
	}
	d->pos += CHANNEL_HEADER_SIZE + len;
	return 1;
}
