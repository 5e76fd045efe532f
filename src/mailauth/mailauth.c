/* The mail-authentication pipeline of one message (mailauth.h). */
#include "mailauth/mailauth.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns/dns-driver.h"
#include "lib/xalloc.h"
#include "mailauth/arc.h"
#include "mailauth/auth-results.h"
#include "mailauth/dkim-verify.h"
#include "mailauth/spf.h"

/* The header section as it streams in, kept (bounded) to find From. */
struct header_keep {
	struct buf bytes;
	size_t max;
	bool ended, too_big;
	bool line_start; /* the next byte starts a line */
	bool cr_start;   /* a line started with CR */
};

struct mailauth {
	struct mailauth_params p; /* strings copied below */
	char *ip, *helo, *mail_from, *authserv_id;
	struct dns_resolver *resolver;
	struct event_base *base;

	struct spf_check *spf; /* NULL: SPF off or not startable */
	const char *spf_error;
	struct dns_driver *spf_drv; /* running checks; NULL once finished */
	struct dkim_verifier *dkim; /* NULL: DKIM off */
	struct dns_driver *dkim_drv;
	struct arc_verifier *arc; /* NULL: ARC off */
	struct dns_driver *arc_drv;
	struct dmarc_check *dmarc; /* NULL: DMARC off or not run yet */
	struct dns_driver *dmarc_drv;

	struct header_keep header;

	void (*done)(void *context);
	void *context;
	struct event *kick;
	bool finished, done_called;
};

static void progress(struct mailauth *ma);

/* ---- driving the checks on the resolver ---- */

/* A check finished (dns-driver.h): forget its driver and see whether
   everything is known now. */
static void check_done(void *check, void *context)
{
	struct mailauth *ma = context;

	if (check == ma->spf)
		ma->spf_drv = NULL;
	else if (check == ma->dkim)
		ma->dkim_drv = NULL;
	else if (check == ma->arc)
		ma->arc_drv = NULL;
	else
		ma->dmarc_drv = NULL;
	progress(ma);
}

static struct dns_driver *drive(struct mailauth *ma, const struct dns_check_ops *ops, void *check)
{
	return dns_driver_start(ma->resolver, ops, check, check_done, ma);
}

/* ---- the object ---- */

static void copy_params(struct mailauth *ma, const struct mailauth_params *p)
{
	ma->p = *p;
	ma->ip = p->ip != NULL ? xstrdup(p->ip) : NULL;
	ma->helo = xstrdup(p->helo != NULL ? p->helo : "");
	ma->mail_from = xstrdup(p->mail_from != NULL ? p->mail_from : "");
	ma->authserv_id = xstrdup(p->authserv_id != NULL ? p->authserv_id : "localhost");
	ma->p.ip = ma->ip;
	ma->p.helo = ma->helo;
	ma->p.mail_from = ma->mail_from;
	ma->p.authserv_id = ma->authserv_id;
	if (ma->p.max_header_size == 0 || ma->p.max_header_size > MAILAUTH_DEFAULT_MAX_HEADER)
		ma->p.max_header_size = MAILAUTH_DEFAULT_MAX_HEADER;
}

static void start_spf(struct mailauth *ma)
{
	struct spf_check_params params = {
	    .ip = ma->ip,
	    .helo = ma->helo,
	    .mail_from = ma->mail_from,
	    .receiver = ma->authserv_id,
	};

	if (ma->ip == NULL) {
		ma->spf_error = "no client address";
		return;
	}
	if (spf_check_new(&params, &ma->spf, &ma->spf_error) < 0)
		return;
	ma->spf_drv = drive(ma, &spf_check_ops, ma->spf);
}

struct mailauth *mailauth_new(const struct mailauth_params *params, struct dns_resolver *resolver,
                              struct event_base *base)
{
	struct mailauth *ma = xcalloc(1, sizeof(*ma));

	copy_params(ma, params);
	ma->resolver = resolver;
	ma->base = base;
	ma->header.max = ma->p.max_header_size;
	ma->header.line_start = true;
	if (ma->p.dkim)
		ma->dkim = dkim_verifier_new(time(NULL));
	if (ma->p.arc)
		ma->arc = arc_verifier_new(time(NULL));
	if (ma->p.spf)
		start_spf(ma);
	return ma;
}

const char *mailauth_spf_error(const struct mailauth *ma)
{
	return ma->p.spf ? ma->spf_error : NULL;
}

/* ---- the header section, for From ---- */

/* Bytes up to and including the empty line that ends the header section
   (CRLF CRLF or LF LF); the whole of len if it does not end here. */
static size_t header_scan(struct header_keep *h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (h->line_start && c == '\n') {
			h->ended = true;
			return i + 1;
		}
		if (h->line_start && c == '\r' && !h->cr_start) {
			h->cr_start = true;
			continue;
		}
		h->line_start = c == '\n';
		h->cr_start = false;
	}
	return len;
}

static int header_feed(struct header_keep *h, const char *p, size_t len, const char **error_r)
{
	size_t n;

	if (h->ended)
		return 0;
	n = header_scan(h, p, len);
	if (h->too_big)
		return 0;
	if (h->bytes.len + n > h->max) {
		h->too_big = true;
		*error_r = "header section too large";
		return -1;
	}
	buf_append(&h->bytes, p, n);
	return 0;
}

int mailauth_feed(struct mailauth *ma, const void *data, size_t len, const char **error_r)
{
	const char *error = NULL;
	int ret = 0;

	/* Over their header limits the verifiers ignore the rest and report
	   permerror/fail: the results still say something true. */
	if (ma->dkim != NULL && dkim_verifier_feed(ma->dkim, data, len, &error) < 0)
		ret = -1;
	if (ma->arc != NULL && arc_verifier_feed(ma->arc, data, len, &error) < 0)
		ret = -1;
	if (header_feed(&ma->header, data, len, &error) < 0)
		ret = -1;
	if (ret < 0)
		*error_r = error;
	return ret;
}

/* Is the field starting at line (up to the colon) name? */
static bool field_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':')
		return false;
	return strncasecmp(line, name, n) == 0;
}

/* The From domains of the header section (RFC 7489 6.6.1); a field runs
   over its continuation lines (RFC 5322 2.2.3). */
static size_t from_domains(const struct mailauth *ma, char **domains)
{
	const char *p = ma->header.bytes.data;
	size_t len = ma->header.bytes.len, pos = 0, count = 0;

	while (pos < len) {
		size_t end = pos;

		do {
			const char *nl = memchr(p + end, '\n', len - end);

			end = nl != NULL ? (size_t)(nl - p) + 1 : len;
		} while (end < len && (p[end] == ' ' || p[end] == '\t'));
		if (field_is(p + pos, end - pos, "From"))
			dmarc_from_domains(p + pos + 5, end - pos - 5, domains, &count,
			                   DMARC_MAX_FROM_DOMAINS);
		pos = end;
	}
	return count;
}

/* ---- DMARC, once SPF and DKIM are known ---- */

static size_t dkim_pass_domains(const struct mailauth *ma, const char **domains, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; ma->dkim != NULL && i < dkim_verifier_count(ma->dkim); i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(ma->dkim, i);

		if (v->result == DKIM_RESULT_PASS && v->domain != NULL && count < max)
			domains[count++] = v->domain;
	}
	return count;
}

static void start_dmarc(struct mailauth *ma)
{
	char *from[DMARC_MAX_FROM_DOMAINS];
	const char *dkim[DKIM_MAX_SIGNATURES];
	struct dmarc_check_params params = {
	    .psl = ma->p.psl,
	    .from_domains = (const char *const *)from,
	    .from_count = from_domains(ma, from),
	    .spf_result = ma->spf != NULL ? spf_check_result(ma->spf) : SPF_RESULT_NONE,
	    .spf_domain = ma->spf != NULL ? spf_check_domain(ma->spf) : NULL,
	    .dkim_domains = dkim,
	    .dkim_count = dkim_pass_domains(ma, dkim, DKIM_MAX_SIGNATURES),
	    .sample = ma->p.dmarc_sample >= 0 && ma->p.dmarc_sample < 100
	                  ? (unsigned)ma->p.dmarc_sample
	                  : arc4random_uniform(100),
	};

	ma->dmarc = dmarc_check_new(&params);
	for (size_t i = 0; i < params.from_count; i++)
		free(from[i]);
	ma->dmarc_drv = drive(ma, &dmarc_check_ops, ma->dmarc);
}

/* Called whenever a check finished: once everything is known after the
   end of the message (DMARC last: it needs SPF and DKIM), call done. */
static void progress(struct mailauth *ma)
{
	if (!ma->finished || ma->done_called)
		return;
	if (ma->spf_drv != NULL || ma->dkim_drv != NULL || ma->arc_drv != NULL)
		return;
	if (ma->dmarc == NULL && ma->p.dmarc)
		start_dmarc(ma);
	if (ma->dmarc_drv != NULL)
		return;
	ma->done_called = true;
	ma->done(ma->context);
}

static void kick_cb(evutil_socket_t fd, short what, void *context)
{
	(void)fd;
	(void)what;
	progress(context);
}

void mailauth_finish(struct mailauth *ma, void (*done)(void *context), void *context)
{
	struct timeval now = {0, 0};

	ma->done = done;
	ma->context = context;
	ma->finished = true;
	if (ma->dkim != NULL) {
		dkim_verifier_finish(ma->dkim);
		ma->dkim_drv = drive(ma, &dkim_verifier_ops, ma->dkim);
	}
	if (ma->arc != NULL) {
		arc_verifier_finish(ma->arc);
		ma->arc_drv = drive(ma, &arc_verifier_ops, ma->arc);
	}
	/* Everything may be known already: continue from the loop, as the
	   contract says, so the caller's state is settled first. */
	ma->kick = evtimer_new(ma->base, kick_cb, ma);
	evtimer_add(ma->kick, &now);
}

bool mailauth_is_done(const struct mailauth *ma)
{
	return ma->done_called;
}

/* ---- the results ---- */

static void add_spf(const struct mailauth *ma, struct auth_results_writer *w)
{
	bool null_sender = ma->mail_from[0] == '\0';
	enum spf_result r = ma->spf != NULL ? spf_check_result(ma->spf) : SPF_RESULT_NONE;
	const char *reason = ma->spf != NULL ? spf_check_reason(ma->spf) : "not checked";

	if (!ma->p.spf)
		return;
	auth_results_add(w, "spf", spf_result_name(r), reason[0] != '\0' ? reason : NULL,
	                 "smtp.mailfrom", null_sender ? NULL : ma->mail_from, "smtp.helo",
	                 null_sender && ma->helo[0] != '\0' ? ma->helo : NULL, NULL);
}

/* One entry per signature (RFC 8601 2.7.1), or the summary without any. */
static void add_dkim(const struct mailauth *ma, struct auth_results_writer *w)
{
	size_t count;

	if (ma->dkim == NULL)
		return;
	count = dkim_verifier_count(ma->dkim);
	if (count == 0) {
		const char *reason = NULL;
		enum dkim_result r = dkim_verifier_summary(ma->dkim, &reason);

		auth_results_add(w, "dkim", dkim_result_name(r), reason, NULL);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(ma->dkim, i);

		auth_results_add(w, "dkim", dkim_result_name(v->result),
		                 v->result == DKIM_RESULT_PASS ? NULL : v->reason, "header.d",
		                 v->domain, "header.i", v->identity, "header.s", v->selector,
		                 "header.a", v->algorithm, "header.b",
		                 v->header_b[0] != '\0' ? v->header_b : NULL, NULL);
	}
}

static void add_dmarc(const struct mailauth *ma, struct auth_results_writer *w)
{
	char *comment;

	if (ma->dmarc == NULL)
		return;
	comment = xasprintf("p=%s dis=%s", dmarc_policy_name(dmarc_check_policy(ma->dmarc)),
	                    dmarc_policy_name(dmarc_check_disposition(ma->dmarc)));
	auth_results_add(w, "dmarc", dmarc_result_name(dmarc_check_result(ma->dmarc)), comment,
	                 "header.from", dmarc_check_from_domain(ma->dmarc), NULL);
	free(comment);
}

/* RFC 8617 4.4 and 8601 2.7: arc=none|pass|fail, the chain's validation. */
static void add_arc(const struct mailauth *ma, struct auth_results_writer *w)
{
	const char *reason = NULL;
	enum arc_cv cv;

	if (ma->arc == NULL) {
		auth_results_add(w, "arc", "none", "not checked", NULL);
		return;
	}
	cv = arc_verifier_result(ma->arc, &reason);
	auth_results_add(w, "arc", arc_cv_name(cv), cv == ARC_CV_FAIL ? reason : NULL,
	                 "smtp.remote-ip", cv != ARC_CV_NONE ? ma->ip : NULL, NULL);
}

void mailauth_write_value(const struct mailauth *ma, struct buf *out, bool fold)
{
	struct auth_results_writer w;

	auth_results_writer_init(&w, out, ma->authserv_id, fold);
	add_spf(ma, &w);
	add_dkim(ma, &w);
	add_dmarc(ma, &w);
	add_arc(ma, &w);
	auth_results_writer_finish(&w);
}

static bool aligned_temperror(const struct mailauth *ma, const char *from)
{
	const struct psl *psl = ma->p.psl;

	if (ma->spf != NULL && spf_check_result(ma->spf) == SPF_RESULT_TEMPERROR &&
	    spf_check_domain(ma->spf) != NULL &&
	    dmarc_aligned(psl, spf_check_domain(ma->spf), from, DMARC_ALIGN_RELAXED))
		return true;
	for (size_t i = 0; ma->dkim != NULL && i < dkim_verifier_count(ma->dkim); i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(ma->dkim, i);

		if (v->result == DKIM_RESULT_TEMPERROR && v->domain != NULL &&
		    dmarc_aligned(psl, v->domain, from, DMARC_ALIGN_RELAXED))
			return true;
	}
	return false;
}

void mailauth_get_facts(const struct mailauth *ma, struct mailauth_facts *f)
{
	const char *dummy[DKIM_MAX_SIGNATURES];

	memset(f, 0, sizeof(*f));
	f->any_pass = (ma->spf != NULL && spf_check_result(ma->spf) == SPF_RESULT_PASS) ||
	              dkim_pass_domains(ma, dummy, DKIM_MAX_SIGNATURES) > 0;
	if (ma->dmarc == NULL)
		return;
	f->dmarc_checked = true;
	f->dmarc = dmarc_check_result(ma->dmarc);
	f->disposition = dmarc_check_disposition(ma->dmarc);
	f->temp_could_pass = aligned_temperror(ma, dmarc_check_from_domain(ma->dmarc));
}

void mailauth_get_summary(const struct mailauth *ma, struct mailauth_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->spf = ma->spf != NULL ? spf_result_name(spf_check_result(ma->spf)) : "off";
	s->dkim =
	    ma->dkim != NULL ? dkim_result_name(dkim_verifier_summary(ma->dkim, NULL)) : "off";
	s->signatures = ma->dkim != NULL ? dkim_verifier_count(ma->dkim) : 0;
	s->dmarc = ma->dmarc != NULL ? dmarc_result_name(dmarc_check_result(ma->dmarc)) : "off";
	s->arc = ma->arc != NULL ? arc_cv_name(arc_verifier_result(ma->arc, NULL)) : "off";
	s->from_domain = ma->dmarc != NULL ? dmarc_check_from_domain(ma->dmarc) : "-";
	s->disposition =
	    ma->dmarc != NULL ? dmarc_policy_name(dmarc_check_disposition(ma->dmarc)) : "-";
}

void mailauth_free(struct mailauth **map)
{
	struct mailauth *ma = *map;

	if (ma == NULL)
		return;
	dns_driver_cancel(&ma->spf_drv);
	spf_check_free(&ma->spf);
	dns_driver_cancel(&ma->dkim_drv);
	dkim_verifier_free(&ma->dkim);
	dns_driver_cancel(&ma->arc_drv);
	arc_verifier_free(&ma->arc);
	dns_driver_cancel(&ma->dmarc_drv);
	dmarc_check_free(&ma->dmarc);
	if (ma->kick != NULL)
		event_free(ma->kick);
	buf_free(&ma->header.bytes);
	free(ma->ip);
	free(ma->helo);
	free(ma->mail_from);
	free(ma->authserv_id);
	free(ma);
	*map = NULL;
}
