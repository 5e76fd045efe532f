/* The SMTP client's reply parser: see smtp-client-reply.h. */
#include "smtp/smtp-client-reply.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

void smtp_reply_parser_init(struct smtp_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

void smtp_reply_clear(struct smtp_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	buf_clear(&r->text);
}

void smtp_reply_parser_free(struct smtp_reply_parser *p)
{
	buf_free(&p->line);
	buf_free(&p->cur.text);
	memset(p, 0, sizeof(*p));
}

/* "D.D{1,3}.D{1,3}" with D{1,3} as RFC 3463 2 allows, class matching the
   reply code's first digit; returns its length, 0 when there is none. */
static size_t enhanced_len(const char *s, size_t len, unsigned code)
{
	size_t i = 0;

	if (len < 5 || s[0] != (char)('0' + code / 100) || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;

		while (i < len && isdigit((unsigned char)s[i]) && digits < 4) {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && s[i] != ' ')
		return 0;
	return i;
}

/* One complete line (without its line end); returns 1 when it was the
   reply's last, 0 when more lines follow, -1 on error. */
static int take_line(struct smtp_reply_parser *p, const char *s, size_t len)
{
	unsigned code;
	const char *text;
	size_t tlen;

	if (len < 3 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[0] < '2' || s[0] > '5' || s[1] > '5' ||
	    (len > 3 && s[3] != ' ' && s[3] != '-')) {
		p->error = "not an SMTP reply line";
		return -1;
	}
	code = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	if (p->lines > 0 && code != p->cur.code) {
		p->error = "reply code changed within a reply";
		return -1;
	}
	if (++p->lines > SMTP_REPLY_MAX_LINES) {
		p->error = "too many lines in a reply";
		return -1;
	}
	text = len > 4 ? s + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if (p->lines == 1) {
		size_t e = code / 100 == 3 ? 0 : enhanced_len(text, tlen, code);

		p->cur.code = code;
		memcpy(p->cur.enhanced, text, e);
		p->cur.enhanced[e] = '\0';
		if (e > 0) {
			text += e < tlen ? e + 1 : e;
			tlen -= e < tlen ? e + 1 : e;
		}
	} else {
		buf_append_char(&p->cur.text, '\n');
	}
	buf_append(&p->cur.text, text, tlen);
	return len > 3 && s[3] == '-' ? 0 : 1;
}

int smtp_reply_parse(struct smtp_reply_parser *p, const void *data, size_t len, size_t *used_r,
                     struct smtp_reply *reply_r, const char **error_r)
{
	const char *in = data;
	size_t pos = 0;

	while (p->error == NULL && pos < len) {
		const char *lf = memchr(in + pos, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - (in + pos)) + 1 : len - pos;
		int ret;

		if (p->line.len + n > SMTP_REPLY_MAX_LINE) {
			p->error = "reply line too long";
			break;
		}
		if (memchr(in + pos, '\0', n) != NULL) {
			p->error = "NUL in a reply";
			break;
		}
		buf_append(&p->line, in + pos, n);
		pos += n;
		if (lf == NULL)
			break;
		p->line.len--; /* the LF */
		if (p->line.len > 0 && p->line.data[p->line.len - 1] == '\r')
			p->line.len--;
		/* a bare CR inside a line is not a line end: a space */
		for (size_t i = 0; i < p->line.len; i++)
			if (p->line.data[i] == '\r')
				p->line.data[i] = ' ';
		ret = take_line(p, p->line.data, p->line.len);
		buf_clear(&p->line);
		if (ret < 0)
			break;
		if (ret == 1) {
			smtp_reply_clear(reply_r);
			reply_r->code = p->cur.code;
			memcpy(reply_r->enhanced, p->cur.enhanced, sizeof(reply_r->enhanced));
			buf_append(&reply_r->text, p->cur.text.data, p->cur.text.len);
			smtp_reply_clear(&p->cur);
			p->lines = 0;
			*used_r = pos;
			return 1;
		}
	}
	if (p->error != NULL) {
		*error_r = p->error;
		return -1;
	}
	*used_r = pos;
	return 0;
}

char *smtp_reply_summary(const struct smtp_reply *r, size_t max)
{
	size_t n = r->text.len < max ? r->text.len : max;
	char *s = xstrndup(r->text.len > 0 ? r->text.data : "", n);

	for (char *c = s; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	return s;
}

bool smtp_reply_line_is(const char *line, size_t len, const char *keyword)
{
	size_t k = strlen(keyword);

	return len >= k && strncasecmp(line, keyword, k) == 0 &&
	       (len == k || line[k] == ' ' || line[k] == '=');
}
