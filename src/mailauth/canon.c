/* DKIM canonicalization, RFC 6376 section 3.4. */

#include "mailauth/canon.h"

#include <stddef.h>
#include <string.h>

const char *canon_alg_name(enum canon_alg alg)
{
	return alg == CANON_RELAXED ? "relaxed" : "simple";
}

int canon_alg_parse(const char *s, size_t len, enum canon_alg *alg_r)
{
	if (len == 6 && memcmp(s, "simple", 6) == 0)
		*alg_r = CANON_SIMPLE;
	else if (len == 7 && memcmp(s, "relaxed", 7) == 0)
		*alg_r = CANON_RELAXED;
	else
		return -1;
	return 0;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void header_simple(const char *field, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (field[i] == '\n' && (i == 0 || field[i - 1] != '\r'))
			buf_append_char(out, '\r');
		buf_append_char(out, field[i]);
	}
}

/* 3.4.2: unfold, collapse WSP runs, drop WSP at the end and after the
   colon. CR and LF vanish (unfolding); the WSP after them stays. */
static void header_relaxed_value(const char *v, size_t len, struct buf *out)
{
	bool space = false, started = false;

	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n')
			continue;
		if (is_wsp(c)) {
			space = started;
			continue;
		}
		if (space)
			buf_append_char(out, ' ');
		space = false;
		started = true;
		buf_append_char(out, c);
	}
}

static void header_relaxed(const char *field, size_t len, struct buf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t name_len = colon == NULL ? len : (size_t)(colon - field);

	while (name_len > 0 && (is_wsp(field[name_len - 1]) || field[name_len - 1] == '\r' ||
	                        field[name_len - 1] == '\n'))
		name_len--;
	for (size_t i = 0; i < name_len; i++) {
		char c = field[i];

		buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	if (colon == NULL)
		return;
	buf_append_char(out, ':');
	header_relaxed_value(colon + 1, len - (size_t)(colon + 1 - field), out);
}

void canon_header(enum canon_alg alg, const char *field, size_t len, bool with_crlf,
                  struct buf *out)
{
	if (alg == CANON_RELAXED)
		header_relaxed(field, len, out);
	else
		header_simple(field, len, out);
	if (with_crlf)
		buf_append(out, "\r\n", 2);
}

void canon_body_init(struct canon_body *cb, enum canon_alg alg, canon_output_t *output,
                     void *context)
{
	memset(cb, 0, offsetof(struct canon_body, out));
	cb->alg = alg;
	cb->output = output;
	cb->context = context;
}

static void out_flush(struct canon_body *cb)
{
	if (cb->out_len > 0)
		cb->output(cb->context, cb->out, cb->out_len);
	cb->out_len = 0;
}

static void out_byte(struct canon_body *cb, unsigned char c)
{
	if (cb->out_len == sizeof(cb->out))
		out_flush(cb);
	cb->out[cb->out_len++] = c;
}

/* A byte of line content: first release the line ends and space held
   back, since they are not trailing after all. */
static void content_byte(struct canon_body *cb, unsigned char c)
{
	for (; cb->empty_lines > 0; cb->empty_lines--) {
		out_byte(cb, '\r');
		out_byte(cb, '\n');
	}
	if (cb->pending_space)
		out_byte(cb, ' ');
	cb->pending_space = false;
	cb->any_content = true;
	out_byte(cb, c);
}

static void line_end(struct canon_body *cb)
{
	/* relaxed 3.4.4: whitespace at the end of a line is ignored */
	cb->pending_space = false;
	cb->empty_lines++;
}

static void body_byte(struct canon_body *cb, unsigned char c)
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		if (c == '\n') {
			line_end(cb);
			return;
		}
		content_byte(cb, '\r');
	}
	if (c == '\r')
		cb->pending_cr = true;
	else if (c == '\n')
		line_end(cb);
	else if (cb->alg == CANON_RELAXED && (c == ' ' || c == '\t'))
		cb->pending_space = true;
	else
		content_byte(cb, c);
}

void canon_body_feed(struct canon_body *cb, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		body_byte(cb, p[i]);
	out_flush(cb);
}

void canon_body_finish(struct canon_body *cb)
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		content_byte(cb, '\r');
	}
	/* 3.4.3: one CRLF ends a simple body, even an empty one; 3.4.4: a
	   non-empty relaxed body ends with exactly one CRLF, an empty one
	   stays empty. */
	if (cb->alg == CANON_SIMPLE || cb->any_content) {
		out_byte(cb, '\r');
		out_byte(cb, '\n');
	}
	out_flush(cb);
}
