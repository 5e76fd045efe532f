/* SPF record parser (RFC 7208 sections 4.5, 4.6, 5 and 6). */
#include "mailauth/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mailauth/spf-private.h"

static const struct {
	const char *name;
	enum spf_mech_type type;
} mech_names[] = {
    {"all", SPF_MECH_ALL}, {"include", SPF_MECH_INCLUDE}, {"a", SPF_MECH_A},
    {"mx", SPF_MECH_MX},   {"ptr", SPF_MECH_PTR},         {"ip4", SPF_MECH_IP4},
    {"ip6", SPF_MECH_IP6}, {"exists", SPF_MECH_EXISTS},
};

bool spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* "/" cidr, no leading zeros (RFC 7208 5.6 ABNF), at most max. */
static int parse_cidr_num(const char *s, size_t len, unsigned max, unsigned *v_r)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*v_r = v;
	return 0;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], given
   s pointing at the first '/'. */
static int parse_dual_cidr(const char *s, size_t len, struct spf_mechanism *m)
{
	const char *p = s + 1, *end = s + len;
	const char *slash2;

	if (p < end && *p == '/')
		return parse_cidr_num(p + 1, (size_t)(end - p - 1), 128, &m->cidr6);
	slash2 = memchr(p, '/', (size_t)(end - p));
	if (slash2 == NULL)
		return parse_cidr_num(p, (size_t)(end - p), 32, &m->cidr4);
	if (parse_cidr_num(p, (size_t)(slash2 - p), 32, &m->cidr4) < 0 || slash2 + 1 >= end ||
	    slash2[1] != '/')
		return -1;
	return parse_cidr_num(slash2 + 2, (size_t)(end - slash2 - 2), 128, &m->cidr6);
}

/* Where a trailing dual-cidr-length ("/24", "//64", "/24//64") starts, or
   len. It is found from the end because a domain-spec may itself hold '/'
   and ':' (RFC 7208 5.3 and its test suite's "a:foo:bar/baz.example.com"). */
static size_t find_cidr(const char *s, size_t len)
{
	size_t p = len, q;

	while (p > 0 && isdigit((unsigned char)s[p - 1]))
		p--;
	if (p < len && p >= 2 && s[p - 1] == '/' && s[p - 2] == '/')
		len = p - 2;
	q = len;
	while (q > 0 && isdigit((unsigned char)s[q - 1]))
		q--;
	if (q < len && q >= 1 && s[q - 1] == '/' && !(q >= 2 && s[q - 2] == '/'))
		return q - 1;
	return len;
}

static int parse_ip(const char *arg, size_t len, struct spf_mechanism *m)
{
	size_t slash =
	    memchr(arg, '/', len) != NULL ? (size_t)((char *)memchr(arg, '/', len) - arg) : len;
	bool v6 = m->type == SPF_MECH_IP6;
	char *text;
	int ok;

	if (slash == 0 || slash >= 64)
		return -1;
	text = xstrndup(arg, slash);
	ok = inet_pton(v6 ? AF_INET6 : AF_INET, text, m->addr);
	free(text);
	if (ok != 1)
		return -1;
	if (slash == len)
		return 0;
	return parse_cidr_num(arg + slash + 1, len - slash - 1, v6 ? 128 : 32,
	                      v6 ? &m->cidr6 : &m->cidr4);
}

/* The part of a directive after the mechanism name: [":" arg] [cidr]. */
static int parse_mech_arg(const char *rest, size_t len, struct spf_mechanism *m)
{
	bool takes_domain = m->type != SPF_MECH_ALL;
	bool needs_domain = m->type == SPF_MECH_INCLUDE || m->type == SPF_MECH_EXISTS;
	bool takes_cidr = m->type == SPF_MECH_A || m->type == SPF_MECH_MX;

	if (m->type == SPF_MECH_IP4 || m->type == SPF_MECH_IP6)
		return len > 1 && rest[0] == ':' ? parse_ip(rest + 1, len - 1, m) : -1;
	if (len == 0)
		return needs_domain ? -1 : 0;
	if (rest[0] == ':' && takes_domain) {
		size_t cidr = takes_cidr ? find_cidr(rest + 1, len - 1) : len - 1;
		if (cidr == 0)
			return -1;
		m->domain_spec = xstrndup(rest + 1, cidr);
		if (!spf_domain_spec_valid(m->domain_spec))
			return -1;
		rest += 1 + cidr;
		len -= 1 + cidr;
		if (len == 0)
			return 0;
	}
	if (rest[0] == '/' && takes_cidr && !needs_domain)
		return parse_dual_cidr(rest, len, m);
	return -1;
}

static int parse_directive(const char *term, size_t len, struct spf_mechanism *m)
{
	size_t i = 0, name_len;

	m->qualifier = SPF_RESULT_PASS;
	m->cidr4 = 32;
	m->cidr6 = 128;
	if (len > 0 && strchr("+-~?", term[0]) != NULL) {
		m->qualifier = term[0] == '+'   ? SPF_RESULT_PASS
		               : term[0] == '-' ? SPF_RESULT_FAIL
		               : term[0] == '~' ? SPF_RESULT_SOFTFAIL
		                                : SPF_RESULT_NEUTRAL;
		i = 1;
	}
	for (name_len = 0; i + name_len < len; name_len++) {
		char c = term[i + name_len];
		if (c == ':' || c == '/')
			break;
	}
	for (size_t k = 0; k < sizeof(mech_names) / sizeof(mech_names[0]); k++) {
		if (strlen(mech_names[k].name) == name_len &&
		    strncasecmp(mech_names[k].name, term + i, name_len) == 0) {
			m->type = mech_names[k].type;
			return parse_mech_arg(term + i + name_len, len - i - name_len, m);
		}
	}
	return -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static bool modifier_name_valid(const char *s, size_t len)
{
	if (len == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr("-_.", s[i]) == NULL)
			return false;
	}
	return true;
}

static int parse_modifier(const char *term, size_t len, size_t eq, struct spf_record *rec,
                          const char **error_r)
{
	const char *value = term + eq + 1;
	size_t vlen = len - eq - 1;
	char **slot = NULL;

	if (!modifier_name_valid(term, eq)) {
		*error_r = "invalid modifier name";
		return -1;
	}
	if (eq == 8 && strncasecmp(term, "redirect", 8) == 0)
		slot = &rec->redirect;
	else if (eq == 3 && strncasecmp(term, "exp", 3) == 0)
		slot = &rec->exp;
	if (slot == NULL) {
		/* RFC 7208 6: unknown modifiers are ignored, but must parse. */
		if (spf_macro_check(value, vlen, false, error_r) < 0)
			return -1;
		return 0;
	}
	if (*slot != NULL) {
		*error_r = "modifier given twice";
		return -1;
	}
	*slot = xstrndup(value, vlen);
	if (!spf_domain_spec_valid(*slot)) {
		*error_r = "invalid domain-spec in modifier";
		return -1;
	}
	return 0;
}

static int parse_term(const char *term, size_t len, struct spf_record *rec, const char **error_r)
{
	size_t eq;

	for (eq = 0; eq < len; eq++) {
		if (term[eq] == '=' || term[eq] == ':' || term[eq] == '/')
			break;
	}
	if (eq < len && term[eq] == '=')
		return parse_modifier(term, len, eq, rec, error_r);
	if (rec->mechanisms.count >= SPF_MAX_TERMS) {
		*error_r = "too many terms";
		return -1;
	}
	struct spf_mechanism *m = array_push(&rec->mechanisms);
	if (parse_directive(term, len, m) < 0) {
		*error_r = "invalid mechanism";
		return -1;
	}
	return 0;
}

static int check_chars(const char *txt, size_t len, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];
		/* RFC 7208 3.1 (ASCII only) and 4.6.1 (terms split by SP only). */
		if (c < 0x20 || c > 0x7e) {
			*error_r = "record has a control or non-ASCII character";
			return -1;
		}
	}
	return 0;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record **record_r,
                     const char **error_r)
{
	struct spf_record *rec;

	if (!spf_is_record(txt, len)) {
		*error_r = "not an SPF record";
		return -1;
	}
	if (len > SPF_MAX_RECORD_LEN) {
		*error_r = "record too long";
		return -1;
	}
	if (check_chars(txt, len, error_r) < 0)
		return -1;
	rec = xcalloc(1, sizeof(*rec));
	for (size_t i = 6; i < len;) {
		while (i < len && txt[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && txt[i] != ' ')
			i++;
		if (i > start && parse_term(txt + start, i - start, rec, error_r) < 0) {
			spf_record_free(&rec);
			return -1;
		}
	}
	*record_r = rec;
	return 0;
}

void spf_record_free(struct spf_record **record)
{
	if (*record == NULL)
		return;
	for (size_t i = 0; i < (*record)->mechanisms.count; i++)
		free((*record)->mechanisms.items[i].domain_spec);
	array_free(&(*record)->mechanisms);
	free((*record)->redirect);
	free((*record)->exp);
	free(*record);
	*record = NULL;
}
