/* MTA-STS records, policies and MX patterns (RFC 8461 3.1, 3.2, 4.1). */

#include "queue/mta-sts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

const char *mta_sts_mode_name(enum mta_sts_mode mode)
{
	switch (mode) {
	case MTA_STS_MODE_ENFORCE:
		return "enforce";
	case MTA_STS_MODE_TESTING:
		return "testing";
	case MTA_STS_MODE_NONE:
		break;
	}
	return "none";
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One "key=value" field of the TXT record (3.1): [start, end). */
static int txt_field(const char *p, const char *end, bool first, char *id_r, bool *have_id)
{
	const char *eq = memchr(p, '=', (size_t)(end - p));
	size_t klen, vlen;

	if (eq == NULL)
		return -1;
	klen = (size_t)(eq - p);
	vlen = (size_t)(end - eq - 1);
	if (first)
		return klen == 1 && p[0] == 'v' && vlen == 5 && memcmp(eq + 1, "STSv1", 5) == 0
		           ? 0
		           : -1;
	if (klen == 2 && memcmp(p, "id", 2) == 0) {
		if (*have_id || vlen == 0 || vlen > MTA_STS_MAX_ID)
			return -1;
		for (size_t i = 0; i < vlen; i++)
			if (!isalnum((unsigned char)eq[1 + i]))
				return -1;
		memcpy(id_r, eq + 1, vlen);
		id_r[vlen] = '\0';
		*have_id = true;
	}
	return 0;
}

int mta_sts_txt_parse(const char *txt, size_t len, char id_r[MTA_STS_MAX_ID + 1])
{
	const char *p = txt, *end = txt + len;
	char id[MTA_STS_MAX_ID + 1];
	bool have_id = false, first = true;

	while (p < end) {
		const char *semi, *fend;

		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			break;
		semi = memchr(p, ';', (size_t)(end - p));
		fend = semi != NULL ? semi : end;
		while (fend > p && is_wsp(fend[-1]))
			fend--;
		if (memchr(p, '\0', (size_t)(fend - p)) != NULL ||
		    txt_field(p, fend, first, id, &have_id) < 0)
			return -1;
		first = false;
		p = semi != NULL ? semi + 1 : end;
	}
	if (first || !have_id)
		return -1;
	memcpy(id_r, id, strlen(id) + 1);
	return 0;
}

/* The fields seen so far while parsing a policy. */
struct policy_parse {
	struct mta_sts_policy *policy;
	bool version, mode, max_age;
};

static int parse_max_age(const char *v, size_t len, unsigned *age_r)
{
	unsigned long age = 0;

	/* RFC 8461 3.2: max_age is 1*10DIGIT. */
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		age = age * 10 + (unsigned long)(v[i] - '0');
	}
	*age_r = age > MTA_STS_MAX_AGE ? MTA_STS_MAX_AGE : (unsigned)age;
	return 0;
}

static int parse_mode(const char *v, size_t len, enum mta_sts_mode *mode_r)
{
	if (len == 7 && memcmp(v, "enforce", 7) == 0)
		*mode_r = MTA_STS_MODE_ENFORCE;
	else if (len == 7 && memcmp(v, "testing", 7) == 0)
		*mode_r = MTA_STS_MODE_TESTING;
	else if (len == 4 && memcmp(v, "none", 4) == 0)
		*mode_r = MTA_STS_MODE_NONE;
	else
		return -1;
	return 0;
}

/* An mx pattern: a host name, optionally "*." then a host name; letters,
   digits, '-', '.', no empty label. */
static bool mx_pattern_valid(const char *v, size_t len)
{
	size_t i = 0, label = 0;

	if (len >= 2 && v[0] == '*' && v[1] == '.')
		i = 2;
	if (i == len || len > 255)
		return false;
	for (; i < len; i++) {
		char c = v[i];

		if (c == '.') {
			if (label == 0 && i + 1 != len)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return label > 0 || (len > 1 && v[len - 1] == '.');
}

static void add_mx(struct mta_sts_policy *policy, const char *v, size_t len)
{
	char *mx;

	if (v[len - 1] == '.')
		len--;
	mx = xstrndup(v, len);
	for (char *c = mx; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	array_append(&policy->mx, mx);
}

static int policy_field(struct policy_parse *pp, const char *k, size_t klen, const char *v,
                        size_t vlen, const char **error_r)
{
	if (klen == 7 && memcmp(k, "version", 7) == 0) {
		if (!pp->version && (vlen != 5 || memcmp(v, "STSv1", 5) != 0)) {
			*error_r = "version is not STSv1";
			return -1;
		}
		pp->version = true;
	} else if (klen == 4 && memcmp(k, "mode", 4) == 0) {
		if (!pp->mode && parse_mode(v, vlen, &pp->policy->mode) < 0) {
			*error_r = "mode is not enforce, testing or none";
			return -1;
		}
		pp->mode = true;
	} else if (klen == 7 && memcmp(k, "max_age", 7) == 0) {
		if (!pp->max_age && parse_max_age(v, vlen, &pp->policy->max_age) < 0) {
			*error_r = "max_age is not a number of seconds";
			return -1;
		}
		pp->max_age = true;
	} else if (klen == 2 && memcmp(k, "mx", 2) == 0) {
		if (!mx_pattern_valid(v, vlen)) {
			*error_r = "mx is not a host name pattern";
			return -1;
		}
		add_mx(pp->policy, v, vlen);
	}
	return 0;
}

/* One line without its line end. */
static int policy_line(struct policy_parse *pp, const char *p, size_t len, const char **error_r)
{
	const char *colon, *v, *end = p + len;
	size_t klen;

	if (len == 0)
		return 0; /* a trailing empty line */
	colon = memchr(p, ':', len);
	if (colon == NULL || colon == p) {
		*error_r = "a line is not key: value";
		return -1;
	}
	klen = (size_t)(colon - p);
	for (size_t i = 0; i < klen; i++) {
		char c = p[i];

		if (!isalnum((unsigned char)c) && c != '_' && c != '-' && c != '.') {
			*error_r = "a key has a bad character";
			return -1;
		}
	}
	v = colon + 1;
	while (v < end && is_wsp(*v))
		v++;
	while (end > v && is_wsp(end[-1]))
		end--;
	for (const char *c = v; c < end; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			*error_r = "a value has a control character";
			return -1;
		}
	}
	return policy_field(pp, p, klen, v, (size_t)(end - v), error_r);
}

static int policy_lines(struct policy_parse *pp, const char *text, size_t len, const char **error_r)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t llen = (size_t)((lf != NULL ? lf : end) - p);

		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (policy_line(pp, p, llen, error_r) < 0)
			return -1;
		p = lf != NULL ? lf + 1 : end;
	}
	return 0;
}

int mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy **policy_r,
                         const char **error_r)
{
	struct policy_parse pp = {.policy = xcalloc(1, sizeof(*pp.policy))};

	if (len > MTA_STS_MAX_POLICY) {
		*error_r = "policy larger than 64 KiB";
	} else if (policy_lines(&pp, text, len, error_r) == 0) {
		if (!pp.version)
			*error_r = "no version";
		else if (!pp.mode)
			*error_r = "no mode";
		else if (!pp.max_age)
			*error_r = "no max_age";
		else if (pp.policy->mode != MTA_STS_MODE_NONE && pp.policy->mx.count == 0)
			*error_r = "no mx";
		else {
			*policy_r = pp.policy;
			return 0;
		}
	}
	mta_sts_policy_free(&pp.policy);
	return -1;
}

bool mta_sts_pattern_match(const char *pattern, const char *host)
{
	size_t hlen = strlen(host), plen;
	const char *dot;

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (pattern[0] != '*') {
		plen = strlen(pattern);
		return plen == hlen && strncasecmp(pattern, host, hlen) == 0;
	}
	/* "*.example.net": host is one non-empty label, then ".example.net". */
	dot = memchr(host, '.', hlen);
	if (dot == NULL || dot == host)
		return false;
	plen = strlen(pattern + 1);
	return (size_t)(host + hlen - dot) == plen && strncasecmp(dot, pattern + 1, plen) == 0;
}

bool mta_sts_policy_allows_mx(const struct mta_sts_policy *policy, const char *host)
{
	for (size_t i = 0; i < policy->mx.count; i++)
		if (mta_sts_pattern_match(policy->mx.items[i], host))
			return true;
	return false;
}

void mta_sts_policy_free(struct mta_sts_policy **policy)
{
	if (*policy == NULL)
		return;
	for (size_t i = 0; i < (*policy)->mx.count; i++)
		free((*policy)->mx.items[i]);
	array_free(&(*policy)->mx);
	free(*policy);
	*policy = NULL;
}
