/* The header section of an inbound message, kept apart from the body
   (smtp-header.h). */
#include "smtp/smtp-header.h"

#include <string.h>
#include <strings.h>

#include "mailauth/auth-results.h"

enum {
	ST_LINE_START, /* at the start of a line (also the start of the message) */
	ST_IN_LINE,
	ST_CR,            /* a CR inside a line */
	ST_CR_LINE_START, /* a CR at the start of a line: the empty line if LF follows */
};

void smtp_header_init(struct smtp_header *h, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->max = max;
	h->state = ST_LINE_START;
}

void smtp_header_clear(struct smtp_header *h)
{
	buf_free(&h->fields);
}

/* The state after byte c. */
static int next_state(int state, unsigned char c)
{
	if (c == '\r')
		return state == ST_LINE_START ? ST_CR_LINE_START : ST_CR;
	if (c == '\n' && state == ST_CR)
		return ST_LINE_START;
	return ST_IN_LINE; /* a bare LF or CR is flagged by the DATA decoder */
}

int smtp_header_feed(struct smtp_header *h, const void *data, size_t len, size_t *consumed_r)
{
	const unsigned char *p = data;
	size_t i;

	*consumed_r = len;
	if (h->too_big)
		return -1;
	for (i = 0; i < len && !h->ended; i++) {
		if (h->state == ST_CR_LINE_START && p[i] == '\n')
			h->ended = true;
		else
			h->state = next_state(h->state, p[i]);
	}
	/* i bytes used; the last two (or the last, its CR having come before)
	   are the empty line, dropped below. +1: the CR of a possible empty
	   line is held until its LF comes. */
	if (h->fields.len + i > h->max + 2) {
		h->too_big = true;
		h->ended = false;
		buf_free(&h->fields);
		return -1;
	}
	buf_append(&h->fields, data, i);
	if (!h->ended)
		return 0;
	h->fields.len -= 2; /* the CR LF of the empty line */
	h->fields.data[h->fields.len] = '\0';
	*consumed_r = i;
	return 1;
}

int smtp_header_next(const char *hdr, size_t len, size_t *pos, struct smtp_header_field *field_r)
{
	size_t start = *pos, end = start, colon;

	if (start >= len)
		return 0;
	/* a line, then every continuation line (RFC 5322 2.2.3) */
	do {
		const char *lf = memchr(hdr + end, '\n', len - end);
		end = lf != NULL ? (size_t)(lf - hdr) + 1 : len;
	} while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'));
	memset(field_r, 0, sizeof(*field_r));
	field_r->raw = hdr + start;
	field_r->raw_len = end - start;
	*pos = end;
	for (colon = start; colon < end && hdr[colon] != ':' && hdr[colon] != '\r'; colon++)
		;
	if (colon == end || hdr[colon] != ':' || colon == start)
		return 1; /* not a field: name_len stays 0 */
	field_r->name = hdr + start;
	field_r->name_len = colon - start;
	field_r->value = hdr + colon + 1;
	field_r->value_len = end - colon - 1;
	while (field_r->value_len > 0 && (field_r->value[field_r->value_len - 1] == '\n' ||
	                                  field_r->value[field_r->value_len - 1] == '\r'))
		field_r->value_len--;
	return 1;
}

bool smtp_header_field_is(const struct smtp_header_field *field, const char *name)
{
	size_t n = strlen(name);

	/* RFC 5322 3.6.8 allows no space before the colon, but such names are
	   seen in the wild ("From :"); trailing blanks do not make a new name. */
	size_t len = field->name_len;
	while (len > 0 && (field->name[len - 1] == ' ' || field->name[len - 1] == '\t'))
		len--;
	return len == n && strncasecmp(field->name, name, n) == 0;
}

unsigned smtp_header_filter(const char *hdr, size_t len, const char *authserv_id, struct buf *out)
{
	struct smtp_header_field f;
	unsigned removed = 0;
	size_t pos = 0;

	while (smtp_header_next(hdr, len, &pos, &f) == 1) {
		if (smtp_header_field_is(&f, "Authentication-Results") &&
		    auth_results_claims(f.value, f.value_len, authserv_id)) {
			removed++;
			continue;
		}
		buf_append(out, f.raw, f.raw_len);
	}
	return removed;
}
