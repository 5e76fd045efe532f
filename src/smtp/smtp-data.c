#include "smtp/smtp-data.h"

#include <string.h>

/*
 * States. LINE_START: after a CRLF (or at the very start), where a "." is
 * special. TEXT: inside a line. CR: a CR was seen and not yet emitted.
 * DOT: a "." at line start was seen (dropped: it is either dot-stuffing or
 * the start of the end marker). DOT_CR: ".\r" at line start. END: done.
 */
enum state { S_LINE_START, S_TEXT, S_CR, S_DOT, S_DOT_CR, S_END };

void smtp_data_init(struct smtp_data_decoder *d, uint64_t max_size)
{
	memset(d, 0, sizeof(*d));
	d->state = S_LINE_START;
	d->max_size = max_size;
}

/* Emit message bytes, counting all of them but storing only within the
   limit, so an oversized message costs no disk or memory. */
static void emit(struct smtp_data_decoder *d, const unsigned char *p, size_t n, struct buf *out)
{
	uint64_t room = d->max_size == 0 || d->size >= d->max_size ? 0 : d->max_size - d->size;

	if (d->max_size == 0)
		buf_append(out, p, n);
	else if (room > 0)
		buf_append(out, p, n < room ? n : (size_t)room);
	d->size += n;
}

/* Inside a line: copy the run up to the next CR or LF in one go. Returns
   the number of bytes taken. */
static size_t text_run(struct smtp_data_decoder *d, const unsigned char *p, size_t len,
                       struct buf *out)
{
	size_t n = 0;

	while (n < len && p[n] != '\r' && p[n] != '\n')
		n++;
	if (n > 0)
		emit(d, p, n, out);
	return n;
}

/* A byte in TEXT state (or the first byte of a line that is not special). */
static void text_byte(struct smtp_data_decoder *d, unsigned char ch, struct buf *out)
{
	if (ch == '\r') {
		d->state = S_CR;
		return;
	}
	if (ch == '\n')
		d->bare_lf = true; /* and no line start: "\n.\r\n" must not end */
	emit(d, &ch, 1, out);
	d->state = S_TEXT;
}

/* A byte after a pending CR. */
static void cr_byte(struct smtp_data_decoder *d, unsigned char ch, struct buf *out)
{
	static const unsigned char crlf[] = "\r\n";

	if (ch == '\n') {
		emit(d, crlf, 2, out);
		d->state = S_LINE_START;
		return;
	}
	d->bare_cr = true;
	emit(d, crlf, 1, out);
	text_byte(d, ch, out);
}

static void step(struct smtp_data_decoder *d, unsigned char ch, struct buf *out)
{
	switch (d->state) {
	case S_LINE_START:
		if (ch == '.')
			d->state = S_DOT;
		else
			text_byte(d, ch, out);
		break;
	case S_DOT:
		/* RFC 5321 4.5.2: a leading "." followed by more text is removed. */
		if (ch == '\r')
			d->state = S_DOT_CR;
		else
			text_byte(d, ch, out);
		break;
	case S_DOT_CR:
		if (ch == '\n')
			d->state = S_END;
		else
			cr_byte(d, ch, out);
		break;
	case S_CR:
		cr_byte(d, ch, out);
		break;
	default:
		text_byte(d, ch, out);
		break;
	}
}

int smtp_data_feed(struct smtp_data_decoder *d, const void *in, size_t len, size_t *consumed_r,
                   struct buf *out)
{
	const unsigned char *p = in;
	size_t pos = 0;

	while (pos < len && d->state != S_END) {
		if (d->state == S_TEXT) {
			pos += text_run(d, p + pos, len - pos, out);
			if (pos == len)
				break;
		}
		step(d, p[pos++], out);
	}
	*consumed_r = pos;
	return d->state == S_END ? 1 : 0;
}

enum smtp_data_result smtp_data_result(const struct smtp_data_decoder *d)
{
	if (d->max_size != 0 && d->size > d->max_size)
		return SMTP_DATA_TOO_BIG;
	if (d->bare_lf || d->bare_cr)
		return SMTP_DATA_BARE_LF;
	return SMTP_DATA_OK;
}
