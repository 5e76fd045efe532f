/* The DMARC check of one message (RFC 7489 sections 6.6.2 to 6.6.4). */
#include "mailauth/dmarc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

struct cached {
	char *name;
	enum dns_type type;
	struct dns_answer *answer;
};

/* The outcome for one From domain. */
struct outcome {
	enum dmarc_result result;
	enum dmarc_policy policy;      /* published, for policy.dmarc */
	enum dmarc_policy disposition; /* after pct */
	const char *reason;            /* static or from the record parser */
	bool spf_aligned, dkim_aligned;
	size_t domain; /* index into from_domains */
};

struct dmarc_check {
	const struct psl *psl;
	char **from_domains;
	size_t from_count;
	enum spf_result spf_result;
	char *spf_domain;
	char **dkim_domains;
	size_t dkim_count;
	unsigned sample;

	struct cached cache[DMARC_MAX_QUERIES];
	size_t cached;
	struct buf pending; /* the name asked for */
	enum dns_type pending_type;
	struct outcome final;
};

static char **dup_list(const char *const *list, size_t count)
{
	char **copy = xcalloc(count + 1, sizeof(*copy));

	for (size_t i = 0; i < count; i++)
		copy[i] = xstrdup(list[i]);
	return copy;
}

static void free_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

struct dmarc_check *dmarc_check_new(const struct dmarc_check_params *params)
{
	struct dmarc_check *c = xcalloc(1, sizeof(*c));

	c->psl = params->psl;
	c->from_count = params->from_count < DMARC_MAX_FROM_DOMAINS ? params->from_count
	                                                            : DMARC_MAX_FROM_DOMAINS;
	c->from_domains = dup_list(params->from_domains, c->from_count);
	c->spf_result = params->spf_result;
	c->spf_domain = params->spf_domain == NULL ? NULL : xstrdup(params->spf_domain);
	c->dkim_count = params->dkim_count;
	c->dkim_domains = dup_list(params->dkim_domains, params->dkim_count);
	c->sample = params->sample;
	return c;
}

void dmarc_check_free(struct dmarc_check **check)
{
	struct dmarc_check *c = *check;

	if (c == NULL)
		return;
	free_list(c->from_domains, c->from_count);
	free_list(c->dkim_domains, c->dkim_count);
	free(c->spf_domain);
	for (size_t i = 0; i < c->cached; i++) {
		free(c->cache[i].name);
		dns_answer_free(&c->cache[i].answer);
	}
	buf_free(&c->pending);
	free(c);
	*check = NULL;
}

void dmarc_check_answer(struct dmarc_check *check, const char *name, enum dns_type type,
                        const struct dns_answer *answer)
{
	struct cached *e;

	if (check->cached == DMARC_MAX_QUERIES)
		return;
	e = &check->cache[check->cached++];
	e->name = xstrdup(name);
	e->type = type;
	e->answer = dns_answer_dup(answer);
}

/* The cached answer for name/type, or NULL after setting it as pending.
   A check that asked for too much gets TEMPFAIL answers. */
static const struct dns_answer *lookup(struct dmarc_check *c, const char *name, enum dns_type type)
{
	static const struct dns_answer exhausted = {DNS_STATUS_TEMPFAIL, DNS_DNSSEC_INSECURE,
	                                            ARRAY_INIT};

	for (size_t i = 0; i < c->cached; i++)
		if (c->cache[i].type == type && dns_name_equal(c->cache[i].name, name))
			return c->cache[i].answer;
	if (c->cached == DMARC_MAX_QUERIES)
		return &exhausted;
	buf_clear(&c->pending);
	buf_append_str(&c->pending, name);
	c->pending_type = type;
	return NULL;
}

static bool is_temporary(const struct dns_answer *a)
{
	return a->status == DNS_STATUS_TEMPFAIL || a->status == DNS_STATUS_TIMEOUT;
}

/* Discovery at one name (6.6.3 steps 1-6). Returns 1 when an answer is
   needed; else 0 with *found_r: -1 temperror, 0 no record, 1 a record in
   *record_r, 2 multiple or no applicable policy ("no DMARC"), 3 a
   malformed record (*reason_r). */
static int discover(struct dmarc_check *c, const char *domain, int *found_r,
                    struct dmarc_record **record_r, const char **reason_r)
{
	char *name = xasprintf("_dmarc.%s", domain);
	const struct dns_answer *a = lookup(c, name, DNS_TYPE_TXT);
	const struct dns_rr *rec = NULL;
	size_t count = 0;

	free(name);
	if (a == NULL)
		return 1;
	*found_r = 0;
	if (is_temporary(a)) {
		*found_r = -1;
		return 0;
	}
	for (size_t i = 0; a->status == DNS_STATUS_OK && i < a->rrs.count; i++) {
		if (dmarc_is_record(a->rrs.items[i].u.txt.data, a->rrs.items[i].u.txt.len)) {
			rec = &a->rrs.items[i];
			count++;
		}
	}
	if (count > 1)
		*found_r = 2;
	else if (count == 1) {
		int ret = dmarc_record_parse(rec->u.txt.data, rec->u.txt.len, record_r, reason_r);

		*found_r = ret == 0 ? 1 : ret == 1 ? 2 : 3;
	}
	return 0;
}

static enum dmarc_policy weaken(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

/* Alignment and the result under record r (6.6.2, 6.6.4). */
static void apply(struct dmarc_check *c, const char *domain, const struct dmarc_record *r,
                  enum dmarc_policy policy, struct outcome *o)
{
	o->spf_aligned = c->spf_result == SPF_RESULT_PASS &&
	                 dmarc_aligned(c->psl, c->spf_domain, domain, r->aspf);
	for (size_t i = 0; i < c->dkim_count && !o->dkim_aligned; i++)
		o->dkim_aligned = dmarc_aligned(c->psl, c->dkim_domains[i], domain, r->adkim);
	o->policy = policy;
	if (o->spf_aligned || o->dkim_aligned) {
		o->result = DMARC_RESULT_PASS;
		o->disposition = DMARC_POLICY_NONE;
	} else {
		o->result = DMARC_RESULT_FAIL;
		o->disposition = c->sample < r->pct ? policy : weaken(policy);
	}
}

/* The policy of the org record for a subdomain: np= if the subdomain does
   not exist (RFC 9091), else sp=. Returns 1 when an answer is needed. */
static int subdomain_policy(struct dmarc_check *c, const char *domain, const struct dmarc_record *r,
                            enum dmarc_policy *policy_r)
{
	const struct dns_answer *a;

	*policy_r = r->sp;
	if (!r->has_np)
		return 0;
	if ((a = lookup(c, domain, DNS_TYPE_A)) == NULL)
		return 1;
	if (a->status == DNS_STATUS_NXDOMAIN)
		*policy_r = r->np;
	return 0;
}

static void set_status(struct outcome *o, int found, const char *reason)
{
	o->result = found == -1  ? DMARC_RESULT_TEMPERROR
	            : found == 3 ? DMARC_RESULT_PERMERROR
	                         : DMARC_RESULT_NONE;
	o->reason = found == 3 ? reason : found == -1 ? "dns lookup failed" : "no policy";
}

/* The org-domain step of discovery (6.6.3 step 3). */
static int eval_org(struct dmarc_check *c, const char *domain, struct outcome *o)
{
	const char *org;
	struct dmarc_record *r = NULL;
	enum dmarc_policy policy;
	int found;

	if (c->psl == NULL || psl_org_domain(c->psl, domain, &org) != 1 ||
	    strcasecmp(org, domain) == 0) {
		set_status(o, 0, NULL);
		return 0;
	}
	if (discover(c, org, &found, &r, &o->reason) == 1)
		return 1;
	if (found != 1) {
		set_status(o, found, o->reason);
		return 0;
	}
	if (subdomain_policy(c, domain, r, &policy) == 1) {
		dmarc_record_free(&r);
		return 1;
	}
	apply(c, domain, r, policy, o);
	o->reason = "used org domain record";
	dmarc_record_free(&r);
	return 0;
}

static int eval_domain(struct dmarc_check *c, size_t index, struct outcome *o)
{
	const char *domain = c->from_domains[index];
	struct dmarc_record *r = NULL;
	int found;

	memset(o, 0, sizeof(*o));
	o->domain = index;
	if (strlen(domain) > 253 || domain[0] == '.' || domain[0] == '[') {
		o->result = DMARC_RESULT_PERMERROR;
		o->reason = "invalid from domain";
		return 0;
	}
	if (discover(c, domain, &found, &r, &o->reason) == 1)
		return 1;
	if (found == 0)
		return eval_org(c, domain, o);
	if (found != 1) {
		set_status(o, found, o->reason);
		return 0;
	}
	apply(c, domain, r, r->p, o);
	o->reason = "used from domain record";
	dmarc_record_free(&r);
	return 0;
}

/* Rank for reporting the worst outcome of several From domains. */
static int severity(const struct outcome *o)
{
	switch (o->result) {
	case DMARC_RESULT_FAIL:
		return 10 + (int)o->disposition * 2 + (int)o->policy;
	case DMARC_RESULT_TEMPERROR:
		return 4;
	case DMARC_RESULT_PERMERROR:
		return 3;
	case DMARC_RESULT_PASS:
		return 2;
	case DMARC_RESULT_NONE:
		break;
	}
	return 1;
}

int dmarc_check_run(struct dmarc_check *check, const char **name_r, enum dns_type *type_r)
{
	struct outcome worst = {DMARC_RESULT_PERMERROR,
	                        DMARC_POLICY_NONE,
	                        DMARC_POLICY_NONE,
	                        "no from domain",
	                        false,
	                        false,
	                        SIZE_MAX};

	for (size_t i = 0; i < check->from_count; i++) {
		struct outcome o;

		if (eval_domain(check, i, &o) == 1) {
			*name_r = buf_cstr(&check->pending);
			*type_r = check->pending_type;
			return 1;
		}
		if (i == 0 || severity(&o) > severity(&worst))
			worst = o;
	}
	check->final = worst;
	return 0;
}

enum dmarc_result dmarc_check_result(const struct dmarc_check *check)
{
	return check->final.result;
}

enum dmarc_policy dmarc_check_policy(const struct dmarc_check *check)
{
	return check->final.policy;
}

enum dmarc_policy dmarc_check_disposition(const struct dmarc_check *check)
{
	return check->final.disposition;
}

const char *dmarc_check_from_domain(const struct dmarc_check *check)
{
	return check->final.domain == SIZE_MAX ? "none" : check->from_domains[check->final.domain];
}

const char *dmarc_check_reason(const struct dmarc_check *check)
{
	return check->final.reason;
}

bool dmarc_check_spf_aligned(const struct dmarc_check *check)
{
	return check->final.spf_aligned;
}

bool dmarc_check_dkim_aligned(const struct dmarc_check *check)
{
	return check->final.dkim_aligned;
}

static int dmarc_ops_next(void *check, const char **name_r, enum dns_type *type_r)
{
	return dmarc_check_run(check, name_r, type_r);
}

static void dmarc_ops_answer(void *check, const char *name, enum dns_type type,
                             const struct dns_answer *answer)
{
	dmarc_check_answer(check, name, type, answer);
}

const struct dns_check_ops dmarc_check_ops = {dmarc_ops_next, dmarc_ops_answer};
