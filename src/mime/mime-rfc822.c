#include "mime/mime-rfc822.h"

#include <string.h>

void rfc822_reader_init(struct rfc822_reader *r, const char *data, size_t len)
{
	r->p = data;
	r->end = data + len;
}

bool rfc822_eof(const struct rfc822_reader *r)
{
	return r->p >= r->end;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* At a '(': skip one comment with its nested comments (RFC 5322 section
   3.2.2), appending its text to out when not NULL. */
static void skip_comment(struct rfc822_reader *r, struct buf *out)
{
	int level = 0;

	for (; r->p < r->end; r->p++) {
		char c = *r->p;

		if (c == '\\' && r->p + 1 < r->end) {
			r->p++;
			if (out != NULL)
				buf_append_char(out, *r->p);
			continue;
		}
		if (c == '(' && level++ == 0)
			continue;
		if (c == ')' && --level == 0) {
			r->p++;
			return;
		}
		if (out != NULL)
			buf_append_char(out, c);
	}
}

void rfc822_skip_cfws(struct rfc822_reader *r, struct buf *comment)
{
	while (r->p < r->end) {
		if (is_wsp(*r->p)) {
			r->p++;
		} else if (*r->p == '(') {
			if (comment != NULL && comment->len > 0)
				buf_append_char(comment, ' ');
			skip_comment(r, comment);
		} else {
			break;
		}
	}
}

/* RFC 2045 section 5.1: tspecials, space and controls end a token. */
static bool is_token_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

int rfc822_read_token(struct rfc822_reader *r, struct buf *out)
{
	const char *start = r->p;

	while (r->p < r->end && is_token_char((unsigned char)*r->p))
		r->p++;
	buf_append(out, start, (size_t)(r->p - start));
	return r->p > start ? 1 : 0;
}

int rfc822_read_quoted(struct rfc822_reader *r, struct buf *out)
{
	if (r->p >= r->end || *r->p != '"')
		return 0;
	for (r->p++; r->p < r->end; r->p++) {
		char c = *r->p;

		if (c == '"') {
			r->p++;
			break;
		}
		if (c == '\\' && r->p + 1 < r->end)
			c = *++r->p;
		/* a folded quoted string: the CRLF is not part of it */
		if (c != '\r' && c != '\n')
			buf_append_char(out, c);
	}
	return 1;
}

/* RFC 5322 section 3.2.3 atext, plus 8-bit bytes (RFC 6532). */
static bool is_atext(unsigned char c)
{
	return c > ' ' && c != 0x7f && strchr("()<>[]:;@\\,.\"", c) == NULL;
}

int rfc822_read_atom(struct rfc822_reader *r, struct buf *out)
{
	const char *start = r->p;

	while (r->p < r->end && is_atext((unsigned char)*r->p))
		r->p++;
	buf_append(out, start, (size_t)(r->p - start));
	return r->p > start ? 1 : 0;
}

int rfc822_read_domain_literal(struct rfc822_reader *r, struct buf *out)
{
	const char *start = r->p;

	if (r->p >= r->end || *r->p != '[')
		return 0;
	while (r->p < r->end && *r->p != ']') {
		if (*r->p == '\\' && r->p + 1 < r->end)
			r->p++;
		r->p++;
	}
	if (r->p < r->end)
		r->p++;
	buf_append(out, start, (size_t)(r->p - start));
	return 1;
}
