/* The milter protocol codec (milter-codec.h). */

#include "filter/milter-codec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_u32(struct buf *out, uint32_t v)
{
	uint32_t n = htonl(v);

	buf_append(out, &n, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The packet's header with room for len data bytes. */
static void begin(struct buf *out, char cmd, size_t len)
{
	put_u32(out, (uint32_t)(len + 1));
	buf_append_char(out, cmd);
}

static void put_str(struct buf *out, const char *s)
{
	buf_append(out, s != NULL ? s : "", strlen(s != NULL ? s : "") + 1);
}

static size_t str_size(const char *s)
{
	return (s != NULL ? strlen(s) : 0) + 1;
}

void milter_encode_packet(struct buf *out, char cmd, const void *data, size_t len)
{
	begin(out, cmd, len);
	buf_append(out, data, len);
}

void milter_encode_simple(struct buf *out, char cmd)
{
	begin(out, cmd, 0);
}

void milter_encode_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol)
{
	begin(out, SMFIC_OPTNEG, 12);
	put_u32(out, version);
	put_u32(out, actions);
	put_u32(out, protocol);
}

void milter_encode_macro(struct buf *out, char cmd, const char *const *names,
                         const char *const *values, size_t count)
{
	size_t len = 1;

	for (size_t i = 0; i < count; i++)
		len += str_size(names[i]) + str_size(values[i]);
	begin(out, SMFIC_MACRO, len);
	buf_append_char(out, cmd);
	for (size_t i = 0; i < count; i++) {
		put_str(out, names[i]);
		put_str(out, values[i]);
	}
}

void milter_encode_connect(struct buf *out, const char *hostname, char family, uint16_t port,
                           const char *address)
{
	bool known = family != 'U';
	size_t len = str_size(hostname) + 1 + (known ? 2 + str_size(address) : 0);
	uint16_t nport = htons(port);

	begin(out, SMFIC_CONNECT, len);
	put_str(out, hostname);
	buf_append_char(out, family);
	if (known) {
		buf_append(out, &nport, 2);
		put_str(out, address);
	}
}

void milter_encode_helo(struct buf *out, const char *helo)
{
	begin(out, SMFIC_HELO, str_size(helo));
	put_str(out, helo);
}

void milter_encode_args(struct buf *out, char cmd, const char *const *args, size_t count)
{
	size_t len = 0;

	for (size_t i = 0; i < count; i++)
		len += str_size(args[i]);
	begin(out, cmd, len);
	for (size_t i = 0; i < count; i++)
		put_str(out, args[i]);
}

void milter_encode_header(struct buf *out, const char *name, const char *value)
{
	begin(out, SMFIC_HEADER, str_size(name) + str_size(value));
	put_str(out, name);
	put_str(out, value);
}

void milter_encode_body(struct buf *out, const void *data, size_t len)
{
	if (len > MILTER_CHUNK_MAX) {
		fprintf(stderr, "milter_encode_body: chunk of %zu bytes\n", len);
		abort();
	}
	milter_encode_packet(out, SMFIC_BODY, data, len);
}

/* ---- decoding ---- */

void milter_decoder_clear(struct milter_decoder *d)
{
	buf_free(&d->data);
	memset(d, 0, sizeof(*d));
}

/* The NUL-terminated string at *pos of the data, moving *pos past it; NULL
   when no NUL is left. */
static const char *take_str(const struct buf *data, size_t *pos)
{
	const char *s = data->data + *pos;
	const char *nul;

	if (*pos >= data->len)
		return NULL;
	nul = memchr(s, '\0', data->len - *pos);
	if (nul == NULL)
		return NULL;
	*pos += (size_t)(nul - s) + 1;
	return s;
}

static int parse_optneg(const struct buf *data, struct milter_reply *r)
{
	const uint8_t *p = (const uint8_t *)data->data;

	if (data->len < 12)
		return -1;
	r->version = get_u32(p);
	r->actions = get_u32(p + 4);
	r->protocol = get_u32(p + 8);
	/* the SMFIR_SETSYMLIST lists that may follow are not needed: Tern
	   sends the macros Postfix sends to every milter */
	return r->version >= 2 ? 0 : -1;
}

static int parse_replycode(const struct buf *data, struct milter_reply *r)
{
	size_t pos = 0;
	const char *s = take_str(data, &pos);

	if (s == NULL || strlen(s) < 3 || (s[3] != ' ' && s[3] != '-' && s[3] != '\0'))
		return -1;
	if (s[0] < '4' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
		return -1;
	r->code =
	    (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	r->text = s[3] == '\0' ? s + 3 : s + 4;
	return 0;
}

/* name\0 [value\0], after an index for INSHEADER and CHGHEADER. */
static int parse_fields(const struct buf *data, struct milter_reply *r, bool indexed,
                        bool value_required)
{
	size_t pos = 0;

	if (indexed) {
		if (data->len < 4)
			return -1;
		r->index = get_u32((const uint8_t *)data->data);
		pos = 4;
	}
	if ((r->name = take_str(data, &pos)) == NULL)
		return -1;
	r->value = take_str(data, &pos);
	if (value_required && r->value == NULL)
		return -1;
	return 0;
}

static int parse_reply(struct milter_decoder *d, struct milter_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->cmd = (char)d->head[4];
	switch (r->cmd) {
	case SMFIC_OPTNEG:
		return parse_optneg(&d->data, r);
	case SMFIR_REPLYCODE:
		return parse_replycode(&d->data, r);
	case SMFIR_ADDHEADER:
		return parse_fields(&d->data, r, false, true);
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		return parse_fields(&d->data, r, true, true);
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_CHGFROM:
	case SMFIR_QUARANTINE:
		return parse_fields(&d->data, r, false, false);
	case SMFIR_REPLBODY:
		r->data = (const uint8_t *)d->data.data;
		r->len = d->data.len;
		return 0;
	case SMFIR_ACCEPT:
	case SMFIR_CONTINUE:
	case SMFIR_DISCARD:
	case SMFIR_REJECT:
	case SMFIR_TEMPFAIL:
	case SMFIR_PROGRESS:
	case SMFIR_SKIP:
	case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
	case SMFIR_SETSYMLIST:
		return 0;
	default:
		return -1;
	}
}

/* The length and command bytes; 1 once all five are in. */
static int take_head(struct milter_decoder *d, const uint8_t *p, size_t len, size_t *used,
                     const char **error_r)
{
	uint32_t total;

	while (d->head_len < 5 && *used < len)
		d->head[d->head_len++] = p[(*used)++];
	if (d->head_len < 4)
		return 0;
	/* a bad length fails as soon as it is known */
	total = get_u32(d->head);
	if (total == 0 || total - 1 > MILTER_PACKET_MAX) {
		*error_r = "bad packet length";
		return -1;
	}
	if (d->head_len < 5)
		return 0;
	d->want = total - 1;
	buf_clear(&d->data);
	return 1;
}

int milter_decoder_feed(struct milter_decoder *d, const void *data, size_t len, size_t *consumed_r,
                        struct milter_reply *reply_r, const char **error_r)
{
	const uint8_t *p = data;
	size_t used = 0, n;
	int ret;

	*consumed_r = 0;
	if (d->head_len < 5) {
		if ((ret = take_head(d, p, len, &used, error_r)) <= 0) {
			*consumed_r = used;
			return ret;
		}
	}
	n = d->want - d->data.len;
	if (n > len - used)
		n = len - used;
	buf_append(&d->data, p + used, n);
	used += n;
	*consumed_r = used;
	if (d->data.len < d->want)
		return 0;
	/* a NUL after the data, so that a string without one stays inside */
	buf_reserve(&d->data, 1);
	d->data.data[d->data.len] = '\0';
	d->head_len = 0;
	if (parse_reply(d, reply_r) < 0) {
		*error_r = "malformed reply";
		return -1;
	}
	return 1;
}
