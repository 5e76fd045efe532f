/* The TLS policy of outbound delivery: DANE, MTA-STS, opportunistic
   (RFC 7672, RFC 8461, RFC 8689). */

#include "queue/tls-policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"

struct tls_policy {
	struct event_base *base;
	struct dns_resolver *resolver;
	struct workpool *pool;
	struct tls_policy_settings set;   /* strings owned */
	X509_STORE *store;                /* MTA-STS MX CAs */
	unsigned refs;                    /* 1 + queries not yet freed */
	struct tls_policy_query *queries; /* pending, for tls_policy_free */
};

struct tls_policy_query {
	struct tls_policy *tp;
	struct tls_policy_query *prev, *next;
	char *domain, *mx_host;
	bool mx_secure, cancelled, in_pool, unlinked;
	struct dns_query *dns;
	struct event *timer; /* a callback from the loop with no lookup */
	struct dns_answer *tlsa;
	char id[MTA_STS_MAX_ID + 1];
	bool have_id;
	struct mta_sts_policy *sts;
	const char *sts_info;
	tls_policy_callback_t *callback;
	void *context;
};

const char *tls_policy_mode_name(enum tls_policy_mode mode)
{
	switch (mode) {
	case TLS_POLICY_OPPORTUNISTIC:
		return "opportunistic";
	case TLS_POLICY_DANE:
		return "dane";
	case TLS_POLICY_MTASTS:
		return "mta-sts";
	case TLS_POLICY_NONE:
		break;
	}
	return "none";
}

const char *tls_policy_describe(const struct tls_decision *decision, bool tls_used)
{
	if (!tls_used)
		return "none";
	return decision != NULL ? tls_policy_mode_name(decision->mode) : "opportunistic";
}

/* --- the decision, from answers in hand --- */

static struct tls_decision *decision_new(const char *domain, const char *mx_host)
{
	struct tls_decision *d = xcalloc(1, sizeof(*d));

	d->domain = xstrdup(domain);
	d->mx_host = xstrdup(mx_host);
	d->mode = TLS_POLICY_OPPORTUNISTIC;
	d->why = xstrdup("");
	return d;
}

static void decision_why(struct tls_decision *d, const char *text)
{
	free(d->why);
	d->why = xstrdup(text);
}

static void decide_dane(struct tls_decision *d, enum dane_state state)
{
	d->dane = state;
	d->mode = TLS_POLICY_DANE;
	d->tls_required = true;
	switch (state) {
	case DANE_AUTH:
		d->authenticate = true;
		decision_why(d, "secure TLSA records");
		break;
	case DANE_UNUSABLE:
		/* RFC 7672 2.2: encryption still mandatory. */
		decision_why(d, "secure TLSA records, none usable: TLS required, not verified");
		break;
	case DANE_TEMPFAIL:
		d->tempfail = true;
		decision_why(d, "TLSA lookup failed or bogus under a secure MX");
		break;
	case DANE_NONE:
		break;
	}
}

static void decide_sts(struct tls_decision *d, const struct mta_sts_policy *sts, X509_STORE *store)
{
	d->sts_mode = sts->mode;
	if (sts->mode == MTA_STS_MODE_NONE)
		return;
	d->mode = TLS_POLICY_MTASTS;
	array_append(&d->names, xstrdup(d->mx_host));
	if (store != NULL && X509_STORE_up_ref(store) == 1)
		d->store = store;
	d->testing = sts->mode == MTA_STS_MODE_TESTING;
	d->authenticate = true;
	d->tls_required = !d->testing;
	if (mta_sts_policy_allows_mx(sts, d->mx_host)) {
		decision_why(d, d->testing ? "MTA-STS testing" : "MTA-STS enforce");
	} else if (d->testing) {
		decision_why(d, "MTA-STS testing: MX not in the policy (delivering anyway)");
	} else {
		/* RFC 8461 4.1 and 5: only listed MX hosts are used. */
		d->tempfail = true;
		decision_why(d, "MX host not in the domain's MTA-STS policy");
	}
}

struct tls_decision *tls_decision_make(const char *domain, const char *mx_host, bool mx_secure,
                                       const struct dns_answer *tlsa,
                                       const struct mta_sts_policy *sts, X509_STORE *store)
{
	struct tls_decision *d = decision_new(domain, mx_host);
	enum dane_state state = dane_evaluate(mx_secure, tlsa, &d->tlsa);

	if (state != DANE_NONE)
		decide_dane(d, state); /* RFC 8461 2: DANE wins over MTA-STS */
	else if (sts != NULL)
		decide_sts(d, sts, store);
	if (d->mode == TLS_POLICY_OPPORTUNISTIC)
		decision_why(d, "no DANE, no MTA-STS");
	return d;
}

void tls_decision_free(struct tls_decision **decision)
{
	struct tls_decision *d = *decision;

	if (d == NULL)
		return;
	dane_records_clear(&d->tlsa);
	for (size_t i = 0; i < d->names.count; i++)
		free(d->names.items[i]);
	array_free(&d->names);
	X509_STORE_free(d->store);
	free(d->domain);
	free(d->mx_host);
	free(d->why);
	free(d);
	*decision = NULL;
}

/* --- before and after the handshake --- */

int tls_policy_apply(const struct tls_decision *decision, SSL *ssl, const char **error_r)
{
	if (decision->mode == TLS_POLICY_DANE && decision->authenticate) {
		int n = tls_dane_prepare(ssl, decision->mx_host, NULL, 0, decision->tlsa.tlsa.items,
		                         decision->tlsa.tlsa.count, error_r);

		return n > 0 ? 0 : -1;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (decision->mode == TLS_POLICY_MTASTS)
		return tls_verify_names_prepare(ssl, decision->store,
		                                (const char *const *)decision->names.items,
		                                decision->names.count, error_r);
	return 0;
}

int tls_policy_prepare_hook(SSL *ssl, void *arg)
{
	const char *error;

	if (tls_policy_apply(arg, ssl, &error) < 0) {
		log_warn(NULL, "event=tls.prepare mx=%s error=\"%s\"",
		         ((struct tls_decision *)arg)->mx_host, error);
		return -1;
	}
	return 0;
}

/* The verdict on a finished handshake: 0 verified, -1 not (why in *why_r). */
static int check_peer(const struct tls_decision *d, SSL *ssl, const char **why_r)
{
	if (d->mode == TLS_POLICY_DANE)
		return tls_dane_result(ssl, NULL, why_r);
	return tls_verify_result(ssl, why_r);
}

static int check_fail(struct tls_decision *d, const char *prefix, const char *why,
                      const char **why_r)
{
	char *text = xasprintf("%s%s", prefix, why); /* why may be d->why */

	free(d->why);
	d->why = text;
	*why_r = d->why;
	log_info(NULL, "event=tls.check domain=%s mx=%s tls=%s result=tempfail why=\"%s\"",
	         d->domain, d->mx_host, tls_policy_mode_name(d->mode), d->why);
	return -1;
}

int tls_policy_check(struct tls_decision *decision, SSL *ssl, bool *verified_r, const char **why_r)
{
	struct tls_decision *d = decision;
	const char *why = "";

	*verified_r = false;
	if (d->tempfail)
		return check_fail(d, "", d->why, why_r);
	if (ssl == NULL) {
		if (d->tls_required)
			return check_fail(d, tls_policy_mode_name(d->mode),
			                  ": TLS required but STARTTLS not done", why_r);
		log_info(NULL, "event=tls.check domain=%s mx=%s tls=none result=ok", d->domain,
		         d->mx_host);
		return 0;
	}
	if (d->authenticate) {
		if (check_peer(d, ssl, &why) == 0) {
			*verified_r = true;
		} else if (!d->testing) {
			return check_fail(d,
			                  d->mode == TLS_POLICY_DANE ? "TLSA mismatch: "
			                                             : "MTA-STS certificate: ",
			                  why, why_r);
		}
	}
	log_info(NULL, "event=tls.check domain=%s mx=%s tls=%s result=ok verified=%s%s%s%s",
	         d->domain, d->mx_host, tls_policy_mode_name(d->mode), *verified_r ? "yes" : "no",
	         d->testing && !*verified_r ? " testing=fail why=\"" : "",
	         d->testing && !*verified_r ? why : "", d->testing && !*verified_r ? "\"" : "");
	return 0;
}

bool tls_policy_allows_requiretls(const struct tls_decision *decision, bool verified)
{
	if (!verified)
		return false;
	if (decision == NULL)
		return true; /* a smarthost verified by name */
	if (decision->tempfail || !decision->authenticate)
		return false;
	return decision->mode == TLS_POLICY_DANE ||
	       (decision->mode == TLS_POLICY_MTASTS && !decision->testing);
}

/* --- the lookup --- */

static void tp_unref(struct tls_policy *tp)
{
	if (--tp->refs > 0)
		return;
	free((char *)tp->set.sts.cache_dir);
	free((char *)tp->set.sts.ca_file);
	free((char *)tp->set.mx_ca_file);
	for (size_t i = 0; i < tp->set.sts.resolve_count; i++)
		free((char *)tp->set.sts.resolve[i]);
	free((void *)tp->set.sts.resolve);
	X509_STORE_free(tp->store);
	free(tp);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static X509_STORE *store_new(const char *ca_file)
{
	X509_STORE *store = X509_STORE_new();
	int ok;

	if (store == NULL)
		return NULL;
	ok = ca_file != NULL ? X509_STORE_load_file(store, ca_file)
	                     : X509_STORE_set_default_paths(store);
	if (ok != 1) {
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}

int tls_policy_new(struct event_base *base, struct dns_resolver *resolver, struct workpool *pool,
                   const struct tls_policy_settings *settings, struct tls_policy **tp_r,
                   const char **error_r)
{
	struct tls_policy *tp = xcalloc(1, sizeof(*tp));
	const char **resolve = xcalloc(settings->sts.resolve_count + 1, sizeof(*resolve));

	tp->base = base;
	tp->resolver = resolver;
	tp->pool = pool;
	tp->refs = 1;
	tp->set = *settings;
	tp->set.sts.cache_dir = dup_or_null(settings->sts.cache_dir);
	tp->set.sts.ca_file = dup_or_null(settings->sts.ca_file);
	tp->set.mx_ca_file = dup_or_null(settings->mx_ca_file);
	for (size_t i = 0; i < settings->sts.resolve_count; i++)
		resolve[i] = xstrdup(settings->sts.resolve[i]);
	tp->set.sts.resolve = resolve;
	mta_sts_fetch_global_init();
	if (tp->set.sts.cache_dir != NULL && mkdir(tp->set.sts.cache_dir, 0700) < 0 &&
	    errno != EEXIST) {
		*error_r = "the MTA-STS cache directory cannot be made";
		tp_unref(tp);
		return -1;
	}
	tp->store = store_new(tp->set.mx_ca_file);
	if (tp->store == NULL) {
		*error_r = "the CA store for MTA-STS cannot be loaded";
		tp_unref(tp);
		return -1;
	}
	*tp_r = tp;
	return 0;
}

void tls_policy_free(struct tls_policy **tp)
{
	struct tls_policy *p = *tp;

	if (p == NULL)
		return;
	*tp = NULL;
	while (p->queries != NULL) {
		struct tls_policy_query *q = p->queries;

		tls_policy_query_cancel(&q);
		/* One still on a worker is freed by its done(); unlink it. */
		if (p->queries != NULL && p->queries->cancelled) {
			struct tls_policy_query *c = p->queries;

			p->queries = c->next;
			if (c->next != NULL)
				c->next->prev = NULL;
			c->prev = c->next = NULL;
			c->unlinked = true;
		}
	}
	tp_unref(p);
}

static void query_free(struct tls_policy_query *q)
{
	if (!q->unlinked) {
		if (q->prev != NULL)
			q->prev->next = q->next;
		else
			q->tp->queries = q->next;
		if (q->next != NULL)
			q->next->prev = q->prev;
	}
	dns_query_cancel(&q->dns);
	if (q->timer != NULL)
		event_free(q->timer);
	dns_answer_free(&q->tlsa);
	mta_sts_policy_free(&q->sts);
	free(q->domain);
	free(q->mx_host);
	tp_unref(q->tp);
	free(q);
}

static void query_finish(struct tls_policy_query *q)
{
	struct tls_policy *tp = q->tp;
	struct tls_decision *d;

	if (tp->set.no_tls) {
		d = decision_new(q->domain, q->mx_host);
		d->mode = TLS_POLICY_NONE;
		decision_why(d, "TLS disabled");
	} else {
		d = tls_decision_make(q->domain, q->mx_host, q->mx_secure, q->tlsa, q->sts,
		                      tp->store);
	}
	log_info(NULL,
	         "event=tls.policy domain=%s mx=%s mx_secure=%s tls=%s dane=%s mta_sts=%s%s%s%s "
	         "tempfail=%s why=\"%s\"",
	         d->domain, d->mx_host, q->mx_secure ? "yes" : "no", tls_policy_mode_name(d->mode),
	         dane_state_name(d->dane), mta_sts_mode_name(d->sts_mode),
	         q->sts_info != NULL ? " sts_info=\"" : "", q->sts_info != NULL ? q->sts_info : "",
	         q->sts_info != NULL ? "\"" : "", d->tempfail ? "yes" : "no", d->why);
	q->callback(d, q->context);
	query_free(q);
}

static void sts_work(void *arg)
{
	struct tls_policy_query *q = arg;

	if (mta_sts_policy_get(&q->tp->set.sts, q->domain, q->have_id ? q->id : NULL, time(NULL),
	                       &q->sts, &q->sts_info) == 0)
		q->sts = NULL;
}

static void sts_done(void *arg)
{
	struct tls_policy_query *q = arg;

	q->in_pool = false;
	if (q->cancelled)
		query_free(q);
	else
		query_finish(q);
}

/* Only plain host names name cache files. */
static bool domain_usable(const char *d)
{
	size_t len = strlen(d);

	if (len == 0 || len > 253 || d[0] == '.' || strstr(d, "..") != NULL)
		return false;
	for (const char *c = d; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
			return false;
	return true;
}

static void txt_cb(const struct dns_answer *answer, void *arg)
{
	struct tls_policy_query *q = arg;
	size_t records = 0;

	q->dns = NULL;
	/* RFC 8461 3.1: only records starting with v=STSv1 count; not
	   exactly one valid one = no record. */
	for (size_t i = 0; answer->status == DNS_STATUS_OK && i < answer->rrs.count; i++) {
		const struct dns_rr *rr = &answer->rrs.items[i];

		if (rr->u.txt.len >= 7 && memcmp(rr->u.txt.data, "v=STSv1", 7) == 0) {
			records++;
			q->have_id = mta_sts_txt_parse(rr->u.txt.data, rr->u.txt.len, q->id) == 0;
		}
	}
	if (records != 1)
		q->have_id = false;
	q->in_pool = true;
	workpool_submit(q->tp->pool, sts_work, sts_done, q);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	query_finish(arg);
}

/* The MTA-STS step; when it does not apply, the decision comes from a
   zero timer (never from inside tls_policy_lookup). */
static void sts_start(struct tls_policy_query *q)
{
	char *name;

	if (!q->tp->set.mta_sts || q->tp->set.no_tls || !domain_usable(q->domain)) {
		const struct timeval zero = {0, 0};

		q->timer = evtimer_new(q->tp->base, timer_cb, q);
		evtimer_add(q->timer, &zero);
		return;
	}
	name = xasprintf("_mta-sts.%s", q->domain);
	q->dns = dns_lookup(q->tp->resolver, name, DNS_TYPE_TXT, txt_cb, q);
	free(name);
}

static void tlsa_cb(const struct dns_answer *answer, void *arg)
{
	struct tls_policy_query *q = arg;
	struct dane_records records = {0};

	q->dns = NULL;
	q->tlsa = dns_answer_dup(answer);
	/* The resolver turns bogus into TEMPFAIL; keep the mark for logs. */
	if (dane_evaluate(q->mx_secure, q->tlsa, &records) != DANE_NONE) {
		dane_records_clear(&records);
		query_finish(q);
		return;
	}
	sts_start(q);
}

struct tls_policy_query *tls_policy_lookup(struct tls_policy *tp, const char *domain,
                                           const char *mx_host, bool mx_secure,
                                           tls_policy_callback_t *callback, void *context)
{
	struct tls_policy_query *q = xcalloc(1, sizeof(*q));
	char *name;

	q->tp = tp;
	tp->refs++;
	q->next = tp->queries;
	if (q->next != NULL)
		q->next->prev = q;
	tp->queries = q;
	q->domain = xstrdup(domain);
	q->mx_host = xstrdup(mx_host);
	q->mx_secure = mx_secure;
	q->callback = callback;
	q->context = context;
	if (!tp->set.dane || tp->set.no_tls || !mx_secure) {
		sts_start(q);
		return q;
	}
	name = dane_tlsa_name(mx_host);
	q->dns = dns_lookup(tp->resolver, name, DNS_TYPE_TLSA, tlsa_cb, q);
	free(name);
	return q;
}

void tls_policy_query_cancel(struct tls_policy_query **query)
{
	struct tls_policy_query *q = *query;

	if (q == NULL)
		return;
	*query = NULL;
	if (q->in_pool) {
		q->cancelled = true; /* freed by sts_done */
		return;
	}
	query_free(q);
}
