/* The pure parts of SORT (imap-sort.h). */
#include "imap/imap-sort.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-date.h"
#include "lib/xalloc.h"
#include "mime/mime-address.h"
#include "mime/mime-charset.h"

static const struct {
	const char *name;
	enum imap_sort_key key;
} sort_keys[] = {
    {"ARRIVAL", IMAP_SORT_ARRIVAL},
    {"CC", IMAP_SORT_CC},
    {"DATE", IMAP_SORT_DATE},
    {"FROM", IMAP_SORT_FROM},
    {"SIZE", IMAP_SORT_SIZE},
    {"SUBJECT", IMAP_SORT_SUBJECT},
    {"TO", IMAP_SORT_TO},
    {"DISPLAYFROM", IMAP_SORT_DISPLAYFROM},
    {"DISPLAYTO", IMAP_SORT_DISPLAYTO},
};

int imap_sort_parse(const char *const *names, size_t count, struct imap_sort_crit *crits_r)
{
	size_t n = 0;
	bool reverse = false;

	for (size_t i = 0; i < count; i++) {
		size_t k;

		if (strcasecmp(names[i], "REVERSE") == 0) {
			if (reverse)
				return -1;
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(sort_keys) / sizeof(sort_keys[0]); k++) {
			if (strcasecmp(names[i], sort_keys[k].name) == 0)
				break;
		}
		if (k == sizeof(sort_keys) / sizeof(sort_keys[0]) || n == IMAP_SORT_MAX_CRITS)
			return -1;
		crits_r[n].key = sort_keys[k].key;
		crits_r[n++].reverse = reverse;
		reverse = false;
	}
	return reverse || n == 0 ? -1 : (int)n;
}

/* ---- i;unicode-casemap ---- */

/* Decode one UTF-8 character at s[*i..len); -1 (and one byte consumed) if
   the bytes are not UTF-8. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	size_t n = c < 0x80                ? 0
	           : c >= 0xc2 && c < 0xe0 ? 1
	           : c >= 0xe0 && c < 0xf0 ? 2
	           : c >= 0xf0 && c < 0xf5 ? 3
	                                   : 9;
	long cp = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;

	if (n == 9 || *i + n >= len) {
		(*i)++;
		return -1;
	}
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return -1;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		(*i)++;
		return -1;
	}
	*i += n + 1;
	return cp;
}

static void utf8_put(struct buf *out, long cp)
{
	char b[4];

	if (cp < 0x80) {
		buf_append_char(out, (char)cp);
		return;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 4);
	}
}

/* Simple titlecase mapping (UnicodeData.txt field 14) for the covered
   blocks. */
static long titlecase(long c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c < 0xb5)
		return c;
	if (c == 0xb5)
		return 0x39c;
	if ((c >= 0xe0 && c <= 0xfe && c != 0xf7))
		return c - 32;
	if (c == 0xff)
		return 0x178;
	if (c == 0x131)
		return 'I';
	if (c == 0x17f)
		return 'S';
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return (c & 1) ? c - 1 : c;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c : c - 1;
	if ((c >= 0x3b1 && c <= 0x3c1) || (c >= 0x3c3 && c <= 0x3cb))
		return c - 32;
	if (c == 0x3c2)
		return 0x3a3;
	if (c == 0x3ac)
		return 0x386;
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37;
	if (c == 0x3cc)
		return 0x38c;
	if (c == 0x3cd || c == 0x3ce)
		return c - 63;
	if (c >= 0x430 && c <= 0x44f)
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	return c;
}

/* Canonical decompositions of U+00C0..U+00DD, one entry per code point:
   base letter and combining mark ('\0': none). */
static const char latin1_base[] = "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY";
static const unsigned short latin1_mark[] = {
    0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0,     0x327, 0x300, 0x301,
    0x302, 0x308, 0x300, 0x301, 0x302, 0x308, 0,     0x303, 0x300, 0x301,
    0x302, 0x303, 0x308, 0,     0,     0x300, 0x301, 0x302, 0x308, 0x301,
};
/* U+0100..U+017F by pairs (the upper case of each pair, index (c-0x100)/2
   for 0100..0137, handled separately after the odd shift at 0139). */
static const char exta_base[] = "AAACCCCD\0EEEEEGGGGH\0IIIII\0JK";
static const unsigned short exta_mark[] = {
    0x304, 0x306, 0x328, 0x301, 0x302, 0x307, 0x30c, 0x30c, 0,     0x304,
    0x306, 0x307, 0x328, 0x30c, 0x302, 0x306, 0x307, 0x327, 0x302, 0,
    0x303, 0x304, 0x306, 0x328, 0x307, 0,     0x302, 0x327,
};
/* U+0139..U+017E (odd start): (c-0x139)/2. */
static const char extb_base[] = "LLL\0\0NNN\0OOO\0RRRSSSSTT\0UUUUUUWY";
static const unsigned short extb_mark[] = {
    0x301, 0x327, 0x30c, 0,     0,     0x301, 0x327, 0x30c, 0,     0x304, 0x306,
    0x30b, 0,     0x301, 0x327, 0x30c, 0x301, 0x302, 0x327, 0x30c, 0x327, 0x30c,
    0,     0x303, 0x304, 0x306, 0x30a, 0x30b, 0x328, 0x302, 0x302,
};

/* Append the decomposition of titlecased c. */
static void decompose(struct buf *out, long c)
{
	char base = 0;
	unsigned mark = 0;

	if (c == 0xa0) {
		buf_append_char(out, ' ');
		return;
	}
	if (c >= 0xc0 && c <= 0xdd) {
		base = latin1_base[c - 0xc0];
		mark = latin1_mark[c - 0xc0];
	} else if (c >= 0x100 && c <= 0x137) {
		base = exta_base[(c - 0x100) / 2];
		mark = exta_mark[(c - 0x100) / 2];
	} else if (c == 0x178) {
		base = 'Y';
		mark = 0x308;
	} else if (c >= 0x179 && c <= 0x17e) {
		base = 'Z';
		mark = c <= 0x17a ? 0x301 : c <= 0x17c ? 0x307 : 0x30c;
	} else if (c >= 0x139 && c <= 0x177 &&
	           (size_t)(c - 0x139) / 2 < sizeof(extb_mark) / sizeof(extb_mark[0])) {
		base = extb_base[(c - 0x139) / 2];
		mark = extb_mark[(c - 0x139) / 2];
	}
	if (base == 0 || mark == 0) {
		utf8_put(out, c);
		return;
	}
	buf_append_char(out, base);
	utf8_put(out, (long)mark);
}

void imap_sort_casemap(const char *text, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		long c = utf8_next(s, len, &i);

		if (c < 0)
			buf_append(out, text + start, 1);
		else
			decompose(out, titlecase(c));
	}
}

/* ---- base subject (RFC 5256 section 2.1) ---- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* A subj-blob at s[i..len): "[" *BLOBCHAR "]" *WSP; its end, or 0. */
static size_t blob_end(const char *s, size_t i, size_t len)
{
	if (i >= len || s[i] != '[')
		return 0;
	for (i++; i < len && s[i] != '[' && s[i] != ']'; i++)
		;
	if (i >= len || s[i] != ']')
		return 0;
	for (i++; i < len && is_wsp(s[i]); i++)
		;
	return i;
}

/* A subj-leader at s[0..len): (*subj-blob subj-refwd) / WSP; its length
   or 0. */
static size_t leader_len(const char *s, size_t len)
{
	size_t i = 0, e;

	if (len > 0 && is_wsp(s[0]))
		return 1;
	while ((e = blob_end(s, i, len)) != 0)
		i = e;
	if (i + 2 <= len && strncasecmp(s + i, "re", 2) == 0)
		i += 2;
	else if (i + 2 <= len && strncasecmp(s + i, "fw", 2) == 0)
		i += 2 + (i + 2 < len && (s[i + 2] == 'd' || s[i + 2] == 'D'));
	else
		return 0;
	while (i < len && is_wsp(s[i]))
		i++;
	if ((e = blob_end(s, i, len)) != 0)
		i = e;
	return i < len && s[i] == ':' ? i + 1 : 0;
}

/* Steps (2) to (6) on the normalised s[*start..*end). */
static void strip_subject(const char *s, size_t *start, size_t *end, bool *reply)
{
	size_t a = *start, b = *end, n, e;

	for (;;) {
		bool changed = true;

		/* (2) trailers: "(fwd)" and WSP */
		while (b > a) {
			if (is_wsp(s[b - 1]))
				b--;
			else if (b - a >= 5 && strncasecmp(s + b - 5, "(fwd)", 5) == 0) {
				b -= 5;
				*reply = true;
			} else
				break;
		}
		/* (3), (4), (5) */
		while (changed) {
			changed = false;
			while ((n = leader_len(s + a, b - a)) != 0) {
				if (!is_wsp(s[a]))
					*reply = true;
				a += n;
				changed = true;
			}
			if ((e = blob_end(s, a, b)) != 0 && e < b) {
				a = e;
				changed = true;
			}
		}
		/* (6) "[fwd:" ... "]" */
		if (b - a >= 6 && strncasecmp(s + a, "[fwd:", 5) == 0 && s[b - 1] == ']') {
			a += 5;
			b--;
			*reply = true;
			continue;
		}
		break;
	}
	*start = a;
	*end = b;
}

void imap_sort_base_subject(const char *subject, size_t len, struct buf *out, bool *reply_r)
{
	struct buf dec = BUF_INIT, norm = BUF_INIT;
	size_t a = 0, b;

	*reply_r = false;
	(void)mime_header_decode(subject, len, 64 * 1024, &dec);
	/* (1) tabs and continuations to one space, runs of spaces to one */
	for (size_t i = 0; i < dec.len; i++) {
		char c = dec.data[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && norm.len > 0 && norm.data[norm.len - 1] == ' ')
			continue;
		buf_append_char(&norm, c);
	}
	b = norm.len;
	if (b > 0)
		strip_subject(norm.data, &a, &b, reply_r);
	imap_sort_casemap(buf_cstr(&norm) + a, b - a, out);
	buf_free(&dec);
	buf_free(&norm);
}

/* ---- dates ---- */

static const struct {
	const char *name;
	int hours;
} zone_names[] = {
    {"UT", 0},   {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4}, {"CST", -6},
    {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
};

/* The zone offset in seconds at p ("+hhmm", a name); 0 if none. */
static long zone_offset(const char *p)
{
	while (is_wsp(*p))
		p++;
	if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
	    isdigit((unsigned char)p[4])) {
		long n = (p[1] - '0') * 600 + (p[2] - '0') * 60 + (p[3] - '0') * 10 + (p[4] - '0');

		return (*p == '-' ? -1 : 1) * (n / 60 * 3600 + n % 60 * 60);
	}
	for (size_t i = 0; i < sizeof(zone_names) / sizeof(zone_names[0]); i++) {
		size_t l = strlen(zone_names[i].name);

		if (strncasecmp(p, zone_names[i].name, l) == 0 && !isalpha((unsigned char)p[l]))
			return zone_names[i].hours * 3600L;
	}
	return 0;
}

int imap_sort_parse_date(const char *value, int64_t *t_r)
{
	int64_t day;
	const char *p;
	long h = 0, m = 0, sec = 0;

	if (value == NULL || imap_parse_header_date(value, &day) < 0)
		return -1;
	/* the time is the first "h:mm" after the date */
	for (p = value; *p != '\0' && !(isdigit((unsigned char)*p) && (p[1] == ':' || p[2] == ':'));
	     p++)
		;
	if (*p != '\0') {
		h = strtol(p, (char **)&p, 10);
		if (*p == ':')
			m = strtol(p + 1, (char **)&p, 10);
		if (*p == ':')
			sec = strtol(p + 1, (char **)&p, 10);
		if (h > 23 || m > 59 || sec > 60)
			return -1;
	}
	*t_r = day * 86400 + h * 3600 + m * 60 + sec - zone_offset(p);
	return 0;
}

/* ---- per-message keys ---- */

/* The first address of a list: local part, or display form (RFC 5957). */
static char *address_key(const char *value, bool display)
{
	struct mime_address *list;
	size_t count;
	struct buf raw = BUF_INIT, out = BUF_INIT;

	if (value == NULL)
		return xstrdup("");
	mime_address_list_parse(value, strlen(value), &list, &count);
	for (size_t i = 0; i < count; i++) {
		const struct mime_address *a = &list[i];

		if (a->group_start || a->group_end || a->domain == NULL)
			continue;
		if (display && a->name != NULL && a->name[0] != '\0')
			(void)mime_header_decode(a->name, strlen(a->name), 4096, &raw);
		else if (display)
			buf_printf(&raw, "%s@%s", a->mailbox, a->domain);
		else
			buf_append_str(&raw, a->mailbox);
		break;
	}
	mime_address_list_free(&list, count);
	imap_sort_casemap(buf_cstr(&raw), raw.len, &out);
	buf_free(&raw);
	return buf_steal(&out);
}

void imap_sort_msg_fill(struct imap_sort_msg *m, const struct imap_sort_crit *crits, size_t count,
                        const char *subject, const char *from, const char *to, const char *cc,
                        const char *date_value)
{
	unsigned need = 0;
	struct buf b = BUF_INIT;
	bool reply;

	for (size_t i = 0; i < count; i++)
		need |= 1u << crits[i].key;
	if (subject != NULL && (need & (1u << IMAP_SORT_SUBJECT)))
		imap_sort_base_subject(subject, strlen(subject), &b, &reply);
	m->subject = buf_steal(&b);
	m->from = address_key(need & (1u << IMAP_SORT_FROM) ? from : NULL, false);
	m->to = address_key(need & (1u << IMAP_SORT_TO) ? to : NULL, false);
	m->cc = address_key(need & (1u << IMAP_SORT_CC) ? cc : NULL, false);
	m->display_from = address_key(need & (1u << IMAP_SORT_DISPLAYFROM) ? from : NULL, true);
	m->display_to = address_key(need & (1u << IMAP_SORT_DISPLAYTO) ? to : NULL, true);
	if (imap_sort_parse_date(date_value, &m->date) < 0)
		m->date = m->arrival;
}

void imap_sort_msg_free(struct imap_sort_msg *m)
{
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->display_from);
	free(m->display_to);
	m->subject = m->from = m->to = m->cc = m->display_from = m->display_to = NULL;
}

static int cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int compare_key(enum imap_sort_key key, const struct imap_sort_msg *a,
                       const struct imap_sort_msg *b)
{
	switch (key) {
	case IMAP_SORT_ARRIVAL:
		return cmp_num(a->arrival, b->arrival);
	case IMAP_SORT_DATE:
		return cmp_num(a->date, b->date);
	case IMAP_SORT_SIZE:
		return a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
	case IMAP_SORT_CC:
		return strcmp(a->cc, b->cc);
	case IMAP_SORT_FROM:
		return strcmp(a->from, b->from);
	case IMAP_SORT_TO:
		return strcmp(a->to, b->to);
	case IMAP_SORT_SUBJECT:
		return strcmp(a->subject, b->subject);
	case IMAP_SORT_DISPLAYFROM:
		return strcmp(a->display_from, b->display_from);
	case IMAP_SORT_DISPLAYTO:
		return strcmp(a->display_to, b->display_to);
	}
	return 0;
}

int imap_sort_compare(const struct imap_sort_crit *crits, size_t count,
                      const struct imap_sort_msg *a, const struct imap_sort_msg *b)
{
	for (size_t i = 0; i < count; i++) {
		int r = compare_key(crits[i].key, a, b);

		if (r != 0)
			return crits[i].reverse ? -r : r;
	}
	return cmp_num(a->seq, b->seq);
}

/* qsort has no context argument: the criteria of the sort running (one
   thread: the loop). */
static const struct imap_sort_crit *qsort_crits;
static size_t qsort_count;

static int qsort_cmp(const void *a, const void *b)
{
	return imap_sort_compare(qsort_crits, qsort_count, a, b);
}

void imap_sort_messages(struct imap_sort_msg *msgs, size_t n, const struct imap_sort_crit *crits,
                        size_t count)
{
	qsort_crits = crits;
	qsort_count = count;
	if (n > 1)
		qsort(msgs, n, sizeof(*msgs), qsort_cmp);
}
