/* SPF, DKIM and DMARC for messages received on port 25, and the one
   Authentication-Results field this host adds (smtp-mailauth.h). */
#include "smtp/smtp-mailauth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailauth/auth-results.h"
#include "mailauth/dkim-verify.h"
#include "mailauth/spf.h"
#include "smtp/smtp-server-private.h"

/* One I/O-free check (SPF, DKIM keys, DMARC) driven on the resolver. Not
   spf-async.h / dkim-async.h: libunbound answers some queries (its local
   zones such as "test." and "invalid.") from inside ub_resolve_event(), so
   dns_lookup() can call back before it returns, which those drivers do not
   survive; this one does (docs/smtp.md). */
struct auth_job {
	struct smtp_mailauth *a;
	int (*run)(void *check, const char **name_r, enum dns_type *type_r);
	void (*answer)(void *check, const char *name, enum dns_type type,
	               const struct dns_answer *answer);
	void *check;
	struct dns_query *query; /* pending lookup, or NULL */
	char *name;
	enum dns_type type;
	bool in_lookup;     /* inside dns_lookup() */
	bool answered_sync; /* ... and the answer came from inside it */
};

struct smtp_mailauth {
	struct smtp_session *s;

	struct spf_check *spf; /* NULL: SPF off, or the peer is not an IP */
	struct auth_job spf_job;

	struct dkim_verifier *dkim; /* NULL: DKIM verification off */
	struct auth_job dkim_job;

	struct dmarc_check *dmarc; /* NULL: DMARC off or not run yet */
	struct auth_job dmarc_job;

	/* Set by smtp_mailauth_finish(). */
	void (*done)(struct smtp_session *s);
	struct event *kick;
	bool finished;
};

static void progress(struct smtp_mailauth *a);

/* ---- the verdict ---- */

static enum smtp_auth_action decide_fail(const struct smtp_auth_facts *f,
                                         const struct tern_settings *set)
{
	enum dmarc_policy dis = f->disposition;

	if (dis == DMARC_POLICY_REJECT) {
		if (set->mailauth.dmarc_reject == DMARC_REJECT_NONE)
			return SMTP_AUTH_DELIVER;
		if (set->mailauth.dmarc_reject == DMARC_REJECT_REJECT)
			return f->temp_could_pass ? SMTP_AUTH_DEFER : SMTP_AUTH_REJECT;
		dis = DMARC_POLICY_QUARANTINE;
	}
	if (dis == DMARC_POLICY_QUARANTINE &&
	    set->mailauth.dmarc_quarantine == DMARC_QUARANTINE_JUNK)
		return SMTP_AUTH_JUNK;
	return SMTP_AUTH_DELIVER;
}

enum smtp_auth_action smtp_auth_decide(const struct smtp_auth_facts *f,
                                       const struct tern_settings *set)
{
	if (!f->dmarc_checked)
		return SMTP_AUTH_DELIVER;
	if (f->dmarc == DMARC_RESULT_FAIL)
		return decide_fail(f, set);
	/* RFC 7489 6.6.3: the policy could not be read; if it is reject the
	   message must not get in by a DNS hiccup, nor be refused for good. */
	if (f->dmarc == DMARC_RESULT_TEMPERROR && !f->any_pass &&
	    set->mailauth.dmarc_reject == DMARC_REJECT_REJECT)
		return SMTP_AUTH_DEFER;
	return SMTP_AUTH_DELIVER;
}

const char *smtp_auth_action_name(enum smtp_auth_action action)
{
	static const char *const names[] = {"deliver", "junk", "reject", "defer"};

	return names[action];
}

/* ---- driving a check on the resolver ---- */

static void job_answered(const struct dns_answer *answer, void *context);

/* Ask questions until one is pending (1) or the check is done (0). */
static int job_step(struct auth_job *j)
{
	const char *name;
	enum dns_type type;

	while (j->run(j->check, &name, &type) == 1) {
		struct dns_query *q;

		free(j->name);
		j->name = xstrdup(name);
		j->type = type;
		j->in_lookup = true;
		j->answered_sync = false;
		q = dns_lookup(j->a->s->server->resolver, j->name, type, job_answered, j);
		j->in_lookup = false;
		if (!j->answered_sync) {
			j->query = q;
			return 1;
		}
	}
	return 0;
}

static void job_answered(const struct dns_answer *answer, void *context)
{
	struct auth_job *j = context;

	j->query = NULL;
	j->answer(j->check, j->name, j->type, answer);
	if (j->in_lookup) {
		j->answered_sync = true; /* job_step goes on */
		return;
	}
	if (job_step(j) == 0)
		progress(j->a);
}

static void job_start(struct smtp_mailauth *a, struct auth_job *j, void *check)
{
	j->a = a;
	j->check = check;
	(void)job_step(j);
}

static void job_free(struct auth_job *j)
{
	dns_query_cancel(&j->query);
	free(j->name);
	j->name = NULL;
}

static int spf_run(void *check, const char **name_r, enum dns_type *type_r)
{
	return spf_check_run(check, name_r, type_r);
}

static void spf_answer(void *check, const char *name, enum dns_type type,
                       const struct dns_answer *answer)
{
	spf_check_answer(check, name, type, answer);
}

static int dkim_run(void *check, const char **name_r, enum dns_type *type_r)
{
	*type_r = DNS_TYPE_TXT;
	return dkim_verifier_run(check, name_r);
}

static void dkim_answer(void *check, const char *name, enum dns_type type,
                        const struct dns_answer *answer)
{
	dkim_verifier_answer(check, name, answer);
}

static int dmarc_run(void *check, const char **name_r, enum dns_type *type_r)
{
	return dmarc_check_run(check, name_r, type_r);
}

static void dmarc_answer(void *check, const char *name, enum dns_type type,
                         const struct dns_answer *answer)
{
	dmarc_check_answer(check, name, type, answer);
}

/* ---- SPF, from MAIL FROM on ---- */

static void start_spf(struct smtp_mailauth *a)
{
	struct smtp_session *s = a->s;
	struct spf_check_params params = {
	    .ip = conn_peer_ip(s->conn),
	    .helo = s->helo != NULL ? s->helo : "",
	    .mail_from = s->mail_from_text,
	    .receiver = s->server->settings->hostname,
	};
	const char *error;

	if (spf_check_new(&params, &a->spf, &error) < 0) {
		log_warn(s->sid, "event=smtp.spf_error error=\"%s\"", error);
		return;
	}
	job_start(a, &a->spf_job, a->spf);
}

void smtp_mailauth_begin(struct smtp_session *s)
{
	struct smtp_mailauth *a;

	if (s->service != SERVICE_SMTP)
		return;
	a = xcalloc(1, sizeof(*a));
	a->s = s;
	a->spf_job.run = spf_run;
	a->spf_job.answer = spf_answer;
	a->dkim_job.run = dkim_run;
	a->dkim_job.answer = dkim_answer;
	a->dmarc_job.run = dmarc_run;
	a->dmarc_job.answer = dmarc_answer;
	s->auth = a;
	if (s->server->settings->mailauth.spf)
		start_spf(a);
}

/* ---- DKIM, as the message streams ---- */

void smtp_mailauth_data_begin(struct smtp_session *s)
{
	if (s->auth != NULL && s->server->settings->mailauth.dkim)
		s->auth->dkim = dkim_verifier_new(time(NULL));
}

void smtp_mailauth_feed(struct smtp_session *s, const void *data, size_t len)
{
	const char *error;

	/* Over its header limit the verifier ignores the rest and reports
	   permerror; the session refuses such a header section anyway. */
	if (s->auth != NULL && s->auth->dkim != NULL)
		(void)dkim_verifier_feed(s->auth->dkim, data, len, &error);
}

/* ---- DMARC, once SPF and DKIM are known ---- */

/* The From domains of the header section (RFC 7489 6.6.1). */
static size_t from_domains(struct smtp_session *s, char **domains)
{
	struct smtp_header_field f;
	size_t pos = 0, count = 0;

	while (smtp_header_next(s->header.fields.data, s->header.fields.len, &pos, &f) == 1) {
		if (smtp_header_field_is(&f, "From"))
			dmarc_from_domains(f.value, f.value_len, domains, &count,
			                   DMARC_MAX_FROM_DOMAINS);
	}
	return count;
}

static size_t dkim_pass_domains(struct smtp_mailauth *a, const char **domains, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; a->dkim != NULL && i < dkim_verifier_count(a->dkim); i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(a->dkim, i);

		if (v->result == DKIM_RESULT_PASS && v->domain != NULL && count < max)
			domains[count++] = v->domain;
	}
	return count;
}

static void start_dmarc(struct smtp_mailauth *a)
{
	struct smtp_server *server = a->s->server;
	char *from[DMARC_MAX_FROM_DOMAINS];
	const char *dkim[DKIM_MAX_SIGNATURES];
	struct dmarc_check_params params = {
	    .psl = server->psl,
	    .from_domains = (const char *const *)from,
	    .from_count = from_domains(a->s, from),
	    .spf_result = a->spf != NULL ? spf_check_result(a->spf) : SPF_RESULT_NONE,
	    .spf_domain = a->spf != NULL ? spf_check_domain(a->spf) : NULL,
	    .dkim_domains = dkim,
	    .dkim_count = dkim_pass_domains(a, dkim, DKIM_MAX_SIGNATURES),
	    .sample = arc4random_uniform(100),
	};

	a->dmarc = dmarc_check_new(&params);
	for (size_t i = 0; i < params.from_count; i++)
		free(from[i]);
	job_start(a, &a->dmarc_job, a->dmarc);
}

/* Called whenever a check finished: once everything is known after the
   end of DATA (DMARC last, as it needs the SPF and DKIM results), hand
   back to the session. */
static void progress(struct smtp_mailauth *a)
{
	if (!a->finished || a->spf_job.query != NULL || a->dkim_job.query != NULL)
		return;
	if (a->dmarc == NULL && a->s->server->settings->mailauth.dmarc)
		start_dmarc(a);
	if (a->dmarc_job.query != NULL)
		return;
	a->finished = false; /* done is called once */
	a->done(a->s);
}

static void kick_cb(evutil_socket_t fd, short what, void *context)
{
	progress(context);
}

void smtp_mailauth_finish(struct smtp_session *s, void (*done)(struct smtp_session *s))
{
	struct smtp_mailauth *a = s->auth;
	struct timeval now = {0, 0};

	a->done = done;
	a->finished = true;
	if (a->dkim != NULL) {
		dkim_verifier_finish(a->dkim);
		job_start(a, &a->dkim_job, a->dkim);
	}
	/* Everything may be known already: continue from the loop, as the
	   contract says, so the caller's state is settled first. */
	a->kick = evtimer_new(s->server->role->base, kick_cb, a);
	evtimer_add(a->kick, &now);
}

/* ---- the result ---- */

static bool aligned_temperror(struct smtp_mailauth *a, const char *from)
{
	const struct psl *psl = a->s->server->psl;

	if (a->spf != NULL && spf_check_result(a->spf) == SPF_RESULT_TEMPERROR &&
	    spf_check_domain(a->spf) != NULL &&
	    dmarc_aligned(psl, spf_check_domain(a->spf), from, DMARC_ALIGN_RELAXED))
		return true;
	for (size_t i = 0; a->dkim != NULL && i < dkim_verifier_count(a->dkim); i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(a->dkim, i);

		if (v->result == DKIM_RESULT_TEMPERROR && v->domain != NULL &&
		    dmarc_aligned(psl, v->domain, from, DMARC_ALIGN_RELAXED))
			return true;
	}
	return false;
}

static void gather_facts(struct smtp_mailauth *a, struct smtp_auth_facts *f)
{
	const char *dummy[DKIM_MAX_SIGNATURES];

	memset(f, 0, sizeof(*f));
	f->any_pass = (a->spf != NULL && spf_check_result(a->spf) == SPF_RESULT_PASS) ||
	              dkim_pass_domains(a, dummy, DKIM_MAX_SIGNATURES) > 0;
	if (a->dmarc == NULL)
		return;
	f->dmarc_checked = true;
	f->dmarc = dmarc_check_result(a->dmarc);
	f->disposition = dmarc_check_disposition(a->dmarc);
	f->temp_could_pass = aligned_temperror(a, dmarc_check_from_domain(a->dmarc));
}

static void add_spf(struct smtp_mailauth *a, struct auth_results_writer *w)
{
	struct smtp_session *s = a->s;
	bool null_sender = s->mail_from_text[0] == '\0';
	enum spf_result r = a->spf != NULL ? spf_check_result(a->spf) : SPF_RESULT_NONE;
	const char *reason = a->spf != NULL ? spf_check_reason(a->spf) : "not checked";

	if (!s->server->settings->mailauth.spf)
		return;
	auth_results_add(w, "spf", spf_result_name(r), reason[0] != '\0' ? reason : NULL,
	                 "smtp.mailfrom", null_sender ? NULL : s->mail_from_text, "smtp.helo",
	                 null_sender ? s->helo : NULL, NULL);
}

/* One entry per signature (RFC 8601 2.7.1), or the summary without any. */
static void add_dkim(struct smtp_mailauth *a, struct auth_results_writer *w)
{
	size_t count;

	if (a->dkim == NULL)
		return;
	count = dkim_verifier_count(a->dkim);
	if (count == 0) {
		const char *reason = NULL;
		enum dkim_result r = dkim_verifier_summary(a->dkim, &reason);

		auth_results_add(w, "dkim", dkim_result_name(r), reason, NULL);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct dkim_verdict *v = dkim_verifier_verdict(a->dkim, i);

		auth_results_add(w, "dkim", dkim_result_name(v->result),
		                 v->result == DKIM_RESULT_PASS ? NULL : v->reason, "header.d",
		                 v->domain, "header.i", v->identity, "header.s", v->selector,
		                 "header.a", v->algorithm, "header.b",
		                 v->header_b[0] != '\0' ? v->header_b : NULL, NULL);
	}
}

static void add_dmarc(struct smtp_mailauth *a, struct auth_results_writer *w)
{
	char *comment;

	if (a->dmarc == NULL)
		return;
	comment = xasprintf("p=%s dis=%s", dmarc_policy_name(dmarc_check_policy(a->dmarc)),
	                    dmarc_policy_name(dmarc_check_disposition(a->dmarc)));
	auth_results_add(w, "dmarc", dmarc_result_name(dmarc_check_result(a->dmarc)), comment,
	                 "header.from", dmarc_check_from_domain(a->dmarc), NULL);
	free(comment);
}

static void log_result(struct smtp_mailauth *a, enum smtp_auth_action action)
{
	struct smtp_session *s = a->s;
	const char *dkim =
	    a->dkim != NULL ? dkim_result_name(dkim_verifier_summary(a->dkim, NULL)) : "off";
	const char *from = a->dmarc != NULL ? dmarc_check_from_domain(a->dmarc) : "-";
	char *from_v = log_value(from, strlen(from), 255);

	log_info(s->sid,
	         "event=smtp.mailauth id=%s spf=%s dkim=%s signatures=%zu dmarc=%s "
	         "from_domain=%s policy=%s action=%s",
	         s->msg_id, a->spf != NULL ? spf_result_name(spf_check_result(a->spf)) : "off",
	         dkim, a->dkim != NULL ? dkim_verifier_count(a->dkim) : 0,
	         a->dmarc != NULL ? dmarc_result_name(dmarc_check_result(a->dmarc)) : "off", from_v,
	         a->dmarc != NULL ? dmarc_policy_name(dmarc_check_disposition(a->dmarc)) : "-",
	         smtp_auth_action_name(action));
	free(from_v);
}

enum smtp_auth_action smtp_mailauth_result(struct smtp_session *s, struct buf *out)
{
	struct smtp_mailauth *a = s->auth;
	struct auth_results_writer w;
	struct smtp_auth_facts facts;
	enum smtp_auth_action action;

	buf_append_str(out, "Authentication-Results: ");
	auth_results_writer_init(&w, out, s->server->settings->hostname, true);
	add_spf(a, &w);
	add_dkim(a, &w);
	add_dmarc(a, &w);
	/* RFC 8617 is not implemented yet: say so rather than stay silent. */
	auth_results_add(&w, "arc", "none", "not checked", NULL);
	auth_results_writer_finish(&w);
	buf_append_str(out, "\r\n");
	gather_facts(a, &facts);
	action = smtp_auth_decide(&facts, s->server->settings);
	log_result(a, action);
	return action;
}

void smtp_mailauth_free(struct smtp_session *s)
{
	struct smtp_mailauth *a = s->auth;

	if (a == NULL)
		return;
	job_free(&a->spf_job);
	spf_check_free(&a->spf);
	job_free(&a->dkim_job);
	dkim_verifier_free(&a->dkim);
	job_free(&a->dmarc_job);
	dmarc_check_free(&a->dmarc);
	if (a->kick != NULL)
		event_free(a->kick);
	free(a);
	s->auth = NULL;
}
