/* Unit tests for src/auth/sasl-cbind.c on a real TLS pair in memory: the
   server's tls-exporter data equals what OpenSSL exports on the client side
   with RFC 9266's label, and tls-server-end-point is the SHA-256 of the
   certificate (RFC 5929 for a SHA-256 signature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth/sasl-cbind.h"

struct pair {
	SSL_CTX *sctx, *cctx;
	SSL *server, *client;
	X509 *cert;
};

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* A handshake between two SSLs over a BIO pair, at most 100 rounds. */
static void pair_open(struct pair *p, int version)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	BIO *sb, *cb;
	int sdone = 0, cdone = 0;

	assert_non_null(key);
	p->cert = self_signed(key);
	p->sctx = SSL_CTX_new(TLS_server_method());
	p->cctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(p->sctx, p->cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, key), 1);
	SSL_CTX_set_min_proto_version(p->sctx, version);
	SSL_CTX_set_max_proto_version(p->sctx, version);
	p->server = SSL_new(p->sctx);
	p->client = SSL_new(p->cctx);
	assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(p->server, sb, sb);
	SSL_set_bio(p->client, cb, cb);
	SSL_set_accept_state(p->server);
	SSL_set_connect_state(p->client);
	for (int i = 0; i < 100 && !(sdone && cdone); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(p->client) == 1;
		if (!sdone)
			sdone = SSL_do_handshake(p->server) == 1;
	}
	assert_true(sdone && cdone);
	EVP_PKEY_free(key);
}

static void pair_close(struct pair *p)
{
	SSL_free(p->server);
	SSL_free(p->client);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	X509_free(p->cert);
}

static void cert_sha256(X509 *cert, unsigned char *out)
{
	unsigned int len = 32;

	assert_int_equal(X509_digest(cert, EVP_sha256(), out, &len), 1);
	assert_int_equal(len, 32);
}

static void test_tls13_exporter(void **state)
{
	struct pair p;
	struct sasl_channel_binding cb;
	unsigned char want[32], hash[32];

	pair_open(&p, TLS1_3_VERSION);
	sasl_channel_binding_from_ssl(p.server, &cb);
	assert_true(cb.tls);
	assert_true(cb.has_exporter);
	/* the client's view, computed by OpenSSL directly */
	assert_int_equal(SSL_export_keying_material(p.client, want, 32, "EXPORTER-Channel-Binding",
	                                            24, NULL, 0, 0),
	                 1);
	assert_memory_equal(cb.exporter, want, 32);
	/* and it is not the export of another label */
	assert_int_equal(
	    SSL_export_keying_material(p.client, want, 32, "EXPORTER-Other", 14, NULL, 0, 0), 1);
	assert_memory_not_equal(cb.exporter, want, 32);
	cert_sha256(p.cert, hash);
	assert_int_equal(cb.end_point_len, 32);
	assert_memory_equal(cb.end_point, hash, 32);
	assert_true(sasl_channel_binding_usable(&cb));
	pair_close(&p);
}

static void test_tls12_end_point_only(void **state)
{
	struct pair p;
	struct sasl_channel_binding cb;
	unsigned char hash[32];

	pair_open(&p, TLS1_2_VERSION);
	sasl_channel_binding_from_ssl(p.server, &cb);
	assert_true(cb.tls);
	assert_false(cb.has_exporter);
	cert_sha256(p.cert, hash);
	assert_int_equal(cb.end_point_len, 32);
	assert_memory_equal(cb.end_point, hash, 32);
	pair_close(&p);
}

static void test_no_tls(void **state)
{
	struct sasl_channel_binding cb;

	memset(&cb, 0xff, sizeof(cb));
	sasl_channel_binding_from_ssl(NULL, &cb);
	assert_false(cb.tls);
	assert_false(cb.has_exporter);
	assert_int_equal(cb.end_point_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls13_exporter),
	    cmocka_unit_test(test_tls12_end_point_only),
	    cmocka_unit_test(test_no_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
