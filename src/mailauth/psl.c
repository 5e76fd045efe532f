/* The Public Suffix List: loading, Punycode for IDN rules, lookups. */
#include "mailauth/psl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

/* Rule kinds; one key ("kobe.jp") may carry several ("kobe.jp" and
   "*.kobe.jp"). */
#define RULE_NORMAL    0x1
#define RULE_WILDCARD  0x2 /* "*.<key>" */
#define RULE_EXCEPTION 0x4 /* "!<key>" */

#define PSL_MAX_LABELS 128

struct psl_entry {
	char *key; /* NULL: free slot */
	uint32_t hash;
	unsigned flags;
};

struct psl {
	struct psl_entry *slots;
	size_t size; /* a power of two */
	size_t used;
};

/* FNV-1a over the (already lower-case) key. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static struct psl_entry *find_slot(struct psl_entry *slots, size_t size, const char *key,
                                   size_t len, uint32_t hash)
{
	size_t i = hash & (size - 1);

	while (slots[i].key != NULL) {
		if (slots[i].hash == hash && strlen(slots[i].key) == len &&
		    memcmp(slots[i].key, key, len) == 0)
			return &slots[i];
		i = (i + 1) & (size - 1);
	}
	return &slots[i];
}

static void grow(struct psl *psl)
{
	size_t size = psl->size * 2;
	struct psl_entry *slots = xcalloc(size, sizeof(*slots));

	for (size_t i = 0; i < psl->size; i++) {
		struct psl_entry *e = &psl->slots[i];

		if (e->key != NULL)
			*find_slot(slots, size, e->key, strlen(e->key), e->hash) = *e;
	}
	free(psl->slots);
	psl->slots = slots;
	psl->size = size;
}

static void table_add(struct psl *psl, const char *key, size_t len, unsigned flags)
{
	uint32_t hash = hash_bytes(key, len);
	struct psl_entry *e;

	if ((psl->used + 1) * 2 > psl->size)
		grow(psl);
	e = find_slot(psl->slots, psl->size, key, len, hash);
	if (e->key == NULL) {
		e->key = xstrndup(key, len);
		e->hash = hash;
		psl->used++;
	}
	e->flags |= flags;
}

static unsigned table_flags(const struct psl *psl, const char *key, size_t len)
{
	const struct psl_entry *e =
	    find_slot(psl->slots, psl->size, key, len, hash_bytes(key, len));

	return e->key == NULL ? 0 : e->flags;
}

struct psl *psl_new(void)
{
	struct psl *psl = xcalloc(1, sizeof(*psl));

	psl->size = 1024;
	psl->slots = xcalloc(psl->size, sizeof(*psl->slots));
	return psl;
}

size_t psl_count(const struct psl *psl)
{
	return psl->used;
}

void psl_free(struct psl **psl)
{
	if (*psl == NULL)
		return;
	for (size_t i = 0; i < (*psl)->size; i++)
		free((*psl)->slots[i].key);
	free((*psl)->slots);
	free(*psl);
	*psl = NULL;
}

/* --- Punycode (RFC 3492 section 6.3), for U-label rules --- */

enum { PC_BASE = 36, PC_TMIN = 1, PC_TMAX = 26, PC_SKEW = 38, PC_DAMP = 700 };

static unsigned pc_adapt(unsigned delta, unsigned points, bool first)
{
	unsigned k = 0;

	delta = first ? delta / PC_DAMP : delta / 2;
	delta += delta / points;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static char pc_digit(unsigned d)
{
	return d < 26 ? (char)('a' + d) : (char)('0' + d - 26);
}

/* Decode UTF-8 into code points; returns the count or -1 if invalid. */
static int utf8_decode(const char *s, size_t len, uint32_t *cp, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len; n++) {
		unsigned char c = (unsigned char)s[i];
		unsigned extra = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 9;
		uint32_t v = extra == 0 ? c : c & (0x3f >> extra);

		if (extra > 3 || len - i <= extra || n == max)
			return -1;
		for (unsigned j = 1; j <= extra; j++) {
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return -1;
			v = (v << 6) | ((unsigned char)s[i + j] & 0x3f);
		}
		cp[n] = v;
		i += extra + 1;
	}
	return (int)n;
}

/* Emit delta as a generalized variable-length integer (RFC 3492 3.3). */
static void pc_emit(struct buf *out, unsigned q, unsigned bias)
{
	for (unsigned k = PC_BASE;; k += PC_BASE) {
		unsigned t = k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;

		if (q < t)
			break;
		buf_append_char(out, pc_digit(t + (q - t) % (PC_BASE - t)));
		q = (q - t) / (PC_BASE - t);
	}
	buf_append_char(out, pc_digit(q));
}

/* Append the A-label of one UTF-8 label. Returns 0, or -1 if invalid. */
static int punycode_label(const char *s, size_t len, struct buf *out)
{
	uint32_t cp[64];
	int count = utf8_decode(s, len, cp, 64);
	unsigned n = 128, delta = 0, bias = 72, h = 0, b;

	if (count <= 0)
		return -1;
	buf_append_str(out, "xn--");
	for (int i = 0; i < count; i++)
		if (cp[i] < 0x80)
			buf_append_char(out, (char)cp[i]);
	h = b = (unsigned)(out->len - 4);
	if (b > 0)
		buf_append_char(out, '-');
	while (h < (unsigned)count) {
		uint32_t m = UINT32_MAX;

		for (int i = 0; i < count; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		/* Labels are at most 64 code points below 0x110000: no
		   overflow in 32 bits. */
		delta += (m - n) * (h + 1);
		n = m;
		for (int i = 0; i < count; i++) {
			if (cp[i] < n)
				delta++;
			if (cp[i] != n)
				continue;
			pc_emit(out, delta, bias);
			bias = pc_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	return 0;
}

/* The rule with non-ASCII labels turned into A-labels; 1 if it had any,
   0 if all ASCII, -1 if not valid UTF-8. */
static int rule_to_ascii(const char *s, size_t len, struct buf *out)
{
	bool idn = false;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		bool ascii = true;

		for (size_t j = start; j < i; j++)
			ascii = ascii && (unsigned char)s[j] < 0x80;
		if (out->len > 0)
			buf_append_char(out, '.');
		if (ascii)
			buf_append(out, s + start, i - start);
		else if (punycode_label(s + start, i - start, out) < 0)
			return -1;
		idn = idn || !ascii;
		start = i + 1;
	}
	return idn ? 1 : 0;
}

/* --- loading --- */

static void lower_ascii(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

static bool labels_valid(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 1; i < len; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return false;
	return true;
}

int psl_add_rule(struct psl *psl, const char *line, size_t len, const char **error_r)
{
	char rule[PSL_MAX_NAME];
	unsigned flags = RULE_NORMAL;
	size_t n = 0, off = 0;
	struct buf ascii = BUF_INIT;

	while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '\r' && line[n] != '\n')
		n++;
	if (n == 0 || (n >= 2 && line[0] == '/' && line[1] == '/'))
		return 0;
	if (n >= sizeof(rule)) {
		*error_r = "rule too long";
		return -1;
	}
	if (line[0] == '!') {
		flags = RULE_EXCEPTION;
		off = 1;
	} else if (n >= 2 && line[0] == '*' && line[1] == '.') {
		flags = RULE_WILDCARD;
		off = 2;
	}
	memcpy(rule, line + off, n - off);
	n -= off;
	lower_ascii(rule, n);
	if (!labels_valid(rule, n) || memchr(rule, '*', n) != NULL) {
		*error_r = "invalid rule";
		return -1;
	}
	if (psl->used >= PSL_MAX_RULES) {
		*error_r = "too many rules";
		return -1;
	}
	table_add(psl, rule, n, flags);
	if (rule_to_ascii(rule, n, &ascii) == 1)
		table_add(psl, ascii.data, ascii.len, flags);
	buf_free(&ascii);
	return 0;
}

static int load_lines(struct psl *psl, const char *data, size_t len, const char *path,
                      char **error_r)
{
	size_t lineno = 0, start = 0;

	while (start < len) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl == NULL ? len : (size_t)(nl - data);
		const char *error;

		lineno++;
		if (psl_add_rule(psl, data + start, end - start, &error) < 0) {
			*error_r = xasprintf("%s:%zu: %s", path, lineno, error);
			return -1;
		}
		start = end + 1;
	}
	return 0;
}

int psl_load(const char *path, struct psl **psl_r, char **error_r)
{
	FILE *f = fopen(path, "r");
	struct buf data = BUF_INIT;
	char chunk[65536];
	size_t n;
	int ret = 0;

	if (f == NULL) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && data.len <= PSL_MAX_FILE_SIZE)
		buf_append(&data, chunk, n);
	if (ferror(f) || data.len > PSL_MAX_FILE_SIZE) {
		*error_r = xasprintf("%s: %s", path, ferror(f) ? "read error" : "file too large");
		ret = -1;
	}
	fclose(f);
	*psl_r = psl_new();
	if (ret == 0)
		ret = load_lines(*psl_r, data.data, data.len, path, error_r);
	if (ret < 0)
		psl_free(psl_r);
	buf_free(&data);
	return ret;
}

/* --- lookups --- */

/* The number of labels of the public suffix of name (lower-case, valid,
   with its label starts in starts[0..count), leftmost first). */
static size_t suffix_labels(const struct psl *psl, const char *name, size_t len,
                            const size_t *starts, size_t count)
{
	size_t best = 1, exception = 0;

	for (size_t k = 1; k <= count; k++) {
		size_t s = starts[count - k];
		unsigned flags = table_flags(psl, name + s, len - s);

		if ((flags & RULE_NORMAL) != 0 && k > best)
			best = k;
		if ((flags & RULE_EXCEPTION) != 0)
			exception = k - 1;
		if (k >= 2) {
			size_t p = starts[count - k + 1];

			if ((table_flags(psl, name + p, len - p) & RULE_WILDCARD) != 0 && k > best)
				best = k;
		}
	}
	/* An exception rule prevails over every other rule (the list's
	   algorithm, step "If the prevailing rule is an exception rule"). */
	return exception > 0 ? exception : best;
}

/* Number of labels of the public suffix and the label starts of domain;
   0 if domain is not a valid name. */
static size_t analyse(const struct psl *psl, const char *domain, size_t *starts, size_t *count_r)
{
	char name[PSL_MAX_NAME];
	size_t len = strlen(domain), count = 0;

	if (len >= sizeof(name) || !labels_valid(domain, len))
		return 0;
	memcpy(name, domain, len);
	lower_ascii(name, len);
	for (size_t i = 0; i < len; i++) {
		if (i == 0 || name[i - 1] == '.') {
			if (count == PSL_MAX_LABELS)
				return 0;
			starts[count++] = i;
		}
	}
	*count_r = count;
	return suffix_labels(psl, name, len, starts, count);
}

int psl_public_suffix(const struct psl *psl, const char *domain, const char **suffix_r)
{
	size_t starts[PSL_MAX_LABELS], count;
	size_t labels = analyse(psl, domain, starts, &count);

	if (labels == 0)
		return 0;
	*suffix_r = domain + starts[labels >= count ? 0 : count - labels];
	return 1;
}

int psl_org_domain(const struct psl *psl, const char *domain, const char **org_r)
{
	size_t starts[PSL_MAX_LABELS], count;
	size_t labels = analyse(psl, domain, starts, &count);

	if (labels == 0 || labels >= count)
		return 0;
	*org_r = domain + starts[count - labels - 1];
	return 1;
}
