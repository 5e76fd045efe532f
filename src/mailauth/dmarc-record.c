/* DMARC records (RFC 7489 6.3), alignment (3.1) and From domains. */
#include "mailauth/dmarc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mailauth/tag-list.h"
#include "mime/mime-address.h"

const char *dmarc_result_name(enum dmarc_result result)
{
	switch (result) {
	case DMARC_RESULT_NONE:
		return "none";
	case DMARC_RESULT_PASS:
		return "pass";
	case DMARC_RESULT_FAIL:
		return "fail";
	case DMARC_RESULT_TEMPERROR:
		return "temperror";
	case DMARC_RESULT_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

const char *dmarc_policy_name(enum dmarc_policy policy)
{
	switch (policy) {
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	}
	return "none";
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool dmarc_is_record(const char *txt, size_t len)
{
	size_t i = 0;

	while (i < len && is_wsp(txt[i]))
		i++;
	if (i == len || txt[i++] != 'v')
		return false;
	while (i < len && is_wsp(txt[i]))
		i++;
	if (i == len || txt[i++] != '=')
		return false;
	while (i < len && is_wsp(txt[i]))
		i++;
	if (len - i < 6 || memcmp(txt + i, "DMARC1", 6) != 0)
		return false;
	for (i += 6; i < len && is_wsp(txt[i]); i++)
		;
	return i == len || txt[i] == ';';
}

/* "none" / "quarantine" / "reject", case-insensitive (ABNF strings). */
static int parse_policy(const char *v, enum dmarc_policy *policy_r)
{
	static const char *const names[] = {"none", "quarantine", "reject"};

	for (unsigned i = 0; i < 3; i++) {
		if (v != NULL && strcasecmp(v, names[i]) == 0) {
			*policy_r = (enum dmarc_policy)i;
			return 0;
		}
	}
	return -1;
}

static void parse_alignment(const char *v, enum dmarc_alignment *align_r)
{
	if (v != NULL && strcasecmp(v, "s") == 0)
		*align_r = DMARC_ALIGN_STRICT;
	else
		*align_r = DMARC_ALIGN_RELAXED;
}

/* A decimal number up to max, else def. */
static unsigned long parse_number(const char *v, unsigned long max, unsigned long def)
{
	char *end;
	unsigned long n;

	if (v == NULL || !isdigit((unsigned char)v[0]))
		return def;
	errno = 0;
	n = strtoul(v, &end, 10);
	return errno != 0 || *end != '\0' || n > max ? def : n;
}

/* True if v has only characters of accept, separated by ':', non-empty. */
static bool is_colon_list(const char *v, const char *const *words)
{
	const char *p = v;

	while (v != NULL) {
		size_t n = strcspn(p, ":");
		bool ok = false;

		for (size_t i = 0; words[i] != NULL; i++)
			ok = ok || (strlen(words[i]) == n && strncasecmp(p, words[i], n) == 0);
		if (!ok)
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
	return false;
}

/* 6.6.3: "at least one syntactically valid reporting URI": a scheme
   (RFC 3986 3.1), ':' and something after it. */
static bool has_valid_uri(const char *rua)
{
	const char *p = rua;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");
		size_t i = 0;

		while (i < n && is_wsp(p[i]))
			i++;
		if (i < n && isalpha((unsigned char)p[i])) {
			while (i < n && (isalnum((unsigned char)p[i]) || strchr("+-.", p[i])))
				i++;
			if (i + 1 < n && p[i] == ':')
				return true;
		}
		p = p[n] == ',' ? p + n + 1 : p + n;
	}
	return false;
}

static void fill_record(const struct tag_list *tags, struct dmarc_record *r)
{
	static const char *const fo_words[] = {"0", "1", "d", "s", NULL};
	static const char *const rf_words[] = {"afrf", "iodef", NULL};
	const char *v;

	r->has_sp = parse_policy(tag_list_value(tags, "sp"), &r->sp) == 0;
	r->has_np = parse_policy(tag_list_value(tags, "np"), &r->np) == 0;
	if (!r->has_sp)
		r->sp = r->p;
	if (!r->has_np)
		r->np = r->sp;
	parse_alignment(tag_list_value(tags, "adkim"), &r->adkim);
	parse_alignment(tag_list_value(tags, "aspf"), &r->aspf);
	r->pct = (unsigned)parse_number(tag_list_value(tags, "pct"), 100, 100);
	r->ri = (uint32_t)parse_number(tag_list_value(tags, "ri"), UINT32_MAX, 86400);
	v = tag_list_value(tags, "rua");
	r->rua = v == NULL ? NULL : xstrdup(v);
	v = tag_list_value(tags, "ruf");
	r->ruf = v == NULL ? NULL : xstrdup(v);
	v = tag_list_value(tags, "fo");
	r->fo = xstrdup(v != NULL && is_colon_list(v, fo_words) ? v : "0");
	v = tag_list_value(tags, "rf");
	r->rf = xstrdup(v != NULL && is_colon_list(v, rf_words) ? v : "afrf");
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record **record_r,
                       const char **error_r)
{
	struct tag_list tags = {ARRAY_INIT};
	struct dmarc_record *r;
	const char *sp;
	enum dmarc_policy p = DMARC_POLICY_NONE, ignored;
	bool valid_p;

	if (len > DMARC_MAX_RECORD_LEN) {
		*error_r = "record too long";
		return -1;
	}
	if (tag_list_parse_flags(txt, len, TAG_LIST_ALLOW_EMPTY, &tags, error_r) < 0) {
		tag_list_free(&tags);
		return -1;
	}
	if (tags.tags.count == 0 || strcmp(tags.tags.items[0].name, "v") != 0 ||
	    strcmp(tags.tags.items[0].value, "DMARC1") != 0) {
		tag_list_free(&tags);
		*error_r = "v=DMARC1 is not the first tag";
		return -1;
	}
	sp = tag_list_value(&tags, "sp");
	valid_p = parse_policy(tag_list_value(&tags, "p"), &p) == 0 &&
	          (sp == NULL || parse_policy(sp, &ignored) == 0);
	if (!valid_p && !has_valid_uri(tag_list_value(&tags, "rua"))) {
		tag_list_free(&tags);
		return 1;
	}
	r = xcalloc(1, sizeof(*r));
	/* 6.6.3: an invalid p= with a valid rua= acts as p=none. */
	r->p = valid_p ? p : DMARC_POLICY_NONE;
	fill_record(&tags, r);
	tag_list_free(&tags);
	*record_r = r;
	return 0;
}

void dmarc_record_free(struct dmarc_record **record)
{
	if (*record == NULL)
		return;
	free((*record)->rua);
	free((*record)->ruf);
	free((*record)->fo);
	free((*record)->rf);
	free(*record);
	*record = NULL;
}

/* Copy name without leading and trailing dots into out (size bytes);
   false if it does not fit. */
static bool trim_dots(const char *name, char *out, size_t size)
{
	size_t len;

	while (*name == '.')
		name++;
	len = strlen(name);
	while (len > 0 && name[len - 1] == '.')
		len--;
	if (len >= size)
		return false;
	memcpy(out, name, len);
	out[len] = '\0';
	return true;
}

static const char *org_or_self(const struct psl *psl, const char *name)
{
	const char *org;

	if (psl == NULL || psl_org_domain(psl, name, &org) != 1)
		return name;
	return org;
}

bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, enum dmarc_alignment mode)
{
	char ta[PSL_MAX_NAME], tb[PSL_MAX_NAME];

	if (a == NULL || b == NULL || !trim_dots(a, ta, sizeof(ta)) ||
	    !trim_dots(b, tb, sizeof(tb)) || ta[0] == '\0' || tb[0] == '\0')
		return false;
	if (strcasecmp(ta, tb) == 0)
		return true;
	if (mode == DMARC_ALIGN_STRICT)
		return false;
	return strcasecmp(org_or_self(psl, ta), org_or_self(psl, tb)) == 0;
}

/* A lower-case copy without a trailing dot (an absolute name). */
static char *lower_dup(const char *s)
{
	size_t len = strlen(s);
	char *d = xstrndup(s, len > 1 && s[len - 1] == '.' ? len - 1 : len);

	for (char *p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

void dmarc_from_domains(const char *value, size_t len, char **domains, size_t *count_r, size_t max)
{
	struct mime_address *list;
	size_t count;

	mime_address_list_parse(value, len, &list, &count);
	for (size_t i = 0; i < count && *count_r < max; i++) {
		const char *raw = list[i].domain;
		bool seen = false;
		char *d;

		if (raw == NULL || raw[0] == '\0' || list[i].group_start)
			continue;
		d = lower_dup(raw);
		for (size_t j = 0; j < *count_r; j++)
			seen = seen || strcmp(domains[j], d) == 0;
		if (seen)
			free(d);
		else
			domains[(*count_r)++] = d;
	}
	mime_address_list_free(&list, count);
}
