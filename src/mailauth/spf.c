/* SPF check_host() (RFC 7208 sections 4 to 6, 8), resumable and I/O-free.
   Each spf_check_run() evaluates from the start over the answers cached so
   far; a missing answer unwinds the evaluation with EVAL_PENDING. */
#include "mailauth/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/xalloc.h"

/* Outcome of evaluating one step. */
enum eval {
	EVAL_NOMATCH,
	EVAL_MATCH,
	EVAL_DONE,    /* a final result (temperror/permerror) is in res */
	EVAL_PENDING, /* need a DNS answer: check->need_* say which */
};

/* include/redirect nesting; the lookup limit stops it first in practice. */
#define MAX_DEPTH 12

struct cached {
	char *name;
	enum dns_type type;
	struct dns_answer *answer;
};

struct spf_check {
	uint8_t ip[16];
	bool ipv6;
	char *ip_text, *helo, *sender, *local_part, *domain, *receiver;
	time_t now;

	ARRAY(struct cached) cache;

	/* State of one run. */
	unsigned lookups, voids;
	struct buf need_name;
	enum dns_type need_type;
	enum spf_result result;
	char *explanation, *reason;
};

const char *spf_result_name(enum spf_result result)
{
	static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
	                                    "softfail", "temperror", "permerror"};

	return (unsigned)result < 7 ? names[result] : "unknown";
}

static void set_reason(struct spf_check *c, const char *fmt, const char *arg)
{
	free(c->reason);
	c->reason = xasprintf(fmt, arg != NULL ? arg : "");
}

/* ---- setup ---- */

static int parse_client_ip(struct spf_check *c, const char *text)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (inet_pton(AF_INET, text, c->ip) == 1)
		return 0;
	if (inet_pton(AF_INET6, text, c->ip) != 1)
		return -1;
	c->ipv6 = true;
	/* RFC 7208 5: an IPv4-mapped IPv6 client is treated as IPv4. */
	if (memcmp(c->ip, mapped, 12) == 0) {
		memmove(c->ip, c->ip + 12, 4);
		c->ipv6 = false;
	}
	return 0;
}

static void setup_identity(struct spf_check *c, const char *mail_from)
{
	const char *at = strrchr(mail_from, '@');

	/* RFC 7208 2.4 and 4.3: with a null sender the HELO identity is
	   checked as postmaster@helo; an empty local-part is "postmaster". */
	if (mail_from[0] == '\0') {
		c->local_part = xstrdup("postmaster");
		c->domain = xstrdup(c->helo);
	} else if (at == NULL) {
		c->local_part = xstrdup("postmaster");
		c->domain = xstrdup(mail_from);
	} else {
		c->local_part = at == mail_from ? xstrdup("postmaster")
		                                : xstrndup(mail_from, (size_t)(at - mail_from));
		c->domain = xstrdup(at + 1);
	}
	c->sender = xasprintf("%s@%s", c->local_part, c->domain);
}

int spf_check_new(const struct spf_check_params *params, struct spf_check **check_r,
                  const char **error_r)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));

	if (parse_client_ip(c, params->ip) < 0) {
		free(c);
		*error_r = "not an IP address";
		return -1;
	}
	c->ip_text = xstrdup(params->ip);
	c->helo = xstrdup(params->helo != NULL ? params->helo : "");
	c->receiver = params->receiver != NULL ? xstrdup(params->receiver) : NULL;
	c->now = params->now != 0 ? params->now : time(NULL);
	setup_identity(c, params->mail_from != NULL ? params->mail_from : "");
	*check_r = c;
	return 0;
}

/* ---- DNS answers ---- */

static const struct dns_answer *cache_find(const struct spf_check *c, const char *name,
                                           enum dns_type type)
{
	for (size_t i = 0; i < c->cache.count; i++) {
		if (c->cache.items[i].type == type && dns_name_equal(c->cache.items[i].name, name))
			return c->cache.items[i].answer;
	}
	return NULL;
}

void spf_check_answer(struct spf_check *check, const char *name, enum dns_type type,
                      const struct dns_answer *answer)
{
	if (cache_find(check, name, type) != NULL)
		return;
	array_append(&check->cache,
	             ((struct cached){
	                 .name = xstrdup(name), .type = type, .answer = dns_answer_dup(answer)}));
}

static enum eval dns_get(struct spf_check *c, const char *name, enum dns_type type,
                         const struct dns_answer **answer_r)
{
	*answer_r = cache_find(c, name, type);
	if (*answer_r != NULL)
		return EVAL_NOMATCH;
	buf_clear(&c->need_name);
	buf_append_str(&c->need_name, name);
	c->need_type = type;
	return EVAL_PENDING;
}

static bool dns_failed(const struct dns_answer *a)
{
	return a->status == DNS_STATUS_TEMPFAIL || a->status == DNS_STATUS_TIMEOUT;
}

static enum eval fail_with(struct spf_check *c, enum spf_result *res, enum spf_result r,
                           const char *fmt, const char *arg)
{
	*res = r;
	set_reason(c, fmt, arg);
	return EVAL_DONE;
}

/* RFC 7208 4.6.4: count a mechanism or modifier that queries DNS. */
static enum eval count_lookup(struct spf_check *c, enum spf_result *res)
{
	if (++c->lookups > SPF_MAX_DNS_MECHANISMS)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "too many DNS lookups%s", NULL);
	return EVAL_NOMATCH;
}

/* RFC 7208 4.6.4: more than two void lookups is a permerror. */
static enum eval count_void(struct spf_check *c, const struct dns_answer *a, enum spf_result *res)
{
	if (a->status != DNS_STATUS_NXDOMAIN && a->status != DNS_STATUS_NODATA)
		return EVAL_NOMATCH;
	if (++c->voids > SPF_MAX_VOID_LOOKUPS)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "too many void DNS lookups%s", NULL);
	return EVAL_NOMATCH;
}

/* ---- names ---- */

/* RFC 7208 4.3: a multi-label name, labels 1 to 63 octets. */
static bool domain_valid(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || d[0] == '[')
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			label = 0;
		} else {
			label++;
		}
	}
	return labels >= 2;
}

/* RFC 7208 7.3: drop leading labels until the name fits in 253 octets. */
static void truncate_name(struct buf *b)
{
	size_t len = b->len;

	if (len > 0 && b->data[len - 1] == '.')
		len--;
	size_t skip = 0;
	while (len - skip > 253) {
		const char *dot = memchr(b->data + skip, '.', len - skip);
		if (dot == NULL)
			break;
		skip = (size_t)(dot - b->data) + 1;
	}
	buf_consume(b, skip);
}

static void reverse_name(const struct spf_check *c, struct buf *out)
{
	if (!c->ipv6) {
		buf_printf(out, "%u.%u.%u.%u.in-addr.arpa", c->ip[3], c->ip[2], c->ip[1], c->ip[0]);
		return;
	}
	for (int i = 15; i >= 0; i--)
		buf_printf(out, "%x.%x.", c->ip[i] & 15, c->ip[i] >> 4);
	buf_append_str(out, "ip6.arpa");
}

static bool addr_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static enum dns_type addr_type(const struct spf_check *c)
{
	return c->ipv6 ? DNS_TYPE_AAAA : DNS_TYPE_A;
}

static bool answer_has_ip(const struct spf_check *c, const struct dns_answer *a, unsigned cidr4,
                          unsigned cidr6)
{
	for (size_t i = 0; i < a->rrs.count; i++) {
		const struct dns_rr *rr = &a->rrs.items[i];
		if (!c->ipv6 && rr->type == DNS_TYPE_A && addr_match(rr->u.a, c->ip, cidr4))
			return true;
		if (c->ipv6 && rr->type == DNS_TYPE_AAAA && addr_match(rr->u.aaaa, c->ip, cidr6))
			return true;
	}
	return false;
}

/* ---- %{p} and ptr: validated names (RFC 7208 5.5) ---- */

static bool name_within(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (nl < dl || strncasecmp(name + nl - dl, domain, dl) != 0)
		return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

/* Find a validated name for the client within target (any validated name
   when target is NULL). Sets *found_r to the name (pointing into the
   cache) or NULL. DNS errors make a name not validate. */
static enum eval validated_name(struct spf_check *c, const char *target, const char **found_r)
{
	struct buf rev = BUF_INIT;
	const struct dns_answer *ptrs, *addrs;
	enum eval e;

	*found_r = NULL;
	reverse_name(c, &rev);
	e = dns_get(c, buf_cstr(&rev), DNS_TYPE_PTR, &ptrs);
	buf_free(&rev);
	if (e != EVAL_NOMATCH || ptrs->status != DNS_STATUS_OK)
		return e;
	for (size_t i = 0; i < ptrs->rrs.count && i < SPF_MAX_MX_OR_PTR_NAMES; i++) {
		const char *name = ptrs->rrs.items[i].u.name;
		if (target != NULL && !name_within(name, target))
			continue;
		if (dns_get(c, name, addr_type(c), &addrs) == EVAL_PENDING)
			return EVAL_PENDING;
		if (answer_has_ip(c, addrs, 32, 128)) {
			*found_r = name;
			return EVAL_NOMATCH;
		}
	}
	return EVAL_NOMATCH;
}

/* ---- macro expansion in context ---- */

static void macro_vars(const struct spf_check *c, const char *domain, struct spf_macro_vars *v)
{
	*v = (struct spf_macro_vars){
	    .sender = c->sender,
	    .local_part = c->local_part,
	    .sender_domain = c->domain,
	    .domain = domain,
	    .ip = c->ip,
	    .ipv6 = c->ipv6,
	    .helo = c->helo,
	    .receiver = c->receiver,
	    .now = c->now,
	};
}

/* Expand spec in the context of domain into out. EVAL_DONE with a
   permerror on a macro error. */
static enum eval expand(struct spf_check *c, const char *spec, const char *domain, bool explanation,
                        struct buf *out, enum spf_result *res)
{
	struct spf_macro_vars v;
	const char *error, *p;
	int ret;

	macro_vars(c, domain, &v);
	ret = spf_macro_expand(spec, strlen(spec), &v, explanation, out, &error);
	if (ret == 1) {
		/* RFC 7208 7.3: p is a validated name, preferably within d. */
		enum eval e = validated_name(c, domain, &p);
		if (e == EVAL_NOMATCH && p == NULL)
			e = validated_name(c, NULL, &p);
		if (e != EVAL_NOMATCH)
			return e;
		v.validated = p != NULL ? p : "unknown";
		ret = spf_macro_expand(spec, strlen(spec), &v, explanation, out, &error);
	}
	if (ret < 0)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "%s", error);
	if (!explanation)
		truncate_name(out);
	return EVAL_NOMATCH;
}

/* The target of a mechanism: its expanded domain-spec, or domain. */
static enum eval target_name(struct spf_check *c, const struct spf_mechanism *m, const char *domain,
                             struct buf *out, enum spf_result *res)
{
	if (m->domain_spec == NULL) {
		buf_append_str(out, domain);
		return EVAL_NOMATCH;
	}
	return expand(c, m->domain_spec, domain, false, out, res);
}

/* ---- mechanisms (RFC 7208 5) ---- */

static enum eval check_host(struct spf_check *c, const char *domain, int depth, bool want_exp,
                            enum spf_result *res);

static enum eval mech_include(struct spf_check *c, const char *target, int depth,
                              enum spf_result *res)
{
	enum spf_result sub;
	enum eval e = check_host(c, target, depth + 1, false, &sub);

	if (e == EVAL_PENDING)
		return e;
	/* RFC 7208 5.2 table. */
	switch (sub) {
	case SPF_RESULT_PASS:
		return EVAL_MATCH;
	case SPF_RESULT_FAIL:
	case SPF_RESULT_SOFTFAIL:
	case SPF_RESULT_NEUTRAL:
		return EVAL_NOMATCH;
	case SPF_RESULT_TEMPERROR:
		*res = SPF_RESULT_TEMPERROR;
		return EVAL_DONE;
	default:
		return fail_with(c, res, SPF_RESULT_PERMERROR, "include:%s has no valid record",
		                 target);
	}
}

static enum eval addr_lookup(struct spf_check *c, const char *name, enum dns_type type,
                             bool primary, const struct dns_answer **a_r, enum spf_result *res)
{
	enum eval e = dns_get(c, name, type, a_r);

	if (e != EVAL_NOMATCH)
		return e;
	if (dns_failed(*a_r))
		return fail_with(c, res, SPF_RESULT_TEMPERROR, "DNS failure for %s", name);
	return primary ? count_void(c, *a_r, res) : EVAL_NOMATCH;
}

static enum eval mech_a(struct spf_check *c, const struct spf_mechanism *m, const char *target,
                        enum spf_result *res)
{
	const struct dns_answer *a;
	enum eval e = addr_lookup(c, target, addr_type(c), true, &a, res);

	if (e != EVAL_NOMATCH)
		return e;
	return answer_has_ip(c, a, m->cidr4, m->cidr6) ? EVAL_MATCH : EVAL_NOMATCH;
}

static enum eval mech_mx(struct spf_check *c, const struct spf_mechanism *m, const char *target,
                         enum spf_result *res)
{
	const struct dns_answer *mx, *a;
	enum eval e = addr_lookup(c, target, DNS_TYPE_MX, true, &mx, res);

	if (e != EVAL_NOMATCH)
		return e;
	/* RFC 7208 4.6.4: no more than 10 address lookups per mx. */
	if (mx->rrs.count > SPF_MAX_MX_OR_PTR_NAMES)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "too many MX names for %s", target);
	for (size_t i = 0; i < mx->rrs.count; i++) {
		const char *host = mx->rrs.items[i].u.mx.exchange;
		if (host[0] == '\0')
			continue;
		e = addr_lookup(c, host, addr_type(c), false, &a, res);
		if (e != EVAL_NOMATCH)
			return e;
		if (answer_has_ip(c, a, m->cidr4, m->cidr6))
			return EVAL_MATCH;
	}
	return EVAL_NOMATCH;
}

static enum eval mech_ptr(struct spf_check *c, const char *target, enum spf_result *res)
{
	const char *found;
	struct buf rev = BUF_INIT;
	const struct dns_answer *ptrs;
	enum eval e;

	/* The PTR query is the one that can be void. */
	reverse_name(c, &rev);
	e = dns_get(c, buf_cstr(&rev), DNS_TYPE_PTR, &ptrs);
	buf_free(&rev);
	if (e != EVAL_NOMATCH)
		return e;
	if (count_void(c, ptrs, res) == EVAL_DONE)
		return EVAL_DONE;
	e = validated_name(c, target, &found);
	if (e != EVAL_NOMATCH)
		return e;
	return found != NULL ? EVAL_MATCH : EVAL_NOMATCH;
}

static enum eval mech_exists(struct spf_check *c, const char *target, enum spf_result *res)
{
	const struct dns_answer *a;
	/* RFC 7208 5.7: always an A query, whatever the client's family. */
	enum eval e = addr_lookup(c, target, DNS_TYPE_A, true, &a, res);

	if (e != EVAL_NOMATCH)
		return e;
	return a->rrs.count > 0 ? EVAL_MATCH : EVAL_NOMATCH;
}

static enum eval mech_ip(const struct spf_check *c, const struct spf_mechanism *m)
{
	bool v6 = m->type == SPF_MECH_IP6;

	if (v6 != c->ipv6)
		return EVAL_NOMATCH;
	return addr_match(m->addr, c->ip, v6 ? m->cidr6 : m->cidr4) ? EVAL_MATCH : EVAL_NOMATCH;
}

static enum eval eval_mechanism(struct spf_check *c, const struct spf_mechanism *m,
                                const char *domain, int depth, enum spf_result *res)
{
	struct buf target = BUF_INIT;
	enum eval e;

	if (m->type == SPF_MECH_ALL)
		return EVAL_MATCH;
	if (m->type == SPF_MECH_IP4 || m->type == SPF_MECH_IP6)
		return mech_ip(c, m);
	e = count_lookup(c, res);
	if (e == EVAL_NOMATCH)
		e = target_name(c, m, domain, &target, res);
	if (e != EVAL_NOMATCH) {
		buf_free(&target);
		return e;
	}
	const char *t = buf_cstr(&target);
	switch (m->type) {
	case SPF_MECH_INCLUDE:
		e = mech_include(c, t, depth, res);
		break;
	case SPF_MECH_A:
		e = mech_a(c, m, t, res);
		break;
	case SPF_MECH_MX:
		e = mech_mx(c, m, t, res);
		break;
	case SPF_MECH_PTR:
		e = mech_ptr(c, t, res);
		break;
	default:
		e = mech_exists(c, t, res);
		break;
	}
	buf_free(&target);
	return e;
}

/* ---- record selection and evaluation (RFC 7208 4.4, 4.5, 4.6) ---- */

static enum eval find_record(struct spf_check *c, const char *domain, struct spf_record **rec_r,
                             enum spf_result *res)
{
	const struct dns_answer *txt;
	const struct dns_rr *found = NULL;
	const char *error;
	enum eval e = dns_get(c, domain, DNS_TYPE_TXT, &txt);

	*rec_r = NULL;
	if (e != EVAL_NOMATCH)
		return e;
	if (dns_failed(txt))
		return fail_with(c, res, SPF_RESULT_TEMPERROR, "DNS failure for %s", domain);
	for (size_t i = 0; i < txt->rrs.count; i++) {
		if (!spf_is_record(txt->rrs.items[i].u.txt.data, txt->rrs.items[i].u.txt.len))
			continue;
		if (found != NULL)
			return fail_with(c, res, SPF_RESULT_PERMERROR, "%s has several SPF records",
			                 domain);
		found = &txt->rrs.items[i];
	}
	if (found == NULL)
		return fail_with(c, res, SPF_RESULT_NONE, "%s has no SPF record", domain);
	if (spf_record_parse(found->u.txt.data, found->u.txt.len, rec_r, &error) < 0)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "%s", error);
	return EVAL_NOMATCH;
}

/* RFC 7208 6.2: the explanation for a fail. Any problem means none. */
static enum eval explain(struct spf_check *c, const struct spf_record *rec, const char *domain)
{
	struct buf name = BUF_INIT, text = BUF_INIT;
	const struct dns_answer *txt;
	enum spf_result ignored;
	enum eval e = expand(c, rec->exp, domain, false, &name, &ignored);

	if (e == EVAL_NOMATCH && domain_valid(buf_cstr(&name)))
		e = dns_get(c, buf_cstr(&name), DNS_TYPE_TXT, &txt);
	else if (e == EVAL_NOMATCH)
		txt = NULL;
	if (e == EVAL_NOMATCH && txt != NULL && txt->rrs.count == 1) {
		e = expand(c, txt->rrs.items[0].u.txt.data, domain, true, &text, &ignored);
		if (e == EVAL_NOMATCH &&
		    strlen(txt->rrs.items[0].u.txt.data) == txt->rrs.items[0].u.txt.len) {
			free(c->explanation);
			c->explanation = buf_steal(&text);
		}
	}
	buf_free(&name);
	buf_free(&text);
	return e == EVAL_PENDING ? EVAL_PENDING : EVAL_NOMATCH;
}

static enum eval eval_redirect(struct spf_check *c, const struct spf_record *rec,
                               const char *domain, int depth, bool want_exp, enum spf_result *res)
{
	struct buf target = BUF_INIT;
	enum eval e = count_lookup(c, res);

	if (e == EVAL_NOMATCH)
		e = expand(c, rec->redirect, domain, false, &target, res);
	if (e == EVAL_NOMATCH) {
		e = check_host(c, buf_cstr(&target), depth + 1, want_exp, res);
		/* RFC 7208 6.1: a redirect to a domain without a record. */
		if (e == EVAL_DONE && *res == SPF_RESULT_NONE)
			e = fail_with(c, res, SPF_RESULT_PERMERROR, "redirect=%s has no SPF record",
			              buf_cstr(&target));
	}
	buf_free(&target);
	return e;
}

static enum eval eval_record(struct spf_check *c, const struct spf_record *rec, const char *domain,
                             int depth, bool want_exp, enum spf_result *res)
{
	for (size_t i = 0; i < rec->mechanisms.count; i++) {
		const struct spf_mechanism *m = &rec->mechanisms.items[i];
		enum eval e = eval_mechanism(c, m, domain, depth, res);

		if (e == EVAL_NOMATCH)
			continue;
		if (e != EVAL_MATCH)
			return e;
		*res = m->qualifier;
		set_reason(c, "matched a mechanism of %s", domain);
		if (*res == SPF_RESULT_FAIL && want_exp && rec->exp != NULL)
			return explain(c, rec, domain) == EVAL_PENDING ? EVAL_PENDING : EVAL_DONE;
		return EVAL_DONE;
	}
	if (rec->redirect != NULL)
		return eval_redirect(c, rec, domain, depth, want_exp, res);
	*res = SPF_RESULT_NEUTRAL;
	set_reason(c, "no mechanism of %s matched", domain);
	return EVAL_DONE;
}

/* Always ends in EVAL_DONE (result in *res) or EVAL_PENDING. */
static enum eval check_host(struct spf_check *c, const char *domain, int depth, bool want_exp,
                            enum spf_result *res)
{
	struct spf_record *rec;
	enum eval e;

	if (depth > MAX_DEPTH)
		return fail_with(c, res, SPF_RESULT_PERMERROR, "include/redirect too deep%s", NULL);
	if (!domain_valid(domain))
		return fail_with(c, res, SPF_RESULT_NONE, "%s is not a valid domain", domain);
	e = find_record(c, domain, &rec, res);
	if (e != EVAL_NOMATCH)
		return e;
	e = eval_record(c, rec, domain, depth, want_exp, res);
	spf_record_free(&rec);
	return e;
}

/* ---- public driver ---- */

int spf_check_run(struct spf_check *check, const char **name_r, enum dns_type *type_r)
{
	enum spf_result res = SPF_RESULT_NONE;
	enum eval e;

	check->lookups = 0;
	check->voids = 0;
	free(check->explanation);
	check->explanation = NULL;
	e = check_host(check, check->domain, 0, true, &res);
	if (e == EVAL_PENDING) {
		*name_r = buf_cstr(&check->need_name);
		*type_r = check->need_type;
		return 1;
	}
	check->result = res;
	return 0;
}

enum spf_result spf_check_result(const struct spf_check *check)
{
	return check->result;
}

const char *spf_check_explanation(const struct spf_check *check)
{
	return check->explanation;
}

const char *spf_check_reason(const struct spf_check *check)
{
	return check->reason != NULL ? check->reason : "";
}

const char *spf_check_domain(const struct spf_check *check)
{
	return check->domain;
}

unsigned spf_check_lookup_count(const struct spf_check *check)
{
	return check->lookups;
}

unsigned spf_check_void_count(const struct spf_check *check)
{
	return check->voids;
}

void spf_check_free(struct spf_check **check)
{
	struct spf_check *c = *check;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cache.count; i++) {
		free(c->cache.items[i].name);
		dns_answer_free(&c->cache.items[i].answer);
	}
	array_free(&c->cache);
	free(c->ip_text);
	free(c->helo);
	free(c->sender);
	free(c->local_part);
	free(c->domain);
	free(c->receiver);
	buf_free(&c->need_name);
	free(c->explanation);
	free(c->reason);
	free(c);
	*check = NULL;
}

static int spf_ops_next(void *check, const char **name_r, enum dns_type *type_r)
{
	return spf_check_run(check, name_r, type_r);
}

static void spf_ops_answer(void *check, const char *name, enum dns_type type,
                           const struct dns_answer *answer)
{
	spf_check_answer(check, name, type, answer);
}

const struct dns_check_ops spf_check_ops = {spf_ops_next, spf_ops_answer};
