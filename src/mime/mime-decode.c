#include "mime/mime-decode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"
#include "lib/xalloc.h"
#include "mime/mime-rfc822.h"

/* Trailing whitespace held back by the QP decoder until the next byte tells
   whether it ends a line (RFC 2045 rule 3: deleted) or not (kept). A longer
   run is not from a transport agent; it is written out. */
#define QP_MAX_PENDING_WS 256

enum qp_state {
	QP_TEXT,
	QP_CR,    /* a CR after text: a hard line break if LF follows */
	QP_EQ,    /* "=" */
	QP_HEX1,  /* "=X" */
	QP_EQ_WS, /* "=" then whitespace: maybe a soft break with padding */
	QP_EQ_CR, /* "=" [whitespace] CR */
};

enum b64_state {
	B64_DATA,
	B64_PAD,  /* one "=" after two characters: one more expected */
	B64_DONE, /* the padding ended the data */
};

struct mime_decoder {
	enum mime_encoding encoding;
	unsigned int errors;
	/* base64 */
	enum b64_state b64;
	unsigned int quad_pos;
	unsigned int bits;
	bool junk_after_end;
	/* quoted-printable */
	enum qp_state qp;
	char hex1;
	char ws[QP_MAX_PENDING_WS];
	size_t ws_len;
};

enum mime_encoding mime_encoding_from_name(const char *value)
{
	struct rfc822_reader r;
	struct buf tok = BUF_INIT;
	enum mime_encoding enc = MIME_ENCODING_UNKNOWN;

	if (value == NULL)
		return MIME_ENCODING_IDENTITY;
	rfc822_reader_init(&r, value, strlen(value));
	rfc822_skip_cfws(&r, NULL);
	(void)rfc822_read_token(&r, &tok);
	if (tok.len == 0 && rfc822_eof(&r))
		enc = MIME_ENCODING_IDENTITY;
	else if (strcasecmp(buf_cstr(&tok), "base64") == 0)
		enc = MIME_ENCODING_BASE64;
	else if (strcasecmp(buf_cstr(&tok), "quoted-printable") == 0)
		enc = MIME_ENCODING_QP;
	else if (strcasecmp(buf_cstr(&tok), "7bit") == 0 ||
	         strcasecmp(buf_cstr(&tok), "8bit") == 0 ||
	         strcasecmp(buf_cstr(&tok), "binary") == 0)
		enc = MIME_ENCODING_IDENTITY;
	buf_free(&tok);
	return enc;
}

struct mime_decoder *mime_decoder_new(enum mime_encoding encoding)
{
	struct mime_decoder *d = xcalloc(1, sizeof(*d));

	d->encoding = encoding;
	return d;
}

void mime_decoder_free(struct mime_decoder **dp)
{
	free(*dp);
	*dp = NULL;
}

unsigned int mime_decoder_errors(const struct mime_decoder *d)
{
	return d->errors;
}

static void add_error(struct mime_decoder *d)
{
	if (d->errors < UINT_MAX)
		d->errors++;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void b64_sextet(struct mime_decoder *d, unsigned int v, struct buf *out)
{
	d->bits = (d->bits << 6) | v;
	if (d->quad_pos > 0) {
		/* 2, 4 or 6 bits stay for the next byte */
		unsigned int keep = 6 - 2 * d->quad_pos;

		buf_append_char(out, (char)((d->bits >> keep) & 0xff));
		d->bits &= (1u << keep) - 1;
	}
	d->quad_pos = (d->quad_pos + 1) % 4;
}

/* "=" in the data state. RFC 2045 section 6.8: padding only comes after the
   second or third character of a group; elsewhere it is junk. */
static void b64_pad(struct mime_decoder *d)
{
	if (d->quad_pos == 3) {
		d->b64 = B64_DONE;
	} else if (d->quad_pos == 2) {
		d->b64 = B64_PAD;
	} else {
		add_error(d);
	}
}

static void b64_byte(struct mime_decoder *d, unsigned char c, struct buf *out)
{
	int v;

	if (d->b64 == B64_DONE) {
		if (!is_ws(c) && c != '=' && !d->junk_after_end) {
			d->junk_after_end = true;
			add_error(d);
		}
		return;
	}
	if (d->b64 == B64_PAD) {
		if (c == '=' || (!is_ws(c) && base64_value(c) >= 0)) {
			if (c != '=') {
				add_error(d);
				d->junk_after_end = true; /* counted once */
			}
			d->b64 = B64_DONE;
		}
		return;
	}
	v = base64_value(c);
	if (v >= 0)
		b64_sextet(d, (unsigned int)v, out);
	else if (c == '=')
		b64_pad(d);
	else if (!is_ws(c))
		add_error(d);
}

static void b64_finish(struct mime_decoder *d)
{
	/* a missing padding, or a lone character that holds no whole byte */
	if (d->b64 == B64_DATA && d->quad_pos != 0)
		add_error(d);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void qp_flush_ws(struct mime_decoder *d, struct buf *out)
{
	buf_append(out, d->ws, d->ws_len);
	d->ws_len = 0;
}

static void qp_text(struct mime_decoder *d, unsigned char c, struct buf *out)
{
	if (c == ' ' || c == '\t') {
		if (d->ws_len == sizeof(d->ws))
			qp_flush_ws(d, out);
		d->ws[d->ws_len++] = (char)c;
		return;
	}
	if (c == '\r') {
		d->qp = QP_CR;
		return;
	}
	if (c == '\n') {
		/* rule 3: whitespace before a line end was added in transport */
		d->ws_len = 0;
		buf_append_char(out, '\n');
		return;
	}
	qp_flush_ws(d, out);
	if (c == '=')
		d->qp = QP_EQ;
	else
		buf_append_char(out, (char)c);
}

/* "=" started nothing valid: it and what followed it are literal text */
static void qp_literal_eq(struct mime_decoder *d, struct buf *out)
{
	add_error(d);
	buf_append_char(out, '=');
	d->qp = QP_TEXT;
}

static void qp_byte(struct mime_decoder *d, unsigned char c, struct buf *out);

static void qp_after_eq(struct mime_decoder *d, unsigned char c, struct buf *out)
{
	if (hex_value(c) >= 0) {
		d->hex1 = (char)c;
		d->qp = QP_HEX1;
	} else if (c == ' ' || c == '\t') {
		d->ws[0] = (char)c;
		d->ws_len = 1;
		d->qp = QP_EQ_WS;
	} else if (c == '\r') {
		d->qp = QP_EQ_CR;
	} else if (c == '\n') {
		d->qp = QP_TEXT; /* soft line break */
	} else {
		qp_literal_eq(d, out);
		qp_byte(d, c, out);
	}
}

static void qp_eq_ws(struct mime_decoder *d, unsigned char c, struct buf *out)
{
	if ((c == ' ' || c == '\t') && d->ws_len < sizeof(d->ws)) {
		d->ws[d->ws_len++] = (char)c;
	} else if (c == '\r') {
		d->ws_len = 0;
		d->qp = QP_EQ_CR;
	} else if (c == '\n') {
		d->ws_len = 0;
		d->qp = QP_TEXT;
	} else {
		/* "= x": not a soft break; the whitespace is text again */
		qp_literal_eq(d, out);
		qp_flush_ws(d, out);
		qp_byte(d, c, out);
	}
}

static void qp_byte(struct mime_decoder *d, unsigned char c, struct buf *out)
{
	switch (d->qp) {
	case QP_TEXT:
		qp_text(d, c, out);
		break;
	case QP_CR:
		d->qp = QP_TEXT;
		if (c == '\n') {
			d->ws_len = 0;
			buf_append(out, "\r\n", 2);
			break;
		}
		qp_flush_ws(d, out);
		buf_append_char(out, '\r');
		qp_byte(d, c, out);
		break;
	case QP_EQ:
		qp_after_eq(d, c, out);
		break;
	case QP_HEX1:
		d->qp = QP_TEXT;
		if (hex_value(c) >= 0) {
			buf_append_char(
			    out, (char)(hex_value((unsigned char)d->hex1) * 16 + hex_value(c)));
			break;
		}
		qp_literal_eq(d, out);
		buf_append_char(out, d->hex1);
		qp_byte(d, c, out);
		break;
	case QP_EQ_WS:
		qp_eq_ws(d, c, out);
		break;
	case QP_EQ_CR:
		d->qp = QP_TEXT;
		if (c != '\n') {
			/* "=" CR without LF: a soft break all the same */
			add_error(d);
			qp_byte(d, c, out);
		}
		break;
	}
}

static void qp_finish(struct mime_decoder *d, struct buf *out)
{
	switch (d->qp) {
	case QP_CR:
		qp_flush_ws(d, out);
		buf_append_char(out, '\r');
		break;
	case QP_HEX1:
		qp_literal_eq(d, out);
		buf_append_char(out, d->hex1);
		break;
	default:
		/* trailing whitespace and a final soft break are dropped */
		break;
	}
	d->ws_len = 0;
	d->qp = QP_TEXT;
}

/* buf_reserve() on an empty buf leaves data without its NUL; keep the
   buf a valid C string even if nothing is appended. */
static void reserve(struct buf *out, size_t extra)
{
	buf_reserve(out, extra);
	out->data[out->len] = '\0';
}

void mime_decoder_feed(struct mime_decoder *d, const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;

	if (d->encoding == MIME_ENCODING_BASE64) {
		reserve(out, len / 4 * 3 + 3);
		for (size_t i = 0; i < len; i++)
			b64_byte(d, p[i], out);
	} else if (d->encoding == MIME_ENCODING_QP) {
		reserve(out, len);
		for (size_t i = 0; i < len; i++)
			qp_byte(d, p[i], out);
	} else {
		buf_append(out, data, len);
	}
}

void mime_decoder_finish(struct mime_decoder *d, struct buf *out)
{
	if (d->encoding == MIME_ENCODING_BASE64)
		b64_finish(d);
	else if (d->encoding == MIME_ENCODING_QP)
		qp_finish(d, out);
}

unsigned int mime_decode(enum mime_encoding encoding, const void *data, size_t len, struct buf *out)
{
	struct mime_decoder *d = mime_decoder_new(encoding);
	unsigned int errors;

	mime_decoder_feed(d, data, len, out);
	mime_decoder_finish(d, out);
	errors = mime_decoder_errors(d);
	mime_decoder_free(&d);
	return errors;
}

unsigned int mime_decode_q(const char *text, size_t len, struct buf *out)
{
	unsigned int errors = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '_') {
			buf_append_char(out, ' ');
		} else if (c == '=' && i + 2 < len && hex_value((unsigned char)text[i + 1]) >= 0 &&
		           hex_value((unsigned char)text[i + 2]) >= 0) {
			buf_append_char(out, (char)(hex_value((unsigned char)text[i + 1]) * 16 +
			                            hex_value((unsigned char)text[i + 2])));
			i += 2;
		} else {
			if (c == '=')
				errors++;
			buf_append_char(out, (char)c);
		}
	}
	return errors;
}
