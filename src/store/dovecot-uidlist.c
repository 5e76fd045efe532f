/* Reading dovecot-uidlist (dovecot-uidlist.h). */
#include "store/dovecot-uidlist.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

/* A decimal number of up to 32 bits at *p, which moves past it. */
static bool parse_u32(const char **p, const char *end, uint32_t *out)
{
	uint64_t n = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return false;
		s++;
	}
	*p = s;
	*out = (uint32_t)n;
	return true;
}

/* "3 V123 N45 G..." or "1 123 45". */
static int parse_header(const char *s, const char *end, struct dovecot_uidlist *l,
                        unsigned *version_r)
{
	uint32_t version;

	if (!parse_u32(&s, end, &version) || (version != 1 && version != 3))
		return -1;
	*version_r = version;
	if (version == 1) {
		if (s >= end || *s++ != ' ' || !parse_u32(&s, end, &l->uidvalidity) || s >= end ||
		    *s++ != ' ' || !parse_u32(&s, end, &l->next_uid))
			return -1;
		return l->uidvalidity != 0 ? 0 : -1;
	}
	while (s < end) {
		if (*s == ' ') {
			s++;
		} else if (*s == 'V' || *s == 'N') {
			uint32_t *field = *s == 'V' ? &l->uidvalidity : &l->next_uid;

			s++;
			if (!parse_u32(&s, end, field))
				return -1;
		} else { /* another field (G: the mailbox GUID, ...) */
			while (s < end && *s != ' ')
				s++;
		}
	}
	return l->uidvalidity != 0 ? 0 : -1;
}

/* "12 W345 S678 :base" (version 3) or "12 base" (version 1). */
static void parse_line(const char *s, const char *end, unsigned version, struct dovecot_uidlist *l)
{
	struct dovecot_uid u;
	const char *name;

	if (!parse_u32(&s, end, &u.uid) || u.uid == 0 || s >= end || *s != ' ')
		return;
	if (version == 3) {
		name = memchr(s, ':', (size_t)(end - s));
		if (name == NULL || name[-1] != ' ')
			return;
		name++;
	} else {
		name = s + 1;
	}
	if (name >= end || memchr(name, '/', (size_t)(end - name)) != NULL)
		return;
	u.base = xstrndup(name, (size_t)(end - name));
	array_append(&l->uids, u);
}

static int by_base(const void *a, const void *b)
{
	return strcmp(((const struct dovecot_uid *)a)->base, ((const struct dovecot_uid *)b)->base);
}

static int by_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted by base; a base or a UID listed twice is a broken file. */
static int finish(struct dovecot_uidlist *l)
{
	size_t n = l->uids.count;
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));
	int ret = 0;

	if (n > 0) /* (an empty array has no items pointer for qsort) */
		qsort(l->uids.items, n, sizeof(*l->uids.items), by_base);
	for (size_t i = 0; i < n; i++) {
		uids[i] = l->uids.items[i].uid;
		if (i > 0 && strcmp(l->uids.items[i - 1].base, l->uids.items[i].base) == 0)
			ret = -1;
	}
	if (n > 0)
		qsort(uids, n, sizeof(*uids), by_uid);
	for (size_t i = 1; i < n; i++) {
		if (uids[i - 1] == uids[i])
			ret = -1;
	}
	if (n > 0 && uids[n - 1] == UINT32_MAX)
		ret = -1;
	if (ret == 0 && n > 0 && l->next_uid <= uids[n - 1])
		l->next_uid = uids[n - 1] + 1;
	if (l->next_uid == 0)
		l->next_uid = 1;
	free(uids);
	return ret;
}

int dovecot_uidlist_parse(const char *data, size_t len, struct dovecot_uidlist *l,
                          const char **error_r)
{
	const char *end = data + len, *line = data, *nl;
	unsigned version = 0;

	memset(l, 0, sizeof(*l));
	nl = memchr(line, '\n', len);
	if (nl == NULL || parse_header(line, nl, l, &version) < 0) {
		*error_r = "dovecot-uidlist: bad header";
		return -1;
	}
	for (line = nl + 1; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end; /* a last line without its newline */
		parse_line(line, nl, version, l);
	}
	if (finish(l) < 0) {
		dovecot_uidlist_clear(l);
		*error_r = "dovecot-uidlist: a file or a UID listed twice";
		return -1;
	}
	return 0;
}

uint32_t dovecot_uidlist_find(const struct dovecot_uidlist *l, const char *base, size_t len)
{
	size_t lo = 0, hi = l->uids.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *b = l->uids.items[mid].base;
		int c = strncmp(b, base, len);

		if (c == 0 && b[len] != '\0')
			c = 1;
		if (c == 0)
			return l->uids.items[mid].uid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void dovecot_uidlist_clear(struct dovecot_uidlist *l)
{
	for (size_t i = 0; i < l->uids.count; i++)
		free(l->uids.items[i].base);
	array_free(&l->uids);
	memset(l, 0, sizeof(*l));
}
