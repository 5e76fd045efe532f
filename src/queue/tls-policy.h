#ifndef TERN_QUEUE_TLS_POLICY_H
#define TERN_QUEUE_TLS_POLICY_H

/*
 * The TLS policy of outbound delivery: for one MX host of one destination
 * domain, how TLS must be (docs/queue.md, "TLS policy"). In order:
 *
 *   1. DANE (RFC 7672) when the MX (and its addresses) were DNSSEC-secure
 *      and _25._tcp.<mx> has secure TLSA records: TLS mandatory, the
 *      certificate must match a DANE-TA/DANE-EE record; a bogus or failed
 *      TLSA lookup is a temporary failure.
 *   2. MTA-STS (RFC 8461) when the domain publishes a policy: enforce =
 *      only MX hosts the policy lists, TLS with a certificate valid for the
 *      MX name (PKIX, the system CAs); testing = checked and logged only.
 *      (RFC 8461 2: DANE, when present, wins.)
 *   3. Otherwise opportunistic STARTTLS, no verification.
 *
 * The queue's part, per MX host:
 *
 *   tls_policy_lookup(tp, domain, mx, mx_secure, cb, ctx)   -> decision
 *   if (decision->tempfail)  -> temporary failure, decision->why
 *   conn_connect(... .tls_prepare = tls_policy_prepare_hook,
 *                    .tls_prepare_arg = decision ...)
 *   after EHLO: STARTTLS if offered (required when decision->tls_required)
 *   after the handshake, or when TLS did not happen (ssl NULL):
 *   tls_policy_check(decision, ssl, &verified, &why) < 0 -> QUIT, temp failure
 *   REQUIRETLS messages: tls_policy_allows_requiretls(decision, verified)
 *   log tls=<tls_policy_describe(decision, ssl != NULL)>
 *   tls_decision_free(&decision)
 */

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "lib/array.h"
#include "queue/dane.h"
#include "queue/mta-sts-fetch.h"
#include "queue/mta-sts.h"

struct event_base;
struct dns_resolver;
struct workpool;
struct tls_policy;
struct tls_policy_query;

enum tls_policy_mode {
	TLS_POLICY_NONE,          /* no TLS (disabled by the queue's settings) */
	TLS_POLICY_OPPORTUNISTIC, /* STARTTLS if offered, not verified */
	TLS_POLICY_DANE,          /* RFC 7672 */
	TLS_POLICY_MTASTS,        /* RFC 8461 (enforce or testing) */
};

struct tls_policy_settings {
	bool no_tls;  /* TLS_POLICY_NONE for every MX (tests, broken peers) */
	bool dane;    /* look up TLSA records (default on: set true) */
	bool mta_sts; /* look up MTA-STS policies (default on: set true) */
	/* Fetching and caching policies; cache_dir is normally
	   <data_dir>/queue/mta-sts (created if missing). */
	struct mta_sts_fetch_settings sts;
	/* CAs an MTA-STS MX certificate must chain to; NULL: the system store.
	   For tests. */
	const char *mx_ca_file;
};

struct tls_decision {
	enum tls_policy_mode mode;
	/* Do not deliver to this MX now: a temporary failure (bogus TLSA, MX
	   not in an enforced MTA-STS policy); why says why. */
	bool tempfail;
	/* TLS must happen: no STARTTLS or a failed handshake is a temporary
	   failure (DANE, MTA-STS enforce), never a downgrade. */
	bool tls_required;
	/* The certificate must verify (DANE with usable records, MTA-STS
	   enforce; in testing mode it is checked and only logged). */
	bool authenticate;
	bool testing;               /* MTA-STS mode testing */
	enum dane_state dane;       /* what the TLSA lookup gave */
	enum mta_sts_mode sts_mode; /* the policy's mode (NONE: no policy) */
	char *domain, *mx_host;
	char *why;                /* text for logs and replies; never NULL */
	struct dane_records tlsa; /* usable records with DANE_AUTH */
	ARRAY(char *) names;      /* MTA-STS: names the certificate must carry */
	X509_STORE *store;        /* MTA-STS: trusted CAs (own reference) */
};

/* Called once per lookup not cancelled, from the event loop. The callback
   owns decision (free with tls_decision_free). */
typedef void tls_policy_callback_t(struct tls_decision *decision, void *context);

/* A policy engine on base, resolver and pool (all must outlive it). settings
   is copied. Creates settings->sts.cache_dir if missing. Returns 0, or -1
   with a static reason in *error_r. */
int tls_policy_new(struct event_base *base, struct dns_resolver *resolver, struct workpool *pool,
                   const struct tls_policy_settings *settings, struct tls_policy **tp_r,
                   const char **error_r);

/* Decide the TLS policy of mx_host for mail to domain. mx_secure: the MX
   RRset and mx_host's A/AAAA answers were DNSSEC-secure (false for an
   implicit MX from an insecure A lookup, a transport map, a smarthost).
   Logs one event=tls.policy line. Never calls back from inside this
   call. Returns a handle for tls_policy_query_cancel until the callback
   has run. */
struct tls_policy_query *tls_policy_lookup(struct tls_policy *tp, const char *domain,
                                           const char *mx_host, bool mx_secure,
                                           tls_policy_callback_t *callback, void *context);

/* Cancel a lookup: its callback is not called. NULL is fine; sets *query
   NULL. */
void tls_policy_query_cancel(struct tls_policy_query **query);

/* Prepare ssl before its handshake (SNI is the conn's business): DANE
   records and names, or the MTA-STS names and CA store. Verification is
   never done by the handshake itself (SSL_VERIFY_NONE): the handshake
   completes and tls_policy_check() judges. Returns 0, or -1 with a static
   reason in *error_r (a failed connection; then a temporary failure). */
int tls_policy_apply(const struct tls_decision *decision, SSL *ssl, const char **error_r);

/* tls_policy_apply with the signature of conn_connect_params.tls_prepare
   (arg is the decision, which must outlive the connection). */
int tls_policy_prepare_hook(SSL *ssl, void *arg);

/* After the handshake (ssl), or when TLS did not happen (ssl NULL: no
   STARTTLS offered, or not attempted). Returns 0 when delivery may go on,
   with *verified_r true if the peer was authenticated (DANE, MTA-STS
   enforce or testing with a valid certificate); -1 for a temporary
   failure, with *why_r (owned by decision, valid until the next call on
   it) "TLSA mismatch: ...", "STARTTLS required by DANE but not offered",
   ... Logs one event=tls.check line. */
int tls_policy_check(struct tls_decision *decision, SSL *ssl, bool *verified_r, const char **why_r);

/* RFC 8689 4.1: may a REQUIRETLS message go over this connection? True
   only when verified and the decision was DANE with usable records or
   MTA-STS enforce. decision NULL: a smarthost, whose own certificate check
   (CONN_VERIFY_NAME) gave verified. Called with verified = true before
   connecting, it says whether this MX can carry the message at all.
   When false the message fails permanently with TLS_POLICY_REQUIRETLS_TEXT. */
bool tls_policy_allows_requiretls(const struct tls_decision *decision, bool verified);

#define TLS_POLICY_REQUIRETLS_CODE "550"
#define TLS_POLICY_REQUIRETLS_TEXT "5.7.30 REQUIRETLS support required"

/* The log value of how a delivery's TLS was: "none" when ssl was not
   used, else "opportunistic", "dane", "mta-sts" (static). decision NULL
   (a smarthost): "opportunistic" when TLS was used. */
const char *tls_policy_describe(const struct tls_decision *decision, bool tls_used);

/* "none", "opportunistic", "dane", "mta-sts" (static). */
const char *tls_policy_mode_name(enum tls_policy_mode mode);

/* Decide from answers already in hand (the I/O-free core of
   tls_policy_lookup, for tests): tlsa as dane_evaluate takes it, sts the
   domain's policy or NULL. store may be NULL (system CAs). Never NULL. */
struct tls_decision *tls_decision_make(const char *domain, const char *mx_host, bool mx_secure,
                                       const struct dns_answer *tlsa,
                                       const struct mta_sts_policy *sts, X509_STORE *store);

void tls_decision_free(struct tls_decision **decision);

/* Cancel what is pending (no callbacks; lookups on worker threads finish
   and are dropped) and free; NULL is fine; sets *tp NULL. The pool must
   still run until workpool_free. */
void tls_policy_free(struct tls_policy **tp);

#endif
