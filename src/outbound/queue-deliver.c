/* One delivery job: route a destination domain (transport map, smarthost,
   or MX), connect to its hosts in order and run SMTP transactions for the
   job's recipients. See queue-private.h and docs/queue.md. */
#include "outbound/queue-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"

/* Output queued before more of the body is read from the data file. */
#define BODY_HIGH_WATER (256 * 1024)
#define BODY_CHUNK      65536

struct queue_conn {
	struct queue_role *q;
	struct conn *conn;
	struct smtp_client *client;
	struct smtp_client_config config;
	struct queue_job *job; /* NULL while idle between jobs */
	char *host, *ip;
	int data_fd;
	uint64_t data_left;
	bool closing;
	bool greeted; /* the session got past the greeting */
	/* the TLS policy of this host (NULL: a smarthost, or none); checked
	   once the session is ready, verified: the peer was authenticated */
	struct tls_decision *decision;
	bool tls_checked, tls_verified;
	unsigned txns;     /* transactions started on this connection */
	unsigned max_txns; /* queue.max_messages_per_connection */
};

static void try_next_address(struct queue_job *job);
static void try_next_host(struct queue_job *job);
static void job_restart(struct queue_job *job);
static void close_session(struct queue_conn *qc);
static void pump(struct queue_conn *qc);

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

struct queue_job *queue_job_new(struct queue_role *q, struct queue_entry *e, const char *domain)
{
	struct queue_job *job = xcalloc(1, sizeof(*job));

	job->q = q;
	job->entry = e;
	job->domain = xstrdup(domain);
	e->jobs++;
	return job;
}

void queue_job_free(struct queue_job **jp)
{
	struct queue_job *job = *jp;

	if (job == NULL)
		return;
	dns_query_cancel(&job->mx_query);
	dns_query_cancel(&job->a_query);
	dns_query_cancel(&job->aaaa_query);
	tls_policy_query_cancel(&job->tls_query);
	tls_decision_free(&job->decision);
	for (size_t i = 0; i < job->results.count; i++)
		smtp_client_result_clear(&job->results.items[i]);
	array_free(&job->results);
	array_free(&job->rcpts);
	queue_mx_hosts_free(&job->hosts);
	array_free(&job->addrs);
	array_free(&job->a_addrs);
	array_free(&job->aaaa_addrs);
	smtp_client_result_clear(&job->last_error);
	smtp_client_txn_clear(&job->txn);
	array_free(&job->txn_map);
	free(job->mx_name);
	free(job->mx_ip);
	free(job->tls);
	free(job->domain);
	free(job);
	*jp = NULL;
}

/* Every recipient of the job without an outcome gets this one. */
static void set_untried(struct queue_job *job, unsigned code, const char *enhanced,
                        const char *text)
{
	for (size_t i = 0; i < job->results.count; i++)
		if (job->results.items[i].code == 0)
			smtp_client_result_set(&job->results.items[i], code, enhanced, text);
}

static void finish(struct queue_job *job, struct queue_conn *qc)
{
	job->qc = NULL;
	if (qc != NULL)
		qc->job = NULL;
	queue_job_finished(job, qc);
}

/* Every host and address failed: the last temporary error for all. */
static void give_up_hosts(struct queue_job *job)
{
	if (job->last_error.code == 0)
		smtp_client_result_set(&job->last_error, 451, "4.4.1", "no host could be reached");
	set_untried(job, job->last_error.code, job->last_error.enhanced, job->last_error.text);
	finish(job, NULL);
}

static void remember_error(struct queue_job *job, unsigned code, const char *enh, const char *text)
{
	smtp_client_result_set(&job->last_error, code, enh, text);
}

/* ---- the session ---- */

static void qc_free(struct queue_conn *qc)
{
	smtp_client_free(&qc->client);
	tls_decision_free(&qc->decision);
	if (qc->data_fd >= 0)
		close(qc->data_fd);
	free(qc->host);
	free(qc->ip);
	free(qc);
}

static void conn_on_read(struct conn *conn, void *ctx)
{
	struct queue_conn *qc = ctx;
	struct evbuffer *in = conn_input(conn);
	size_t len = evbuffer_get_length(in);

	if (len == 0 || qc->closing)
		return;
	unsigned char *data = evbuffer_pullup(in, (ssize_t)len);

	smtp_client_feed(qc->client, data, len);
	evbuffer_drain(in, len);
	pump(qc);
}

static bool job_has_results(const struct queue_job *job)
{
	for (size_t i = 0; i < job->results.count; i++)
		if (job->results.items[i].code != 0)
			return true;
	return false;
}

/* The job of a session that ended: what it got, and whether another
   address should be tried. */
static void session_over(struct queue_conn *qc, const char *reason)
{
	struct queue_job *job = qc->job;
	const struct smtp_client_result *f;

	if (job == NULL)
		return;
	qc->job = NULL;
	job->qc = NULL;
	if (smtp_client_want(qc->client) != SMTP_CLIENT_WANT_CLOSE ||
	    smtp_client_failure(qc->client) == NULL)
		smtp_client_connection_lost(qc->client, reason);
	f = smtp_client_failure(qc->client);
	if (job->reused && !smtp_client_mail_accepted(qc->client) && !job->q->stopping &&
	    !job_has_results(job)) {
		/* nothing of this job reached the peer: a new connection now */
		log_info(NULL, "event=queue.reuse_lost id=%s mx=%s reply=\"%u %s\"", job->entry->id,
		         job->mx_name, f->code, f->text != NULL ? f->text : "");
		job_restart(job);
		return;
	}
	/* results of a transaction under way (those lost get the failure) */
	for (size_t i = 0; i < job->txn_map.count && !job->txn_done; i++) {
		struct smtp_client_result *r = &job->txn.results.items[i];
		struct smtp_client_result *dst = &job->results.items[job->txn_map.items[i]];

		if (r->code != 0 && (r->code / 100 != 2))
			smtp_client_result_set(dst, r->code, r->enhanced, r->text);
	}
	job->txn_done = true;
	if (!qc->greeted) {
		/* RFC 5321 5.1: a host that cannot be reached or refuses the
		   session: the next address (of the same host: the same TLS
		   policy), the next MX */
		tls_decision_free(&job->decision);
		job->decision = qc->decision;
		qc->decision = NULL;
		bool lost = f->code == 421 && strcmp(f->enhanced, "4.4.2") == 0;

		/* a refusal is temporary here: another host may take the mail */
		remember_error(job, 451, lost || f->enhanced[0] == '\0' ? "4.4.1" : f->enhanced,
		               f->text);
		job->last_error.enhanced[0] = '4';
		try_next_address(job);
		return;
	}
	/* the session broke after it was ready: whatever the last reply,
	   the recipients without an outcome were not refused, so retry them */
	set_untried(job, 451, "4.4.2", f->text);
	finish(job, NULL);
}

static void conn_on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct queue_conn *qc = ctx;

	(void)conn;
	qc->conn = NULL;
	session_over(qc, reason);
	qc_free(qc);
}

static void conn_on_connected(struct conn *conn, void *ctx)
{
	struct queue_conn *qc = ctx;

	conn_set_idle_timeout(conn, smtp_client_reply_timeout(qc->client));
}

static void send_body(struct queue_conn *qc);
static bool tls_policy_refuses(struct queue_conn *qc);

static void conn_on_drained(struct conn *conn, void *ctx)
{
	struct queue_conn *qc = ctx;

	(void)conn;
	if (!qc->closing && smtp_client_want(qc->client) == SMTP_CLIENT_WANT_BODY)
		send_body(qc);
}

/* The role stops (SIGTERM, the supervisor gone): start nothing new; a
   session whose message went out entirely keeps running until its reply
   comes and is recorded (role.c closes what is left after
   ROLE_STOP_GRACE), any other one is cut now with its job left for the
   next start, unrecorded: nothing of it was delivered. */
static void conn_on_shutdown(struct conn *conn, void *ctx)
{
	struct queue_conn *qc = ctx;

	(void)conn;
	qc->q->stopping = true;
	if (qc->job != NULL && smtp_client_awaiting_data_reply(qc->client)) {
		log_info(conn_sid(qc->conn), "event=queue.stop_wait id=%s mx=%s",
		         qc->job->entry->id, qc->host);
		return;
	}
	if (qc->job != NULL)
		queue_job_abort(qc->job);
	else
		close_session(qc);
}

static const struct conn_handler queue_conn_handler = {
    .on_read = conn_on_read,
    .on_close = conn_on_close,
    .on_shutdown = conn_on_shutdown,
    .on_connected = conn_on_connected,
    .on_drained = conn_on_drained,
};

static void close_session(struct queue_conn *qc)
{
	if (qc->closing)
		return;
	qc->closing = true;
	conn_close(qc->conn);
}

static void flush_output(struct queue_conn *qc)
{
	struct buf *out = smtp_client_output(qc->client);

	if (out->len > 0)
		conn_write(qc->conn, out->data, out->len);
	smtp_client_output_done(qc->client);
}

static void open_body(struct queue_conn *qc)
{
	struct queue_entry *e = qc->job->entry;

	qc->data_fd = open(e->data_path, O_RDONLY | O_CLOEXEC);
	if (qc->data_fd >= 0 && lseek(qc->data_fd, (off_t)e->env.data_skip, SEEK_SET) < 0) {
		close(qc->data_fd);
		qc->data_fd = -1;
	}
	qc->data_left = e->env.size;
}

/* Read the next chunks of the data file into the engine while the output
   is below the high-water mark; the final dot at the end. */
static void send_body(struct queue_conn *qc)
{
	char chunk[BODY_CHUNK];

	while (conn_output_pending(qc->conn) < BODY_HIGH_WATER && qc->data_left > 0) {
		size_t want = qc->data_left < sizeof(chunk) ? (size_t)qc->data_left : sizeof(chunk);
		ssize_t n = qc->data_fd >= 0 ? read(qc->data_fd, chunk, want) : -1;

		if (n <= 0) {
			log_error(conn_sid(qc->conn),
			          "event=queue.data_read_failed id=%s error=\"%s\"",
			          qc->job->entry->id, n < 0 ? strerror(errno) : "short file");
			smtp_client_connection_lost(qc->client, "cannot read the queued message");
			close_session(qc);
			return;
		}
		smtp_client_body(qc->client, chunk, (size_t)n);
		qc->data_left -= (uint64_t)n;
		flush_output(qc);
	}
	if (qc->data_left > 0)
		return;
	close(qc->data_fd);
	qc->data_fd = -1;
	smtp_client_body_end(qc->client);
	pump(qc);
}

/* The recipients still without an outcome (and 452 ones after an
   accepted one: RFC 5321 4.5.3.1.10) go into the next transaction. */
static bool next_txn(struct queue_job *job)
{
	struct queue_entry *e = job->entry;
	bool any = false;

	smtp_client_txn_clear(&job->txn);
	array_clear(&job->txn_map);
	memset(&job->txn, 0, sizeof(job->txn));
	job->txn.sender = e->env.sender;
	job->txn.size = e->env.size;
	job->txn.body = e->env.body;
	job->txn.smtputf8 = e->env.smtputf8;
	job->txn.ret = e->env.ret;
	job->txn.envid = e->env.envid;
	job->txn.requiretls = e->env.requiretls; /* tls_policy_refuses() allowed it */
	for (size_t i = 0; i < job->rcpts.count; i++) {
		const struct spool_rcpt *r = &e->env.rcpts.items[job->rcpts.items[i]];

		if (job->results.items[i].code != 0)
			continue;
		smtp_client_txn_add_rcpt(&job->txn, r->address, r->notify, r->orcpt_type, r->orcpt);
		array_append(&job->txn_map, (unsigned)i);
		any = true;
	}
	return any;
}

/* A transaction ended: take its results; true when another one should
   run for the rest (some were accepted and some got 452). */
static bool txn_results(struct queue_job *job)
{
	bool retry_rest = false;

	for (size_t i = 0; i < job->txn_map.count; i++) {
		struct smtp_client_result *r = &job->txn.results.items[i];
		struct smtp_client_result *dst = &job->results.items[job->txn_map.items[i]];

		if (r->code == 452 && job->txn.accepted > 0) {
			retry_rest = true; /* too many recipients: the next transaction */
			continue;
		}
		if (r->code != 0)
			smtp_client_result_set(dst, r->code, r->enhanced, r->text);
	}
	job->txn_done = true;
	return retry_rest;
}

static void ready(struct queue_conn *qc)
{
	struct queue_job *job = qc->job;
	struct smtp_client_result fail = {0};

	if (job->txn.rcpts.count > 0 && !job->txn_done && !txn_results(job)) {
		finish(job, qc);
		return;
	}
	if (!next_txn(job)) {
		finish(job, qc);
		return;
	}
	job->txn_done = false;
	qc->txns++;
	if (smtp_client_start(qc->client, &job->txn, &fail) < 0) {
		set_untried(job, fail.code, fail.enhanced, fail.text);
		smtp_client_result_clear(&fail);
		job->txn_done = true;
		finish(job, qc);
		return;
	}
	pump(qc);
}

/* The session is ready but this host must not get the job: QUIT it,
   remember why, and try the next address or MX. */
static void host_refused(struct queue_conn *qc, unsigned code, const char *enhanced,
                         const char *why)
{
	struct queue_job *job = qc->job;

	qc->job = NULL;
	job->qc = NULL;
	remember_error(job, code, enhanced, why);
	/* the next address of this host has the same policy */
	tls_decision_free(&job->decision);
	job->decision = qc->decision;
	qc->decision = NULL;
	qc->greeted = false;
	smtp_client_quit(qc->client);
	pump(qc);
	try_next_address(job);
}

/* At READY: the TLS policy's verdict on the session (once per
   connection), REQUIRETLS (RFC 8689 4.1, per message), and how TLS was
   for the log and the state. True when the job left this session. */
static bool tls_policy_refuses(struct queue_conn *qc)
{
	struct queue_job *job = qc->job;
	SSL *ssl = smtp_client_tls(qc->client) ? conn_ssl(qc->conn) : NULL;
	const char *why;

	free(job->tls);
	job->tls = xstrdup(tls_policy_describe(qc->decision, ssl != NULL));
	if (!qc->tls_checked && qc->decision != NULL) {
		qc->tls_checked = true;
		if (tls_policy_check(qc->decision, ssl, &qc->tls_verified, &why) < 0) {
			char *text = xstrdup(why);

			host_refused(qc, 451, "4.7.5", text);
			free(text);
			return true;
		}
	}
	qc->tls_checked = true;
	if (job->entry->env.requiretls &&
	    (!smtp_client_ext(qc->client)->requiretls ||
	     !tls_policy_allows_requiretls(qc->decision, qc->tls_verified))) {
		host_refused(qc, 550, "5.7.30", "REQUIRETLS support required");
		return true;
	}
	job->tls_verified = qc->tls_verified;
	return false;
}

static void pump(struct queue_conn *qc)
{
	for (unsigned guard = 0; guard < 16 && !qc->closing; guard++) {
		flush_output(qc);
		switch (smtp_client_want(qc->client)) {
		case SMTP_CLIENT_WANT_REPLY:
			conn_set_idle_timeout(qc->conn, smtp_client_reply_timeout(qc->client));
			return;
		case SMTP_CLIENT_WANT_TLS:
			if (conn_starttls(qc->conn) < 0) {
				smtp_client_connection_lost(qc->client, "cannot start TLS");
				close_session(qc);
				return;
			}
			smtp_client_tls_started(qc->client);
			continue;
		case SMTP_CLIENT_WANT_BODY:
			/* no reply is due while the body goes out: the conn's write
			   timeout (no progress for CONN_WRITE_TIMEOUT) guards it */
			conn_set_idle_timeout(qc->conn, 0);
			if (qc->data_fd < 0)
				open_body(qc);
			send_body(qc);
			return;
		case SMTP_CLIENT_WANT_READY:
			qc->greeted = true;
			if (qc->job == NULL || tls_policy_refuses(qc))
				return;
			ready(qc);
			return;
		case SMTP_CLIENT_WANT_CLOSE:
			close_session(qc);
			return;
		}
	}
}

bool queue_conn_reusable(const struct queue_conn *qc)
{
	return qc->txns < qc->max_txns;
}

void queue_conn_quit(struct queue_conn *qc)
{
	smtp_client_quit(qc->client);
	pump(qc);
}

/* ---- connecting ---- */

static bool host_is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void connect_addr(struct queue_job *job, const struct queue_addr *a, const char *host)
{
	struct queue_role *q = job->q;
	struct queue_conn *qc = xcalloc(1, sizeof(*qc));
	const char *error;

	/* TLS POLICY: job->decision was made for this host (host_known());
	   the connection takes it: its hook prepares the handshake, which
	   never fails on the certificate (SSL_VERIFY_NONE), and
	   tls_policy_refuses() judges the session once it is ready. No
	   decision: a smarthost (opportunistic, AUTH only over TLS). */
	struct tls_decision *d = job->decision;
	struct conn_connect_params params = {
	    .addr = (const struct sockaddr *)&a->sa,
	    .addrlen = a->len,
	    .tls_ctx = q->client_tls,
	    .server_name = host_is_ip(host) ? NULL : host, /* RFC 6066 3: no IP in SNI */
	    .verify = CONN_VERIFY_NONE,
	    .timeout = q->set->connect_timeout,
	    .tls_prepare = d != NULL ? tls_policy_prepare_hook : NULL,
	    .tls_prepare_arg = d,
	};

	qc->data_fd = -1;
	qc->q = q;
	qc->job = job;
	qc->host = xstrdup(host);
	qc->ip = xstrdup(a->ip);
	qc->max_txns = q->set->max_messages_per_connection;
	qc->config.helo = q->helo;
	qc->config.tls_possible =
	    q->client_tls != NULL && (d == NULL || d->mode != TLS_POLICY_NONE);
	qc->decision = d;
	job->decision = NULL;
	qc->config.tls_required = job->auth != NULL;
	qc->config.auth_user = job->auth != NULL ? job->auth->user : NULL;
	qc->config.auth_pass = job->auth != NULL ? job->auth->password : NULL;
	qc->config.timeouts.greeting = q->set->greeting_timeout;
	qc->config.timeouts.command = q->set->command_timeout;
	qc->config.timeouts.data_init =
	    q->set->command_timeout < 120 ? q->set->command_timeout : 120;
	qc->config.timeouts.data_end = q->set->data_timeout;
	qc->client = smtp_client_new(&qc->config);
	free(job->mx_name);
	free(job->mx_ip);
	job->mx_name = xstrdup(host);
	job->mx_ip = xstrdup(a->ip);
	job->qc = qc;
	qc->conn = conn_connect(q->role->base, &params, &queue_conn_handler, qc, &error);
	if (qc->conn == NULL) {
		job->qc = NULL;
		job->decision = qc->decision;
		qc->decision = NULL;
		qc_free(qc);
		remember_error(job, 451, "4.4.1", error);
		try_next_address(job);
	}
}

static void try_next_address(struct queue_job *job)
{
	if (job->q->stopping)
		return; /* left in q->running, unrecorded: queue_deinit() frees it */
	if (job->addr_i < job->addrs.count) {
		struct queue_addr a = job->addrs.items[job->addr_i++];

		connect_addr(job, &a, job->hosts.items[job->host_i - 1].name);
		return;
	}
	try_next_host(job);
}

static void policy_decided(struct tls_decision *d, void *ctx)
{
	struct queue_job *job = ctx;

	job->tls_query = NULL;
	tls_decision_free(&job->decision);
	if (d->tempfail) {
		/* bogus TLSA, an MX an enforced MTA-STS policy does not list */
		remember_error(job, 451, "4.7.5", d->why);
		tls_decision_free(&d);
		try_next_host(job);
		return;
	}
	if (job->entry->env.requiretls && !tls_policy_allows_requiretls(d, true)) {
		/* RFC 8689 4.1: this MX cannot carry it verified */
		remember_error(job, 550, "5.7.30", "REQUIRETLS support required");
		tls_decision_free(&d);
		try_next_host(job);
		return;
	}
	job->decision = d;
	try_next_address(job);
}

/* The addresses of the current host are known: its TLS policy (mx_secure:
   its MX and address answers were DNSSEC-secure), then its addresses. */
static void host_known(struct queue_job *job, bool mx_secure)
{
	const char *host = job->hosts.items[job->host_i - 1].name;

	tls_decision_free(&job->decision);
	job->tls_query = tls_policy_lookup(job->q->tls_policy, job->domain, host, mx_secure,
	                                   policy_decided, job);
}

static void addresses_known(struct queue_job *job)
{
	bool v6 = job->q->set->prefer_ipv6;

	array_clear(&job->addrs);
	job->addr_i = 0;
	for (unsigned pass = 0; pass < 2; pass++) {
		queue_addrs *src = (pass == 0) == v6 ? &job->aaaa_addrs : &job->a_addrs;

		for (size_t i = 0; i < src->count; i++)
			array_append(&job->addrs, src->items[i]);
	}
	if (job->addrs.count == 0)
		remember_error(job, job->a_temp || job->aaaa_temp ? 451 : 451,
		               job->a_temp || job->aaaa_temp ? "4.4.3" : "4.4.4",
		               job->a_temp || job->aaaa_temp
		                   ? "temporary DNS failure for the MX address"
		                   : "the MX host has no address");
	if (job->addrs.count == 0 || job->auth != NULL || job->q->tls_policy == NULL) {
		try_next_address(job);
		return;
	}
	host_known(job, job->mx_secure && !job->addr_insecure);
}

static void addr_answer(struct queue_job *job, const struct dns_answer *ans, bool v6)
{
	queue_addrs *dst = v6 ? &job->aaaa_addrs : &job->a_addrs;

	if (v6)
		job->aaaa_query = NULL;
	else
		job->a_query = NULL;
	if (ans->status == DNS_STATUS_OK && ans->dnssec != DNS_DNSSEC_SECURE)
		job->addr_insecure = true;
	if (ans->status == DNS_STATUS_OK)
		queue_addrs_add(dst, v6 ? NULL : ans, v6 ? ans : NULL, job->port, v6);
	else if (ans->status == DNS_STATUS_TEMPFAIL || ans->status == DNS_STATUS_TIMEOUT)
		*(v6 ? &job->aaaa_temp : &job->a_temp) = true;
	if (--job->pending_lookups == 0)
		addresses_known(job);
}

static void a_done(const struct dns_answer *ans, void *ctx)
{
	addr_answer(ctx, ans, false);
}

static void aaaa_done(const struct dns_answer *ans, void *ctx)
{
	addr_answer(ctx, ans, true);
}

static void try_next_host(struct queue_job *job)
{
	const char *host;

	if (job->host_i >= job->hosts.count) {
		give_up_hosts(job);
		return;
	}
	host = job->hosts.items[job->host_i++].name;
	array_clear(&job->a_addrs);
	array_clear(&job->aaaa_addrs);
	array_clear(&job->addrs);
	job->addr_i = 0;
	job->a_temp = job->aaaa_temp = false;
	job->addr_insecure = false;
	if (queue_addrs_add_literal(&job->addrs, host, job->port) == 0) {
		if (job->auth != NULL || job->q->tls_policy == NULL)
			try_next_address(job);
		else
			host_known(job, false);
		return;
	}
	/* an MX pointing at ourselves would loop */
	if (strcasecmp(host, job->q->settings->hostname) == 0) {
		remember_error(job, 451, "4.4.6", "the MX host is this server (mail loop)");
		try_next_host(job);
		return;
	}
	job->pending_lookups = 2;
	job->a_query = dns_lookup(job->q->resolver, host, DNS_TYPE_A, a_done, job);
	job->aaaa_query = dns_lookup(job->q->resolver, host, DNS_TYPE_AAAA, aaaa_done, job);
}

static void add_host(struct queue_job *job, const char *name)
{
	struct queue_mx_host *h = array_push(&job->hosts);

	h->name = xstrdup(name);
}

static void mx_done(const struct dns_answer *ans, void *ctx)
{
	struct queue_job *job = ctx;

	job->mx_query = NULL;
	switch (ans->status) {
	case DNS_STATUS_OK:
		job->mx_secure = ans->dnssec == DNS_DNSSEC_SECURE;
		if (queue_mx_order(ans, &job->q->rng, &job->hosts) == 1) {
			/* RFC 7505 4.1: the domain accepts no mail */
			set_untried(job, 556, "5.1.10", "the domain accepts no mail (null MX)");
			finish(job, NULL);
			return;
		}
		break;
	case DNS_STATUS_NODATA:
		add_host(job, job->domain); /* RFC 5321 5.1: the implicit MX */
		break;
	case DNS_STATUS_NXDOMAIN:
		set_untried(job, 550, "5.1.2", "the recipient's domain does not exist");
		finish(job, NULL);
		return;
	default:
		set_untried(job, 451, "4.4.3", "temporary DNS failure looking up the MX");
		finish(job, NULL);
		return;
	}
	try_next_host(job);
}

void queue_job_start(struct queue_job *job)
{
	const struct queue_route *route = queue_transport_lookup(job->q->transport, job->domain);

	job->started = now();
	for (size_t i = 0; i < job->rcpts.count; i++)
		(void)array_push(&job->results);
	job->port = job->q->set->port;
	if (route != NULL) {
		job->auth = queue_auth_lookup(&job->q->auths, route->host);
		add_host(job, route->host);
		if (route->port != 0)
			job->port = route->port;
		try_next_host(job);
		return;
	}
	job->mx_query = dns_lookup(job->q->resolver, job->domain, DNS_TYPE_MX, mx_done, job);
}

/* Start again from routing, on a new connection (the reused session was
   lost before this job's MAIL was accepted). */
static void job_restart(struct queue_job *job)
{
	for (size_t i = 0; i < job->results.count; i++)
		smtp_client_result_clear(&job->results.items[i]);
	array_clear(&job->results);
	queue_mx_hosts_free(&job->hosts);
	array_clear(&job->addrs);
	array_clear(&job->a_addrs);
	array_clear(&job->aaaa_addrs);
	job->host_i = job->addr_i = 0;
	job->mx_secure = job->addr_insecure = false;
	job->a_temp = job->aaaa_temp = false;
	tls_decision_free(&job->decision);
	smtp_client_result_clear(&job->last_error);
	smtp_client_txn_clear(&job->txn);
	memset(&job->txn, 0, sizeof(job->txn));
	array_clear(&job->txn_map);
	job->txn_done = false;
	job->reused = false;
	queue_job_start(job);
}

void queue_job_start_on(struct queue_job *job, struct queue_conn *qc)
{
	job->reused = true;
	job->started = now();
	for (size_t i = 0; i < job->rcpts.count; i++)
		(void)array_push(&job->results);
	job->qc = qc;
	qc->job = job;
	job->mx_name = xstrdup(qc->host);
	job->mx_ip = xstrdup(qc->ip);
	pump(qc);
}

void queue_job_abort(struct queue_job *job)
{
	tls_policy_query_cancel(&job->tls_query);
	dns_query_cancel(&job->mx_query);
	dns_query_cancel(&job->a_query);
	dns_query_cancel(&job->aaaa_query);
	if (job->qc != NULL) {
		job->qc->job = NULL;
		close_session(job->qc);
		job->qc = NULL;
	}
}
