/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8. */
#include "lib/mutf7.h"

#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/utf8.h"

/* RFC 3501 5.1.3: BASE64 with ',' instead of '/'. */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* Undo what a failed conversion appended (keeping the NUL). */
static void restore(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
}

bool mutf7_has_8bit(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return true;
	}
	return false;
}

/* Decode one UTF-8 sequence at *p (already validated): the code point. */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int extra;

	if (s[0] < 0x80) {
		cp = s[0];
		extra = 0;
	} else if (s[0] < 0xe0) {
		cp = s[0] & 0x1f;
		extra = 1;
	} else if (s[0] < 0xf0) {
		cp = s[0] & 0x0f;
		extra = 2;
	} else {
		cp = s[0] & 0x07;
		extra = 3;
	}
	for (int i = 1; i <= extra; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	*p = s + 1 + extra;
	return cp;
}

/* The base64 writer of one shifted run: 16-bit units in, sextets out. */
struct b64_out {
	struct buf *out;
	uint32_t bits;
	int nbits;
};

static void b64_unit(struct b64_out *w, uint32_t unit)
{
	w->bits = (w->bits << 16) | unit;
	w->nbits += 16;
	while (w->nbits >= 6) {
		w->nbits -= 6;
		buf_append_char(w->out, b64[(w->bits >> w->nbits) & 0x3f]);
	}
}

static void b64_flush(struct b64_out *w)
{
	if (w->nbits > 0)
		buf_append_char(w->out, b64[(w->bits << (6 - w->nbits)) & 0x3f]);
	w->bits = 0;
	w->nbits = 0;
}

int mutf7_from_utf8(const char *utf8, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t len = strlen(utf8), start = out->len;
	struct b64_out w = {out, 0, 0};
	bool shifted = false;

	if (!utf8_valid(p, len))
		return -1;
	while (*p != '\0') {
		uint32_t cp = utf8_next(&p);

		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted) {
				b64_flush(&w);
				buf_append_char(out, '-');
				shifted = false;
			}
			if (cp == '&')
				buf_append_str(out, "&-");
			else
				buf_append_char(out, (char)cp);
			continue;
		}
		if (cp < 0x20 || cp == 0x7f) {
			restore(out, start);
			return -1;
		}
		if (!shifted) {
			buf_append_char(out, '&');
			shifted = true;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			b64_unit(&w, 0xd800 | (cp >> 10));
			b64_unit(&w, 0xdc00 | (cp & 0x3ff));
		} else {
			b64_unit(&w, cp);
		}
	}
	if (shifted) {
		b64_flush(&w);
		buf_append_char(out, '-');
	}
	return 0;
}

static void utf8_put(struct buf *out, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(out, s, n);
}

/* Decode the shifted run at *pp (after '&', up to and past '-'). */
static int decode_run(const char **pp, struct buf *out)
{
	const char *p = *pp;
	uint32_t bits = 0, high = 0;
	int nbits = 0, units = 0;

	for (; *p != '-'; p++) {
		int v = b64_value((unsigned char)*p);

		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;

		units++;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return -1;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if ((unit >= 0xdc00 && unit <= 0xdfff) || (unit >= 0x20 && unit <= 0x7e)) {
			return -1; /* lone low surrogate; ASCII must not be shifted */
		} else {
			utf8_put(out, unit);
		}
	}
	/* leftover bits must be fewer than 6 and zero; "&-" is '&' */
	if (high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0 || units == 0)
		return -1;
	*pp = p + 1;
	return 0;
}

int mutf7_to_utf8(const char *mutf7, struct buf *out)
{
	size_t start = out->len;

	for (const char *p = mutf7; *p != '\0';) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7e)
			goto fail;
		if (c != '&') {
			buf_append_char(out, (char)c);
			p++;
		} else if (p[1] == '-') {
			buf_append_char(out, '&');
			p += 2;
		} else {
			p++;
			if (decode_run(&p, out) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	restore(out, start);
	return -1;
}
