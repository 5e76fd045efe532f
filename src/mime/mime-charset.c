#include "mime/mime-charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/xalloc.h"
#include "mime/mime-decode.h"
#include "mime/mime-header.h"

/* An incomplete multibyte character held between feeds; longer "incomplete"
   input is treated as invalid (no charset has characters this long). */
#define CONV_MAX_PENDING 16
/* Input is handed to iconv a line at a time, or in pieces of this size:
   the calls then depend only on the input, never on how it was chunked,
   which stateful decoders (UTF-7, ISO-2022) need to give the same output
   for any chunking. */
#define CONV_BLOCK 4096

static const char utf8_replacement[] = "\xef\xbf\xbd";

struct utf8_state {
	unsigned char held[4];
	unsigned int held_len;
	unsigned int need;    /* continuation bytes still expected */
	unsigned char lo, hi; /* range of the next continuation byte */
};

struct mime_charset_conv {
	iconv_t cd; /* (iconv_t)-1: UTF-8 validation only */
	bool unknown;
	unsigned int errors;
	struct utf8_state u8;     /* input, when read as UTF-8 */
	struct utf8_state out_u8; /* iconv output, checked (iconv may pass bad UTF-8 through) */
	unsigned char block[CONV_BLOCK];
	size_t block_len;
};

/* Names glibc does not know, or that mail uses for a superset. */
static const struct {
	const char *mime;
	const char *iconv;
} charset_aliases[] = {
    {"gb2312", "GB18030"}, /* mail labelled gb2312 is usually GBK */
    {"gbk", "GB18030"},           {"ks_c_5601-1987", "CP949"},    {"x-sjis", "SHIFT_JIS"},
    {"shift-jis", "SHIFT_JIS"},   {"iso-8859-8-i", "ISO-8859-8"}, {"unicode-1-1-utf-7", "UTF-7"},
    {"x-mac-roman", "MACINTOSH"},
};

/* Read as UTF-8 (see the header: ASCII supersets and labels that name no
   charset). */
static const char *const utf8_names[] = {
    "utf-8", "utf8", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default", "x-user-defined",
};

static void add_error(unsigned int *errors)
{
	if (*errors < UINT_MAX)
		(*errors)++;
}

/* Copy charset without an RFC 2231 "*lang" suffix to name (lower-case);
   false if it is empty, too long or has characters no charset name has
   (so nothing like "//TRANSLIT" reaches iconv_open). */
static bool charset_clean(const char *charset, char name[MIME_CHARSET_MAX_NAME + 1])
{
	size_t n = 0;

	if (charset == NULL)
		return false;
	for (; charset[n] != '\0' && charset[n] != '*'; n++) {
		unsigned char c = (unsigned char)charset[n];

		if (n == MIME_CHARSET_MAX_NAME || !(isalnum(c) || strchr("-_.:+()", c) != NULL))
			return false;
		name[n] = (char)tolower(c);
	}
	name[n] = '\0';
	return n > 0;
}

static bool is_utf8_name(const char *name)
{
	char alnum[MIME_CHARSET_MAX_NAME + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(utf8_names) / sizeof(utf8_names[0]); i++) {
		if (strcmp(name, utf8_names[i]) == 0)
			return true;
	}
	/* glibc ignores punctuation in names: "utf+8" would open UTF-8 */
	for (; *name != '\0'; name++) {
		if (isalnum((unsigned char)*name))
			alnum[n++] = *name;
	}
	alnum[n] = '\0';
	return strcmp(alnum, "utf8") == 0;
}

static const char *iconv_name(const char *name)
{
	for (size_t i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++) {
		if (strcmp(name, charset_aliases[i].mime) == 0)
			return charset_aliases[i].iconv;
	}
	return name;
}

/* Open an iconv descriptor to UTF-8, or (iconv_t)-1 with *utf8_r telling
   whether the name is one read as UTF-8 anyway. */
static iconv_t charset_open(const char *charset, bool *utf8_r)
{
	char name[MIME_CHARSET_MAX_NAME + 1];

	*utf8_r = charset == NULL; /* none given: RFC 2045 section 5.2 says us-ascii */
	if (!charset_clean(charset, name))
		return (iconv_t)-1;
	if (is_utf8_name(name)) {
		*utf8_r = true;
		return (iconv_t)-1;
	}
	return iconv_open("UTF-8", iconv_name(name));
}

bool mime_charset_is_known(const char *charset)
{
	bool utf8;
	iconv_t cd = charset_open(charset, &utf8);

	if (cd == (iconv_t)-1)
		return utf8;
	iconv_close(cd);
	return true;
}

struct mime_charset_conv *mime_charset_conv_new(const char *charset)
{
	struct mime_charset_conv *conv = xcalloc(1, sizeof(*conv));
	bool utf8;

	conv->cd = charset_open(charset, &utf8);
	conv->unknown = conv->cd == (iconv_t)-1 && !utf8;
	if (conv->unknown)
		add_error(&conv->errors);
	return conv;
}

void mime_charset_conv_free(struct mime_charset_conv **convp)
{
	struct mime_charset_conv *conv = *convp;

	if (conv == NULL)
		return;
	if (conv->cd != (iconv_t)-1)
		iconv_close(conv->cd);
	free(conv);
	*convp = NULL;
}

unsigned int mime_charset_conv_errors(const struct mime_charset_conv *conv)
{
	return conv->errors;
}

/* The first byte of a UTF-8 sequence: how many continuation bytes follow
   and the range of the next one (RFC 3629 section 4: no overlongs, no
   surrogates, nothing above U+10FFFF). False if c starts nothing. */
static bool utf8_lead(struct utf8_state *s, unsigned char c)
{
	s->lo = 0x80;
	s->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		s->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		s->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		s->need = 3;
	else
		return false;
	if (c == 0xe0)
		s->lo = 0xa0;
	else if (c == 0xed)
		s->hi = 0x9f;
	else if (c == 0xf0)
		s->lo = 0x90;
	else if (c == 0xf4)
		s->hi = 0x8f;
	s->held[0] = c;
	s->held_len = 1;
	return true;
}

static void utf8_byte(struct utf8_state *s, unsigned char c, struct buf *out, unsigned int *errors)
{
	if (s->need > 0) {
		if (c >= s->lo && c <= s->hi) {
			s->held[s->held_len++] = c;
			s->lo = 0x80;
			s->hi = 0xbf;
			if (--s->need == 0) {
				buf_append(out, s->held, s->held_len);
				s->held_len = 0;
			}
			return;
		}
		/* the maximal invalid subpart so far is one replacement */
		buf_append(out, utf8_replacement, 3);
		add_error(errors);
		s->need = 0;
		s->held_len = 0;
	}
	if (c < 0x80) {
		buf_append_char(out, (char)c);
	} else if (!utf8_lead(s, c)) {
		buf_append(out, utf8_replacement, 3);
		add_error(errors);
	}
}

static void utf8_finish(struct utf8_state *s, struct buf *out, unsigned int *errors)
{
	if (s->need > 0) {
		buf_append(out, utf8_replacement, 3);
		add_error(errors);
	}
	s->need = 0;
	s->held_len = 0;
}

/* Run iconv over the block; an incomplete character at its end stays at
   the front of the block when it is short enough and more input may
   complete it. */
static void iconv_block(struct mime_charset_conv *conv, bool last, struct buf *out)
{
	char *in = (char *)conv->block;
	size_t inleft = conv->block_len;

	while (inleft > 0) {
		char tmp[1024], *op = tmp;
		size_t outleft = sizeof(tmp);
		size_t r = iconv(conv->cd, &in, &inleft, &op, &outleft);

		for (char *t = tmp; t < op; t++)
			utf8_byte(&conv->out_u8, (unsigned char)*t, out, &conv->errors);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EINVAL && inleft < CONV_MAX_PENDING && !last)
			break;
		buf_append(out, utf8_replacement, 3);
		add_error(&conv->errors);
		in++;
		inleft--;
	}
	memmove(conv->block, in, inleft);
	conv->block_len = inleft;
}

static void iconv_feed(struct mime_charset_conv *conv, const unsigned char *data, size_t len,
                       struct buf *out)
{
	while (len > 0) {
		size_t room = sizeof(conv->block) - conv->block_len;
		const unsigned char *lf = memchr(data, '\n', len < room ? len : room);
		size_t n = lf != NULL ? (size_t)(lf - data) + 1 : (len < room ? len : room);

		memcpy(conv->block + conv->block_len, data, n);
		conv->block_len += n;
		data += n;
		len -= n;
		if (lf != NULL || conv->block_len == sizeof(conv->block))
			iconv_block(conv, false, out);
	}
}

/* buf_reserve() on an empty buf leaves data without its NUL; keep the
   buf a valid C string even if nothing is appended. */
static void reserve(struct buf *out, size_t extra)
{
	buf_reserve(out, extra);
	out->data[out->len] = '\0';
}

void mime_charset_conv_feed(struct mime_charset_conv *conv, const void *data, size_t len,
                            struct buf *out)
{
	const unsigned char *p = data;

	if (conv->cd != (iconv_t)-1) {
		iconv_feed(conv, p, len, out);
		return;
	}
	reserve(out, len);
	for (size_t i = 0; i < len; i++)
		utf8_byte(&conv->u8, p[i], out, &conv->errors);
}

void mime_charset_conv_finish(struct mime_charset_conv *conv, struct buf *out)
{
	if (conv->cd == (iconv_t)-1) {
		utf8_finish(&conv->u8, out, &conv->errors);
		return;
	}
	iconv_block(conv, true, out);
	utf8_finish(&conv->out_u8, out, &conv->errors);
	/* back to the initial shift state for the next use */
	(void)iconv(conv->cd, NULL, NULL, NULL, NULL);
}

int mime_charset_to_utf8(const char *charset, const void *data, size_t len, struct buf *out)
{
	struct mime_charset_conv *conv = mime_charset_conv_new(charset);
	int ret;

	mime_charset_conv_feed(conv, data, len, out);
	mime_charset_conv_finish(conv, out);
	ret = conv->errors > 0 ? 1 : 0;
	mime_charset_conv_free(&conv);
	return ret;
}

/* ---------------------------------------------------------- RFC 2047 */

struct encoded_word {
	char charset[MIME_CHARSET_MAX_NAME + 1];
	char encoding; /* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t len; /* of the whole word */
};

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2047 section 2: "=?" charset "?" encoding "?" encoded-text "?=" at
   p. The text may hold "?" (Q text of bad mailers) but no whitespace. */
static bool ew_parse(const char *p, const char *end, struct encoded_word *ew)
{
	const char *s = p + 2, *limit = end;
	size_t n = 0;

	if (end - p > MIME_EW_MAX_LEN)
		limit = p + MIME_EW_MAX_LEN;
	if (limit - p < 8 || p[0] != '=' || p[1] != '?')
		return false;
	for (; s < limit && *s != '?'; s++, n++) {
		if (n == MIME_CHARSET_MAX_NAME || is_lwsp(*s))
			return false;
		ew->charset[n] = *s;
	}
	ew->charset[n] = '\0';
	if (n == 0 || limit - s < 5 || strchr("BbQq", s[1]) == NULL || s[2] != '?')
		return false;
	ew->encoding = (char)toupper((unsigned char)s[1]);
	ew->text = s + 3;
	for (s = ew->text; s + 1 < limit; s++) {
		if (is_lwsp(*s))
			return false;
		if (s[0] == '?' && s[1] == '=') {
			ew->text_len = (size_t)(s - ew->text);
			ew->len = (size_t)(s + 2 - p);
			return true;
		}
	}
	return false;
}

struct hdr_decoder {
	struct buf *out;
	size_t start; /* out->len before we began */
	unsigned int errors;
	struct buf text;  /* raw text not yet validated */
	struct buf ws;    /* whitespace after an encoded word */
	struct buf bytes; /* decoded bytes of adjacent words in one charset */
	char charset[MIME_CHARSET_MAX_NAME + 1];
	bool after_ew;
};

static void hdr_flush_text(struct hdr_decoder *h)
{
	struct mime_charset_conv *conv;

	if (h->text.len == 0)
		return;
	conv = mime_charset_conv_new("utf-8");
	mime_charset_conv_feed(conv, h->text.data, h->text.len, h->out);
	mime_charset_conv_finish(conv, h->out);
	h->errors += conv->errors;
	mime_charset_conv_free(&conv);
	buf_clear(&h->text);
}

static void hdr_flush_bytes(struct hdr_decoder *h)
{
	if (h->bytes.len == 0)
		return;
	if (mime_charset_to_utf8(h->charset, h->bytes.data, h->bytes.len, h->out) != 0)
		h->errors++;
	buf_clear(&h->bytes);
}

static void hdr_word(struct hdr_decoder *h, const struct encoded_word *ew)
{
	if (h->after_ew) {
		buf_clear(&h->ws); /* RFC 2047 section 6.2 */
	} else {
		hdr_flush_text(h);
	}
	if (h->bytes.len > 0 && strcasecmp(h->charset, ew->charset) != 0)
		hdr_flush_bytes(h);
	memcpy(h->charset, ew->charset, sizeof(h->charset));
	if (ew->encoding == 'B')
		(void)mime_decode(MIME_ENCODING_BASE64, ew->text, ew->text_len, &h->bytes);
	else
		(void)mime_decode_q(ew->text, ew->text_len, &h->bytes);
	h->after_ew = true;
}

static void hdr_char(struct hdr_decoder *h, char c)
{
	if (c == '\r' || c == '\n')
		return;
	if (h->after_ew && (c == ' ' || c == '\t')) {
		buf_append_char(&h->ws, c);
		return;
	}
	if (h->after_ew) {
		hdr_flush_bytes(h);
		buf_append(&h->text, h->ws.data, h->ws.len);
		buf_clear(&h->ws);
		h->after_ew = false;
	}
	buf_append_char(&h->text, c);
}

/* Cut out back to at most max bytes after start, on a UTF-8 character
   boundary. */
static void utf8_cut(struct buf *out, size_t start, size_t max)
{
	size_t n = start + max;

	while (n > start && ((unsigned char)out->data[n] & 0xc0) == 0x80)
		n--;
	out->len = n;
	out->data[n] = '\0';
}

int mime_header_decode(const char *value, size_t len, size_t max_out, struct buf *out)
{
	struct hdr_decoder h = {.out = out, .start = out->len};
	const char *p = value, *end = value + len;
	struct encoded_word ew;
	bool cut = false;

	while (p < end && !cut) {
		if (*p == '=' && ew_parse(p, end, &ew)) {
			hdr_word(&h, &ew);
			p += ew.len;
		} else {
			hdr_char(&h, *p++);
		}
		cut = out->len - h.start > max_out || h.text.len + h.bytes.len > max_out;
	}
	hdr_flush_bytes(&h);
	buf_append(&h.text, h.ws.data, h.ws.len);
	hdr_flush_text(&h);
	if (out->len - h.start > max_out) {
		utf8_cut(out, h.start, max_out);
		cut = true;
	}
	buf_free(&h.text);
	buf_free(&h.ws);
	buf_free(&h.bytes);
	return h.errors > 0 || cut ? 1 : 0;
}

/* ---------------------------------------------------------- RFC 2231 */

struct segment {
	unsigned int index;
	bool extended; /* "*" after the number: percent-encoded */
	const char *value;
	size_t order; /* position in the input, for a stable sort */
};

/* Split "base*N*" etc. Returns the length of base and fills the segment
   kind, or 0 if the name has no valid RFC 2231 suffix. */
static size_t rfc2231_name(const char *name, struct segment *seg)
{
	const char *star = strchr(name, '*');
	const char *s;
	unsigned int n = 0;

	if (star == NULL || star == name)
		return 0;
	s = star + 1;
	seg->index = 0;
	seg->extended = false;
	if (*s == '\0') {
		seg->extended = true; /* name*=charset'lang'value */
		return (size_t)(star - name);
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++n > 4)
			return 0;
		seg->index = seg->index * 10 + (unsigned int)(*s - '0');
	}
	if (n == 0)
		return 0;
	if (*s == '*') {
		seg->extended = true;
		s++;
	}
	return *s == '\0' ? (size_t)(star - name) : 0;
}

static int segment_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void percent_decode(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		int hi, lo;

		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			hi = isdigit((unsigned char)s[1]) ? s[1] - '0' : (tolower(s[1]) - 'a' + 10);
			lo = isdigit((unsigned char)s[2]) ? s[2] - '0' : (tolower(s[2]) - 'a' + 10);
			buf_append_char(out, (char)(hi * 16 + lo));
			s += 2;
		} else {
			buf_append_char(out, *s);
		}
	}
}

/* RFC 2231 section 4: the first extended segment starts "charset'lang'".
   Copies the charset to charset and returns the rest. */
static const char *split_charset(const char *v, char *charset, size_t size)
{
	const char *q1 = strchr(v, '\''), *q2;

	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return v;
	if ((size_t)(q1 - v) < size) {
		memcpy(charset, v, (size_t)(q1 - v));
		charset[q1 - v] = '\0';
	}
	return q2 + 1;
}

/* Join the sorted segments of one parameter and convert them. */
static char *join_segments(const struct segment *seg, size_t n)
{
	struct buf raw = BUF_INIT, out = BUF_INIT;
	char charset[MIME_CHARSET_MAX_NAME + 1] = "";

	for (size_t i = 0; i < n; i++) {
		const char *v = seg[i].value;

		if (i > 0 && seg[i].index == seg[i - 1].index)
			continue; /* a repeated number keeps its first value */
		if (i == 0 && seg[i].index == 0 && seg[i].extended)
			v = split_charset(v, charset, sizeof(charset));
		if (seg[i].extended)
			percent_decode(v, &raw);
		else
			buf_append_str(&raw, v);
		if (raw.len > MIME_PARAM_MAX_VALUE)
			break;
	}
	(void)mime_charset_to_utf8(charset[0] != '\0' ? charset : NULL, raw.data, raw.len, &out);
	if (out.len > MIME_PARAM_MAX_VALUE)
		utf8_cut(&out, 0, MIME_PARAM_MAX_VALUE);
	buf_free(&raw);
	return buf_steal(&out);
}

struct param_out {
	ARRAY(struct mime_param); /* items, count */
};

static bool out_has(const struct param_out *o, const char *name, size_t len)
{
	for (size_t i = 0; i < o->count; i++) {
		if (strncasecmp(o->items[i].name, name, len) == 0 && o->items[i].name[len] == '\0')
			return true;
	}
	return false;
}

static void out_add(struct param_out *o, char *name, char *value)
{
	array_append(o, ((struct mime_param){.name = name, .value = value}));
}

/* All RFC 2231 segments of base (length len) in params, sorted: a malloc'ed
   array of *n_r items, NULL when there are none. */
static struct segment *collect_segments(const struct mime_param *params, size_t count,
                                        const char *base, size_t len, size_t *n_r)
{
	ARRAY(struct segment) segs = ARRAY_INIT;

	for (size_t i = 0; i < count; i++) {
		struct segment seg;
		size_t blen = rfc2231_name(params[i].name, &seg);

		if (blen != len || strncasecmp(params[i].name, base, len) != 0)
			continue;
		seg.value = params[i].value;
		seg.order = i;
		array_append(&segs, seg);
	}
	if (segs.count > 0)
		qsort(segs.items, segs.count, sizeof(*segs.items), segment_cmp);
	return array_steal(&segs, n_r);
}

static char *plain_value(const char *v)
{
	struct buf out = BUF_INIT;

	(void)mime_header_decode(v, strlen(v), MIME_PARAM_MAX_VALUE, &out);
	return buf_steal(&out);
}

void mime_params_decode(const struct mime_param *params, size_t count, struct mime_param **out_r,
                        size_t *count_r)
{
	struct param_out o = {ARRAY_INIT};

	if (count > MIME_PARAM_MAX_COUNT)
		count = MIME_PARAM_MAX_COUNT;
	for (size_t i = 0; i < count; i++) {
		struct segment seg;
		const char *name = params[i].name;
		size_t len = rfc2231_name(name, &seg);
		size_t n;
		struct segment *segs;

		if (len == 0)
			len = strlen(name);
		if (len == 0 || out_has(&o, name, len))
			continue;
		segs = collect_segments(params, count, name, len, &n);
		if (n > 0)
			out_add(&o, xstrndup(name, len), join_segments(segs, n));
		else
			out_add(&o, xstrdup(name), plain_value(params[i].value));
		free(segs);
	}
	*out_r = array_steal(&o, count_r);
}
