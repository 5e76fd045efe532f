/* DKIM canonicalization, RFC 6376 section 3.4. */

#include "mailauth/canon.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

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

/* The header functions write straight into out's spare room, reserved
   first: the canonical form is never longer than the field (relaxed) or
   twice the field (simple: each bare LF gains a CR). */
static void header_simple(const char *field, size_t len, struct buf *out)
{
	char *o;

	buf_reserve(out, 2 * len);
	o = out->data + out->len;
	for (size_t i = 0; i < len; i++) {
		if (field[i] == '\n' && (i == 0 || field[i - 1] != '\r'))
			*o++ = '\r';
		*o++ = field[i];
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

/* 3.4.2: unfold, collapse WSP runs, drop WSP at the end and after the
   colon. CR and LF vanish (unfolding); the WSP after them stays. Returns
   the end of what it wrote at o. */
static char *header_relaxed_value(const char *v, size_t len, char *o)
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
			*o++ = ' ';
		space = false;
		started = true;
		*o++ = c;
	}
	return o;
}

static void header_relaxed(const char *field, size_t len, struct buf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t name_len = colon == NULL ? len : (size_t)(colon - field);
	char *o;

	while (name_len > 0 && (is_wsp(field[name_len - 1]) || field[name_len - 1] == '\r' ||
	                        field[name_len - 1] == '\n'))
		name_len--;
	buf_reserve(out, len);
	o = out->data + out->len;
	for (size_t i = 0; i < name_len; i++) {
		char c = field[i];

		*o++ = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if (colon != NULL) {
		*o++ = ':';
		o = header_relaxed_value(colon + 1, len - (size_t)(colon + 1 - field), o);
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
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

/* Emit n canonical bytes: small pieces gather in out (so the hash sees a
   few large updates, not one per line), a piece as large as out itself
   goes to the output directly. */
static void out_bytes(struct canon_body *cb, const unsigned char *p, size_t n)
{
	if (cb->out_len + n > sizeof(cb->out)) {
		out_flush(cb);
		if (n >= sizeof(cb->out)) {
			cb->output(cb->context, p, n);
			return;
		}
	}
	memcpy(cb->out + cb->out_len, p, n);
	cb->out_len += n;
}

static void out_byte(struct canon_body *cb, unsigned char c)
{
	if (cb->out_len == sizeof(cb->out))
		out_flush(cb);
	cb->out[cb->out_len++] = c;
}

/* Line content follows: first release the line ends and the space held
   back, since they are not trailing after all. */
static void release_held(struct canon_body *cb)
{
	static const unsigned char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

	while (cb->empty_lines > 0) {
		uint64_t n = cb->empty_lines < 8 ? cb->empty_lines : 8;

		out_bytes(cb, crlfs, 2 * (size_t)n);
		cb->empty_lines -= n;
	}
	if (cb->pending_space)
		out_byte(cb, ' ');
	cb->pending_space = false;
	cb->any_content = true;
}

static void content_run(struct canon_body *cb, const unsigned char *p, size_t n)
{
	release_held(cb);
	out_bytes(cb, p, n);
}

static void line_end(struct canon_body *cb)
{
	/* relaxed 3.4.4: whitespace at the end of a line is ignored */
	cb->pending_space = false;
	cb->empty_lines++;
}

/* Simple: the run of content from p, an ordinary byte (not LF, and not a
   CR that may start a CRLF), to the next line end or the end of the
   data. A CR inside the run is followed by another byte than LF: content
   (3.4.3 changes nothing but line ends). */
static const unsigned char *simple_run(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));

	if (lf == NULL)
		lf = end;
	/* a CR just before the LF (or at the end of the data) is a line
	   end, or may be one */
	if (lf > p && lf[-1] == '\r')
		lf--;
	return lf;
}

/* The SWAR masks below: one bit per byte lane (its top bit), exact, with
   no carry between lanes, whatever the byte order. */
#define LANES_01 0x0101010101010101ULL
#define LANES_7F 0x7f7f7f7f7f7f7f7fULL
#define LANES_80 0x8080808080808080ULL

static uint64_t load64(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* Lanes whose byte is below 0x21: SP, HTAB, CR, LF and other controls. */
static uint64_t lanes_below_21(uint64_t x)
{
	return ~(((x & LANES_7F) + (0x80 - 0x21) * LANES_01) | x) & LANES_80;
}

/* Lanes whose byte is SP. */
static uint64_t lanes_sp(uint64_t x)
{
	uint64_t z = x ^ (0x20 * LANES_01);

	return ~(((z & LANES_7F) + LANES_7F) | z) & LANES_80;
}

static bool is_stop(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Relaxed: is the byte at p (inside a run of content) content that passes
   unchanged? Any byte but SP, HTAB, CR and LF; and SP when the next byte
   is known and is such content too (one SP between content stays one
   SP, 3.4.4). */
static bool relaxed_plain(const unsigned char *p, const unsigned char *end)
{
	if (!is_stop(*p))
		return true;
	return *p == ' ' && p + 1 < end && !is_stop(p[1]);
}

#if defined(__SSE2__)
/* Lanes (movemask bits) of the 16 bytes at p that are <= 0x20. */
static unsigned lanes16_low(__m128i x)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x));
}

static unsigned lanes16_eq(__m128i x, char c)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
}

/* The same test as the words below, lanes (16 or 32) bytes at once (SSE2 is part of
   x86-64): no byte <= 0x20 but SP, no SP before a byte <= 0x20. One more
   case passes unchanged, so that ordinary lines make one run: a CRLF
   after content (not WSP, which the rule before excludes) and before
   content (a byte > 0x20) is a line end relaxed keeps as it is. Its CR
   may not be the last lane (the run would end between CR and LF) and its
   LF not the first (its CR is in the block before). Reads p[0..lanes+1]. */
static bool block16_plain(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i n1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
	__m128i n2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 2));
	unsigned low = lanes16_low(x), sp = lanes16_eq(x, ' ');
	unsigned bad = (low & ~sp) | (sp & lanes16_low(n1));
	unsigned crlf = lanes16_eq(x, '\r') & lanes16_eq(n1, '\n') & ~lanes16_low(n2) & 0x7fffu;

	bad &= ~(crlf | (crlf << 1));
	return bad == 0;
}

/* -1: not asked yet; canon_body_use_wide() may turn it off for tests. */
static int use_avx2 = -1;

static bool have_avx2(void)
{
	if (use_avx2 < 0)
		use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return use_avx2 == 1;
}

/* block16_plain over 32 bytes with AVX2, for CPUs that have it. */
__attribute__((target("avx2"))) static const unsigned char *run32_avx2(const unsigned char *p,
                                                                       const unsigned char *end)
{
	const __m256i sp_v = _mm256_set1_epi8(' ');

	while (end - p >= 34) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i n1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
		__m256i n2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 2));
		uint32_t low =
		    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(x, sp_v), x));
		uint32_t low1 = (uint32_t)_mm256_movemask_epi8(
		    _mm256_cmpeq_epi8(_mm256_min_epu8(n1, sp_v), n1));
		uint32_t low2 = (uint32_t)_mm256_movemask_epi8(
		    _mm256_cmpeq_epi8(_mm256_min_epu8(n2, sp_v), n2));
		uint32_t sp = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, sp_v));
		uint32_t cr =
		    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('\r')));
		uint32_t lf1 =
		    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(n1, _mm256_set1_epi8('\n')));
		uint32_t crlf = cr & lf1 & ~low2 & 0x7fffffffu;

		if ((((low & ~sp) | (sp & low1)) & ~(crlf | (crlf << 1))) != 0)
			break;
		p += 32;
	}
	return p;
}
#endif

void canon_body_use_wide(bool on)
{
#if defined(__SSE2__)
	use_avx2 = on && __builtin_cpu_supports("avx2") ? 1 : 0;
#else
	(void)on;
#endif
}

/* Relaxed: the run of bytes from p that canonicalization leaves as they
   are (relaxed_plain), checked 8 at a time: a word is all plain when no
   lane holds a byte below 0x21 but SP, and no SP lane is followed by a
   byte below 0x21 (the second load, one byte on). Other words go byte by
   byte, so a control byte other than HTAB, CR and LF costs only time. */
static const unsigned char *relaxed_run(const unsigned char *p, const unsigned char *end)
{
	for (;;) {
#if defined(__SSE2__)
		if (have_avx2())
			p = run32_avx2(p, end);
		while (end - p >= 18 && block16_plain(p))
			p += 16;
#endif
		while (end - p >= 9) {
			uint64_t x = load64(p), low = lanes_below_21(x), sp = lanes_sp(x);

			if ((low & ~sp) != 0 || (sp & lanes_below_21(load64(p + 1))) != 0)
				break;
			p += 8;
		}
		for (const unsigned char *stop = end - p > 8 ? p + 8 : end; p < stop; p++)
			if (!relaxed_plain(p, end))
				return p;
		if (p == end)
			return p;
	}
}

/* One step of the state machine at p, a byte that is not plain content:
   CR, LF, a WSP run, or a CR held from before. Returns the next byte. */
static const unsigned char *body_special(struct canon_body *cb, const unsigned char *p,
                                         const unsigned char *end)
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		if (*p == '\n') {
			line_end(cb);
			return p + 1;
		}
		content_run(cb, (const unsigned char *)"\r", 1);
		return p; /* *p is looked at afresh */
	}
	if (*p == '\r') {
		cb->pending_cr = true;
		return p + 1;
	}
	if (*p == '\n') {
		line_end(cb);
		return p + 1;
	}
	/* relaxed WSP (simple never gets here with WSP): a run is one SP,
	   released if content follows on the line */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	cb->pending_space = true;
	return p;
}

/* Does the state machine have to look at *p, rather than take a run of
   content from it? */
static bool body_is_special(const struct canon_body *cb, const unsigned char *p)
{
	if (cb->pending_cr || *p == '\r' || *p == '\n')
		return true;
	return cb->alg == CANON_RELAXED && (*p == ' ' || *p == '\t');
}

void canon_body_feed(struct canon_body *cb, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;

	while (p < end) {
		const unsigned char *q;

		if (body_is_special(cb, p)) {
			p = body_special(cb, p, end);
			continue;
		}
		/* not special: *p is content, so the run holds at least it */
		q = cb->alg == CANON_RELAXED ? relaxed_run(p, end) : simple_run(p, end);
		if (q == p)
			abort();
		content_run(cb, p, (size_t)(q - p));
		p = q;
	}
}

void canon_body_finish(struct canon_body *cb)
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		content_run(cb, (const unsigned char *)"\r", 1);
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
