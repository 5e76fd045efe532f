/* Unit tests for src/queue/tls-policy.c and the DANE and name checks of
   src/net/tls.c: the decisions table, and real TLS handshakes in memory
   against certificates made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <event2/event.h>
#include <unistd.h>

#include "dns/dns-resolver.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "queue/tls-policy.h"

/* ---- the decisions table ---- */

static uint8_t digest[32] = {9, 9, 9};

static struct dns_answer *tlsa_answer(enum dns_status status, enum dns_dnssec sec, uint8_t usage)
{
	struct dns_answer *a = dns_answer_new(status);
	struct dns_rr rr = {.type = DNS_TYPE_TLSA};

	rr.u.tlsa.usage = usage;
	rr.u.tlsa.selector = 1;
	rr.u.tlsa.matching = 1;
	rr.u.tlsa.data = digest;
	rr.u.tlsa.len = sizeof(digest);
	if (status == DNS_STATUS_OK)
		dns_answer_add(a, &rr);
	a->dnssec = sec;
	return a;
}

static struct mta_sts_policy *sts(const char *mode)
{
	char text[256];
	struct mta_sts_policy *p = NULL;
	const char *error;

	snprintf(text, sizeof(text), "version: STSv1\nmode: %s\nmx: *.example.test\nmax_age: 60\n",
	         mode);
	assert_int_equal(mta_sts_policy_parse(text, strlen(text), &p, &error), 0);
	return p;
}

struct row {
	const char *name;
	bool mx_secure;
	enum dns_status tlsa_status; /* DNS_STATUS_NODATA for "no records" */
	enum dns_dnssec tlsa_sec;
	uint8_t usage;
	const char *sts_mode; /* NULL: no policy */
	const char *mx;
	/* expected */
	enum tls_policy_mode mode;
	bool tempfail, required, authenticate, requiretls_ok;
};

static const struct row rows[] = {
    {"no dane no sts", true, DNS_STATUS_NODATA, DNS_DNSSEC_SECURE, 3, NULL, "mx.example.test",
     TLS_POLICY_OPPORTUNISTIC, false, false, false, false},
    {"dane-ee", true, DNS_STATUS_OK, DNS_DNSSEC_SECURE, 3, NULL, "mx.example.test", TLS_POLICY_DANE,
     false, true, true, true},
    {"dane-ta", true, DNS_STATUS_OK, DNS_DNSSEC_SECURE, 2, NULL, "mx.example.test", TLS_POLICY_DANE,
     false, true, true, true},
    {"dane beats sts", true, DNS_STATUS_OK, DNS_DNSSEC_SECURE, 3, "enforce", "mx.other.test",
     TLS_POLICY_DANE, false, true, true, true},
    {"pkix only: tls required", true, DNS_STATUS_OK, DNS_DNSSEC_SECURE, 1, NULL, "mx.example.test",
     TLS_POLICY_DANE, false, true, false, false},
    {"bogus tlsa", true, DNS_STATUS_OK, DNS_DNSSEC_BOGUS, 3, NULL, "mx.example.test",
     TLS_POLICY_DANE, true, true, false, false},
    {"tlsa servfail", true, DNS_STATUS_TEMPFAIL, DNS_DNSSEC_INSECURE, 3, "enforce",
     "mx.example.test", TLS_POLICY_DANE, true, true, false, false},
    {"insecure tlsa", true, DNS_STATUS_OK, DNS_DNSSEC_INSECURE, 3, NULL, "mx.example.test",
     TLS_POLICY_OPPORTUNISTIC, false, false, false, false},
    {"insecure mx", false, DNS_STATUS_OK, DNS_DNSSEC_SECURE, 3, NULL, "mx.example.test",
     TLS_POLICY_OPPORTUNISTIC, false, false, false, false},
    {"sts enforce", false, DNS_STATUS_NODATA, DNS_DNSSEC_INSECURE, 3, "enforce", "mx.example.test",
     TLS_POLICY_MTASTS, false, true, true, true},
    {"sts enforce, mx not listed", false, DNS_STATUS_NODATA, DNS_DNSSEC_INSECURE, 3, "enforce",
     "mx.other.test", TLS_POLICY_MTASTS, true, true, true, false},
    {"sts testing", false, DNS_STATUS_NODATA, DNS_DNSSEC_INSECURE, 3, "testing", "mx.example.test",
     TLS_POLICY_MTASTS, false, false, true, false},
    {"sts testing, mx not listed", false, DNS_STATUS_NODATA, DNS_DNSSEC_INSECURE, 3, "testing",
     "mx.other.test", TLS_POLICY_MTASTS, false, false, true, false},
    {"sts none", false, DNS_STATUS_NODATA, DNS_DNSSEC_INSECURE, 3, "none", "mx.example.test",
     TLS_POLICY_OPPORTUNISTIC, false, false, false, false},
};

static void test_decisions(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct dns_answer *a = tlsa_answer(r->tlsa_status, r->tlsa_sec, r->usage);
		struct mta_sts_policy *p = r->sts_mode != NULL ? sts(r->sts_mode) : NULL;
		struct tls_decision *d =
		    tls_decision_make("example.test", r->mx, r->mx_secure, a, p, NULL);

		print_message("row: %s (%s)\n", r->name, d->why);
		assert_int_equal(d->mode, r->mode);
		assert_int_equal(d->tempfail, r->tempfail);
		assert_int_equal(d->tls_required, r->required);
		assert_int_equal(d->authenticate, r->authenticate);
		assert_int_equal(tls_policy_allows_requiretls(d, true), r->requiretls_ok);
		assert_false(tls_policy_allows_requiretls(d, false));
		tls_decision_free(&d);
		assert_null(d);
		mta_sts_policy_free(&p);
		dns_answer_free(&a);
	}
	assert_true(tls_policy_allows_requiretls(NULL, true)); /* verified smarthost */
	assert_false(tls_policy_allows_requiretls(NULL, false));
}

/* Without TLS (no STARTTLS offered): a downgrade only where allowed. */
static void test_check_without_tls(void **state)
{
	static const struct {
		const char *sts_mode;
		bool secure_tlsa;
		int want;
	} cases[] = {
	    {NULL, false, 0}, {NULL, true, -1}, {"enforce", false, -1}, {"testing", false, 0}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_answer *a = tlsa_answer(
		    cases[i].secure_tlsa ? DNS_STATUS_OK : DNS_STATUS_NODATA, DNS_DNSSEC_SECURE, 3);
		struct mta_sts_policy *p =
		    cases[i].sts_mode != NULL ? sts(cases[i].sts_mode) : NULL;
		struct tls_decision *d =
		    tls_decision_make("example.test", "mx.example.test", true, a, p, NULL);
		bool verified = true;
		const char *why = NULL;

		assert_int_equal(tls_policy_check(d, NULL, &verified, &why), cases[i].want);
		assert_false(verified);
		if (cases[i].want < 0)
			assert_non_null(strstr(why, "STARTTLS"));
		assert_string_equal(tls_policy_describe(d, false), "none");
		tls_decision_free(&d);
		mta_sts_policy_free(&p);
		dns_answer_free(&a);
	}
}

/* ---- certificates and handshakes in memory ---- */

struct pki {
	EVP_PKEY *ca_key, *leaf_key, *other_key;
	X509 *ca, *leaf, *other; /* other: self-signed, same name as leaf */
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

static X509 *cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool is_ca,
                      const char *san)
{
	X509 *x = X509_new();
	static long serial = 1;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	if (is_ca) {
		add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, "critical,keyCertSign");
	}
	if (san != NULL)
		add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void pki_make(struct pki *k)
{
	k->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k->leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k->other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k->ca = cert_new(k->ca_key, "Test CA", NULL, NULL, true, NULL);
	k->leaf = cert_new(k->leaf_key, "mx.example.test", k->ca, k->ca_key, false,
	                   "DNS:mx.example.test");
	k->other =
	    cert_new(k->other_key, "mx.example.test", NULL, NULL, false, "DNS:mx.example.test");
}

static void pki_free(struct pki *k)
{
	X509_free(k->ca);
	X509_free(k->leaf);
	X509_free(k->other);
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->leaf_key);
	EVP_PKEY_free(k->other_key);
}

static SSL_CTX *server_ctx(X509 *cert, EVP_PKEY *key, X509 *chain)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	if (chain != NULL) {
		X509_up_ref(chain);
		assert_int_equal(SSL_CTX_add_extra_chain_cert(ctx, chain), 1);
	}
	return ctx;
}

/* Run a handshake between two SSLs over a BIO pair; bounded. */
static int handshake(SSL *client, SSL *server)
{
	BIO *bc, *bs;

	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(client, bc, bc);
	SSL_set_bio(server, bs, bs);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	for (int i = 0; i < 100; i++) {
		int rc = SSL_do_handshake(client), rs = SSL_do_handshake(server);

		if (rc == 1 && rs == 1)
			return 0;
		if ((rc != 1 && SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) ||
		    (rs != 1 && SSL_get_error(server, rs) != SSL_ERROR_WANT_READ))
			return -1;
	}
	return -1;
}

static void spki_sha256(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	unsigned n = 32;

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
}

static void cert_sha256(X509 *x, uint8_t out[32])
{
	unsigned n = 32;

	assert_int_equal(X509_digest(x, EVP_sha256(), out, &n), 1);
}

/* Decide with one secure TLSA record, handshake with the server's
   certificate (and chain), and return tls_policy_check's result. */
static int dane_run(X509 *cert, EVP_PKEY *key, X509 *chain, const char *mx, uint8_t usage,
                    uint8_t selector, const uint8_t data[32], const char **why_r, bool *verified)
{
	struct dns_answer *a = dns_answer_new(DNS_STATUS_OK);
	struct dns_rr rr = {.type = DNS_TYPE_TLSA};
	SSL_CTX *cctx = NULL, *sctx = server_ctx(cert, key, chain);
	char *error = NULL;
	struct tls_decision *d;
	SSL *c, *s;
	const char *why = "";
	int ret;

	rr.u.tlsa.usage = usage;
	rr.u.tlsa.selector = selector;
	rr.u.tlsa.matching = 1;
	rr.u.tlsa.data = (uint8_t *)data;
	rr.u.tlsa.len = 32;
	dns_answer_add(a, &rr);
	a->dnssec = DNS_DNSSEC_SECURE;
	d = tls_decision_make("example.test", mx, true, a, NULL, NULL);
	assert_int_equal(d->mode, TLS_POLICY_DANE);
	assert_int_equal(tls_client_ctx_new(NULL, &cctx, &error), 0);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_policy_prepare_hook(c, d), 0);
	assert_int_equal(handshake(c, s), 0); /* never fails on policy grounds */
	ret = tls_policy_check(d, c, verified, &why);
	*why_r = ret < 0 ? (strstr(why, "TLSA mismatch") != NULL ? "mismatch" : "other") : "";
	assert_string_equal(tls_policy_describe(d, true), "dane");
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	tls_decision_free(&d);
	dns_answer_free(&a);
	return ret;
}

static void test_dane_ee(void **state)
{
	struct pki k;
	uint8_t h[32];
	const char *why;
	bool verified;

	pki_make(&k);
	spki_sha256(k.leaf, h);
	/* DANE-EE 3 1 1: the key matches; names do not matter (RFC 7672
	   3.1.1), so another MX name passes too. */
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, NULL, "mx.example.test", 3, 1, h, &why, &verified), 0);
	assert_true(verified);
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, NULL, "elsewhere.test", 3, 1, h, &why, &verified), 0);
	/* The server shows another key: a mismatch, a temporary failure. */
	assert_int_equal(
	    dane_run(k.other, k.other_key, NULL, "mx.example.test", 3, 1, h, &why, &verified), -1);
	assert_false(verified);
	assert_string_equal(why, "mismatch");
	/* An expired certificate still matches DANE-EE (RFC 7672 3.1.1: the
	   record, not the dates, says which key is right). */
	X509_gmtime_adj(X509_getm_notBefore(k.other), -7200);
	X509_gmtime_adj(X509_getm_notAfter(k.other), -3600);
	assert_true(X509_sign(k.other, k.other_key, EVP_sha256()) > 0);
	spki_sha256(k.other, h);
	assert_int_equal(
	    dane_run(k.other, k.other_key, NULL, "mx.example.test", 3, 1, h, &why, &verified), 0);
	/* 3 0 1: the whole certificate's digest. */
	cert_sha256(k.leaf, h);
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, NULL, "mx.example.test", 3, 0, h, &why, &verified), 0);
	pki_free(&k);
}

static void test_dane_ta(void **state)
{
	struct pki k;
	uint8_t h[32];
	const char *why;
	bool verified;

	pki_make(&k);
	cert_sha256(k.ca, h);
	/* DANE-TA 2 0 1 of the CA, the server sends leaf + CA. */
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, k.ca, "mx.example.test", 2, 0, h, &why, &verified), 0);
	assert_true(verified);
	/* DANE-TA checks the name (RFC 7672 3.2.2): another MX name fails. */
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, k.ca, "other.example.test", 2, 0, h, &why, &verified), -1);
	assert_string_equal(why, "mismatch");
	/* A certificate not issued by that TA fails. */
	assert_int_equal(
	    dane_run(k.other, k.other_key, NULL, "mx.example.test", 2, 0, h, &why, &verified), -1);
	/* 2 1 1: the TA's public key. */
	spki_sha256(k.ca, h);
	assert_int_equal(
	    dane_run(k.leaf, k.leaf_key, k.ca, "mx.example.test", 2, 1, h, &why, &verified), 0);
	pki_free(&k);
}

/* MTA-STS: PKIX against a store holding the test CA, the MX name. */
static int sts_run(struct pki *k, X509 *cert, EVP_PKEY *key, const char *mode, const char *mx,
                   bool *verified)
{
	X509_STORE *store = X509_STORE_new();
	struct mta_sts_policy *p = sts(mode);
	struct tls_decision *d;
	SSL_CTX *cctx = NULL, *sctx = server_ctx(cert, key, NULL);
	char *error = NULL;
	const char *why;
	SSL *c, *s;
	int ret;

	X509_STORE_add_cert(store, k->ca);
	d = tls_decision_make("example.test", mx, false, NULL, p, store);
	X509_STORE_free(store); /* the decision holds its own reference */
	assert_int_equal(d->mode, TLS_POLICY_MTASTS);
	assert_false(d->tempfail);
	assert_int_equal(tls_client_ctx_new(NULL, &cctx, &error), 0);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(tls_policy_apply(d, c, &why), 0);
	assert_int_equal(handshake(c, s), 0);
	ret = tls_policy_check(d, c, verified, &why);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	tls_decision_free(&d);
	mta_sts_policy_free(&p);
	return ret;
}

static void test_mta_sts_names(void **state)
{
	struct pki k;
	bool verified;

	pki_make(&k);
	assert_int_equal(sts_run(&k, k.leaf, k.leaf_key, "enforce", "mx.example.test", &verified),
	                 0);
	assert_true(verified);
	/* Listed by the policy (*.example.test) but not in the certificate. */
	assert_int_equal(sts_run(&k, k.leaf, k.leaf_key, "enforce", "mx2.example.test", &verified),
	                 -1);
	/* Right name, not from a trusted CA. */
	assert_int_equal(sts_run(&k, k.other, k.other_key, "enforce", "mx.example.test", &verified),
	                 -1);
	/* testing: the same failure only logged. */
	assert_int_equal(sts_run(&k, k.other, k.other_key, "testing", "mx.example.test", &verified),
	                 0);
	assert_false(verified);
	pki_free(&k);
}

/* ---- the asynchronous lookup, on a zone file (insecure answers) ---- */

struct lookup_result {
	struct event_base *base;
	struct tls_decision *d;
	int calls;
};

static void decided(struct tls_decision *d, void *arg)
{
	struct lookup_result *r = arg;

	r->calls++;
	tls_decision_free(&r->d);
	r->d = d;
	event_base_loopbreak(r->base);
}

static void test_lookup_async(void **state)
{
	char zone[] = "/tmp/tern-test-tlsp-XXXXXX";
	int fd = mkstemp(zone);
	const char *text = "_mta-sts.sts.test TXT \"v=STSv1; id=1;\"\n"
	                   "_25._tcp.mx.dane.test TLSA 3 1 1 "
	                   "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n";
	struct dns_resolver_settings ds = {.zone_file = zone, .timeout_msecs = 2000};
	static const char *const resolve[] = {"mta-sts.sts.test:1:127.0.0.1"};
	struct tls_policy_settings ts = {.dane = true, .mta_sts = true};
	struct lookup_result r = {.base = event_base_new()};
	struct dns_resolver *resolver = NULL;
	struct workpool *pool;
	struct tls_policy *tp = NULL;
	struct tls_policy_query *q;
	char *error = NULL;
	const char *serror;
	struct timeval limit = {10, 0};

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(dns_resolver_new(r.base, &ds, &resolver, &error), 0);
	pool = workpool_new(r.base, 1);
	ts.sts.resolve = resolve;
	ts.sts.resolve_count = 1;
	ts.sts.port = 1; /* the fetch fails at once: no policy, no cache */
	assert_int_equal(tls_policy_new(r.base, resolver, pool, &ts, &tp, &serror), 0);

	/* Zone-file answers are insecure: a TLSA record there is not DANE,
	   even with mx_secure; the MTA-STS TXT record without a policy
	   gives opportunistic. Never a call back from inside the lookup. */
	q = tls_policy_lookup(tp, "dane.test", "mx.dane.test", true, decided, &r);
	assert_non_null(q);
	assert_int_equal(r.calls, 0);
	event_base_loopexit(r.base, &limit);
	event_base_dispatch(r.base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.d->mode, TLS_POLICY_OPPORTUNISTIC);
	q = tls_policy_lookup(tp, "sts.test", "mx.sts.test", false, decided, &r);
	event_base_loopexit(r.base, &limit);
	event_base_dispatch(r.base);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.d->mode, TLS_POLICY_OPPORTUNISTIC);
	assert_string_equal(r.d->domain, "sts.test");

	/* Cancelled, and pending at free: no callbacks, nothing leaks. */
	q = tls_policy_lookup(tp, "sts.test", "mx.sts.test", false, decided, &r);
	tls_policy_query_cancel(&q);
	assert_null(q);
	q = tls_policy_lookup(tp, "dane.test", "mx.dane.test", true, decided, &r);
	tls_policy_free(&tp);
	assert_null(tp);
	workpool_free(&pool);
	dns_resolver_free(&resolver);
	assert_int_equal(r.calls, 2);
	tls_decision_free(&r.d);
	event_base_free(r.base);
	unlink(zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decisions),     cmocka_unit_test(test_check_without_tls),
	    cmocka_unit_test(test_dane_ee),       cmocka_unit_test(test_dane_ta),
	    cmocka_unit_test(test_mta_sts_names), cmocka_unit_test(test_lookup_async),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
