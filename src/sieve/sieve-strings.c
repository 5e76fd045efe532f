/* encoded-character (RFC 5228 section 2.4.2.4). */
#include "sieve/sieve-private.h"

#include "lib/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put_utf8(struct buf *b, unsigned long u)
{
	if (u < 0x80) {
		buf_append_char(b, (char)u);
	} else if (u < 0x800) {
		buf_append_char(b, (char)(0xc0 | (u >> 6)));
		buf_append_char(b, (char)(0x80 | (u & 0x3f)));
	} else if (u < 0x10000) {
		buf_append_char(b, (char)(0xe0 | (u >> 12)));
		buf_append_char(b, (char)(0x80 | ((u >> 6) & 0x3f)));
		buf_append_char(b, (char)(0x80 | (u & 0x3f)));
	} else {
		buf_append_char(b, (char)(0xf0 | (u >> 18)));
		buf_append_char(b, (char)(0x80 | ((u >> 12) & 0x3f)));
		buf_append_char(b, (char)(0x80 | ((u >> 6) & 0x3f)));
		buf_append_char(b, (char)(0x80 | (u & 0x3f)));
	}
}

/* Decode the body of ${hex:...} or ${unicode:...} (between ':' and '}')
   into out. Returns 1 if decoded, 0 if not well-formed (left verbatim),
   -1 for a unicode value that is not a character. */
static int decode_seq(const char *s, size_t len, bool unicode, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	size_t i = 0, items = 0;

	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i >= len)
			break;
		size_t st = i;
		unsigned long v = 0;
		while (i < len && isxdigit((unsigned char)s[i]) && i - st < 8) {
			char c = (char)tolower((unsigned char)s[i]);
			v = v * 16 + (unsigned long)(c <= '9' ? c - '0' : c - 'a' + 10);
			i++;
		}
		if (i == st || (i < len && !strchr(" \t\r\n", s[i])) || (!unicode && i - st > 2)) {
			buf_free(&tmp);
			return 0;
		}
		if (unicode && (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))) {
			buf_free(&tmp);
			return -1;
		}
		if (unicode)
			put_utf8(&tmp, v);
		else
			buf_append_char(&tmp, (char)v);
		items++;
	}
	buf_append(out, tmp.data ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return 1;
}

int sieve_decode_encoded(char **sp)
{
	const char *s = *sp;
	struct buf out = BUF_INIT;

	if (strstr(s, "${") == NULL)
		return 0;
	while (*s) {
		const char *close;
		bool hex = strncasecmp(s, "${hex:", 6) == 0;
		bool uni = strncasecmp(s, "${unicode:", 10) == 0;
		if ((hex || uni) && (close = strchr(s, '}')) != NULL) {
			const char *body = s + (hex ? 6 : 10);
			int r = decode_seq(body, (size_t)(close - body), uni, &out);
			if (r < 0) {
				buf_free(&out);
				return -1;
			}
			if (r > 0) {
				s = close + 1;
				continue;
			}
		}
		buf_append_char(&out, *s++);
	}
	free(*sp);
	*sp = buf_steal(&out);
	return 0;
}
