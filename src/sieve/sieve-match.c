/* Comparators and match types (RFC 5228 section 2.7, RFC 4790, RFC 5231,
   the regex draft). */
#include "sieve/sieve-match.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sieve_captures_clear(struct sieve_captures *c)
{
	for (int i = 0; i < SIEVE_MATCH_VARS; i++) {
		free(c->v[i]);
		c->v[i] = NULL;
	}
}

static int numeric_order(const char *a, const char *b)
{
	bool ia = !isdigit((unsigned char)*a), ib = !isdigit((unsigned char)*b);

	if (ia || ib)
		return ia && ib ? 0 : ia ? 1 : -1;
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
	if (la != lb)
		return la < lb ? -1 : 1;
	int c = strncmp(a, b, la);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int sieve_cmp_order(enum sieve_cmp cmp, const char *a, const char *b)
{
	int c;

	switch (cmp) {
	case SIEVE_CMP_NUMERIC:
		return numeric_order(a, b);
	case SIEVE_CMP_OCTET:
		c = strcmp(a, b);
		break;
	default:
		c = strcasecmp(a, b);
		break;
	}
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool sieve_relop_holds(enum sieve_relop relop, int o)
{
	switch (relop) {
	case SIEVE_REL_GT:
		return o > 0;
	case SIEVE_REL_GE:
		return o >= 0;
	case SIEVE_REL_LT:
		return o < 0;
	case SIEVE_REL_LE:
		return o <= 0;
	case SIEVE_REL_EQ:
		return o == 0;
	default:
		return o != 0;
	}
}

static bool ch_eq(enum sieve_cmp cmp, char a, char b)
{
	if (cmp == SIEVE_CMP_OCTET)
		return a == b;
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

static bool contains(enum sieve_cmp cmp, const char *v, const char *k)
{
	size_t kl = strlen(k);

	for (; *v; v++) {
		size_t i = 0;
		while (i < kl && v[i] && ch_eq(cmp, v[i], k[i]))
			i++;
		if (i == kl)
			return true;
	}
	return kl == 0;
}

/* A compiled :matches pattern: a sequence of items, '*' splitting it into
   segments of literals and '?'. */
enum pitem { P_LIT, P_ONE, P_STAR };
struct pat {
	enum pitem *kind;
	char *ch;
	size_t n;
};

static void pat_compile(const char *key, struct pat *p)
{
	size_t len = strlen(key);

	p->kind = xcalloc(len + 1, sizeof(*p->kind));
	p->ch = xcalloc(len + 1, 1);
	p->n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (c == '\\' && i + 1 < len) {
			p->kind[p->n] = P_LIT;
			p->ch[p->n++] = key[++i];
		} else if (c == '*') {
			p->kind[p->n++] = P_STAR;
		} else if (c == '?') {
			p->kind[p->n++] = P_ONE;
		} else {
			p->kind[p->n] = P_LIT;
			p->ch[p->n++] = c;
		}
	}
}

/* Length of the UTF-8 character at s (1 for a bad byte). */
static size_t u8len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

/* Does segment items[a..b) match at v? Returns the bytes used or -1. */
static long seg_at(enum sieve_cmp cmp, const struct pat *p, size_t a, size_t b, const char *v)
{
	size_t off = 0;

	for (size_t i = a; i < b; i++) {
		if (v[off] == '\0')
			return -1;
		if (p->kind[i] == P_ONE)
			off += u8len(v + off);
		else if (ch_eq(cmp, v[off], p->ch[i]))
			off++;
		else
			return -1;
	}
	return (long)off;
}

struct capbuf {
	const char *start[SIEVE_MATCH_VARS];
	size_t len[SIEVE_MATCH_VARS];
	int n;
};

static void cap_add(struct capbuf *cb, const char *s, size_t len)
{
	if (cb->n < SIEVE_MATCH_VARS) {
		cb->start[cb->n] = s;
		cb->len[cb->n] = len;
	}
	cb->n++;
}

/* Record the '?' captures of a segment matched at v. */
static void seg_caps(const struct pat *p, size_t a, size_t b, const char *v, struct capbuf *cb)
{
	for (size_t i = a; i < b; i++) {
		size_t l = p->kind[i] == P_ONE ? u8len(v) : 1;
		if (p->kind[i] == P_ONE)
			cap_add(cb, v, l);
		v += l;
	}
}

/* Segments matched left to right at their earliest place, which is where
   each '*' takes as little as it can (RFC 5229 section 3.2); the last
   segment is anchored at the end. */
static bool glob(enum sieve_cmp cmp, const struct pat *p, const char *v, struct capbuf *cb)
{
	size_t i = 0, vlen = strlen(v);
	const char *end = v + vlen;
	bool star = false;
	const char *star_from = NULL;

	cap_add(cb, v, vlen);
	while (i <= p->n) {
		size_t j = i;
		while (j < p->n && p->kind[j] != P_STAR)
			j++;
		bool last = j == p->n;
		long used = -1;
		const char *at = v;
		if (!star) {
			used = seg_at(cmp, p, i, j, v);
			if (used < 0 || (last && v + used != end))
				return false;
		} else if (last) {
			/* find where the final segment can sit so it ends at the end */
			for (at = v; at <= end; at++) {
				used = seg_at(cmp, p, i, j, at);
				if (used >= 0 && at + used == end)
					break;
			}
			if (at > end)
				return false;
		} else {
			for (at = v; at <= end; at++) {
				used = seg_at(cmp, p, i, j, at);
				if (used >= 0)
					break;
			}
			if (at > end)
				return false;
		}
		if (star)
			cap_add(cb, star_from, (size_t)(at - star_from));
		seg_caps(p, i, j, at, cb);
		v = at + used;
		if (last)
			return true;
		star = true;
		star_from = v;
		i = j + 1;
		if (i == p->n) {
			cap_add(cb, v, (size_t)(end - v));
			return true;
		}
	}
	return true;
}

static void caps_store(struct sieve_captures *cap, const struct capbuf *cb)
{
	sieve_captures_clear(cap);
	for (int i = 0; i < cb->n && i < SIEVE_MATCH_VARS; i++)
		cap->v[i] = xstrndup(cb->start[i], cb->len[i]);
}

static int match_glob(enum sieve_cmp cmp, const char *value, const char *key,
                      struct sieve_captures *cap)
{
	struct pat p;
	struct capbuf cb = {.n = 0};

	pat_compile(key, &p);
	bool ok = glob(cmp, &p, value, &cb);
	free(p.kind);
	free(p.ch);
	if (ok && cap)
		caps_store(cap, &cb);
	return ok;
}

static int regex_exec(const regex_t *re, const char *value, struct sieve_captures *cap)
{
	regmatch_t m[SIEVE_MATCH_VARS];

	if (regexec(re, value, SIEVE_MATCH_VARS, m, 0) != 0)
		return 0;
	if (cap) {
		sieve_captures_clear(cap);
		for (int i = 0; i < SIEVE_MATCH_VARS; i++) {
			if (m[i].rm_so >= 0)
				cap->v[i] =
				    xstrndup(value + m[i].rm_so, (size_t)(m[i].rm_eo - m[i].rm_so));
		}
	}
	return 1;
}

int sieve_match_compiled(const void *regex, const char *value, struct sieve_captures *cap)
{
	return regex_exec(regex, value, cap);
}

static int match_regex(enum sieve_cmp cmp, const char *value, const char *key,
                       struct sieve_captures *cap)
{
	regex_t re;
	int flags = REG_EXTENDED | (cmp == SIEVE_CMP_CASEMAP ? REG_ICASE : 0);

	if (regcomp(&re, key, flags) != 0)
		return -1;
	int rc = regex_exec(&re, value, cap);
	regfree(&re);
	return rc;
}

int sieve_match_one(enum sieve_match m, enum sieve_cmp cmp, enum sieve_relop relop,
                    const char *value, const char *key, struct sieve_captures *cap)
{
	switch (m) {
	case SIEVE_MATCH_IS:
		return sieve_cmp_order(cmp, value, key) == 0;
	case SIEVE_MATCH_CONTAINS:
		return contains(cmp, value, key);
	case SIEVE_MATCH_MATCHES:
		return match_glob(cmp, value, key, cap);
	case SIEVE_MATCH_REGEX:
		return match_regex(cmp, value, key, cap);
	case SIEVE_MATCH_VALUE:
		return sieve_relop_holds(relop, sieve_cmp_order(cmp, value, key));
	default:
		return 0;
	}
}

char *sieve_quote_wildcards(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '*' || *s == '?' || *s == '\\')
			buf_append_char(&b, '\\');
		buf_append_char(&b, *s);
	}
	return buf_steal(&b);
}
