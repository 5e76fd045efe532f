#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/xalloc.h"

/* TLS 1.2 suites: forward secrecy and AEAD only (RFC 9325 section 4.2).
   TLS 1.3 suites are OpenSSL's defaults, which are all fine. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL"

bool tls_needed(const struct tern_settings *settings)
{
	for (size_t i = 0; i < settings->listener_count; i++) {
		if (settings->listeners[i].tls != TLS_MODE_NONE)
			return true;
	}
	return false;
}

const char *tls_last_error(void)
{
	static char text[256];
	unsigned long e = ERR_get_error();
	unsigned long next;

	if (e == 0)
		return "unknown error";
	/* The first queued error is the root cause; drop the rest. */
	while ((next = ERR_get_error()) != 0)
		;
	ERR_error_string_n(e, text, sizeof(text));
	return text;
}

/* A readable file, or a clear error naming the setting. */
static int check_readable(const char *key, const char *path, char **error_r)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		*error_r = xasprintf("%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

static void set_policy(SSL_CTX *ctx, int min_version)
{
	SSL_CTX_set_min_proto_version(ctx, min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Keep idle TLS sessions small: buffers are freed between records. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tern", 4);
}

static int load_key(SSL_CTX *ctx, const struct tern_settings *settings, char **error_r)
{
	unsigned long err;

	ERR_clear_error();
	if (SSL_CTX_use_PrivateKey_file(ctx, settings->tls.key, SSL_FILETYPE_PEM) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1)
		return 0;
	err = ERR_peek_last_error();
	if (err == 0 || ERR_GET_REASON(err) == X509_R_KEY_VALUES_MISMATCH) {
		ERR_clear_error();
		*error_r = xasprintf("tls.key %s does not match tls.cert %s", settings->tls.key,
		                     settings->tls.cert);
	} else {
		*error_r = xasprintf("tls.key %s: %s", settings->tls.key, tls_last_error());
	}
	return -1;
}

static int load_keys(SSL_CTX *ctx, const struct tern_settings *settings, char **error_r)
{
	if (check_readable("tls.cert", settings->tls.cert, error_r) < 0 ||
	    check_readable("tls.key", settings->tls.key, error_r) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, settings->tls.cert) != 1) {
		*error_r = xasprintf("tls.cert %s: %s", settings->tls.cert, tls_last_error());
		return -1;
	}
	return load_key(ctx, settings, error_r);
}

int tls_server_ctx_new(const struct tern_settings *settings, SSL_CTX **ctx_r, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		*error_r = xasprintf("TLS context: %s", tls_last_error());
		return -1;
	}
	set_policy(ctx, settings->tls.min_version);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		*error_r = xasprintf("TLS ciphers: %s", tls_last_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	if (load_keys(ctx, settings, error_r) < 0) {
		SSL_CTX_free(ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

int tls_client_ctx_new(const char *ca_file, SSL_CTX **ctx_r, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (ctx == NULL) {
		*error_r = xasprintf("tls client context: %s", tls_last_error());
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		*error_r = xasprintf("tls client context: DANE: %s", tls_last_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
	                     : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		*error_r = xasprintf("tls ca %s: %s", ca_file != NULL ? ca_file : "(default)",
		                     tls_last_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

/* RFC 7672 3.1.3: only DANE-TA(2) and DANE-EE(3) are used for SMTP;
   selectors 0-1 and matching types 0-2 are the ones RFC 6698 defines. */
static bool tls_tlsa_usable(const struct tls_tlsa *r)
{
	return (r->usage == 2 || r->usage == 3) && r->selector <= 1 && r->matching <= 2 &&
	       r->len > 0;
}

int tls_dane_prepare(SSL *ssl, const char *base_name, const char *const *names, size_t count,
                     const struct tls_tlsa *records, size_t record_count, const char **error_r)
{
	int added = 0;

	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	/* RFC 7672 3.2.3: a wildcard is only a whole leftmost label. */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_dane_enable(ssl, base_name) <= 0) {
		*error_r = "DANE cannot be enabled on this connection";
		ERR_clear_error();
		return -1;
	}
	/* RFC 7672 3.1.1: DANE-EE(3) matches ignore names (and dates, which
	   OpenSSL already ignores for DANE-EE). */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < count; i++) {
		if (SSL_add1_host(ssl, names[i]) != 1) {
			*error_r = "DANE reference name refused";
			ERR_clear_error();
			return -1;
		}
	}
	for (size_t i = 0; i < record_count; i++) {
		const struct tls_tlsa *r = &records[i];

		if (!tls_tlsa_usable(r))
			continue;
		/* 0: OpenSSL finds the record unusable (a digest of the wrong
		   length, a key that does not parse): skip it, as RFC 6698
		   4.1 does with records it cannot use. */
		if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->matching, r->data, r->len) > 0)
			added++;
		ERR_clear_error();
	}
	if (added == 0) {
		*error_r = "no usable TLSA record";
		return -1;
	}
	return added;
}

int tls_dane_result(SSL *ssl, int *usage_r, const char **error_r)
{
	uint8_t usage, selector, matching;
	long verify = SSL_get_verify_result(ssl);
	X509 *peer = SSL_get0_peer_certificate(ssl);

	if (peer == NULL) {
		*error_r = "no server certificate";
		return -1;
	}
	if (verify != X509_V_OK) {
		*error_r = X509_verify_cert_error_string(verify);
		return -1;
	}
	if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &matching, NULL, NULL) < 0) {
		*error_r = "no TLSA record matched";
		return -1;
	}
	if (usage_r != NULL)
		*usage_r = usage;
	return 0;
}

int tls_verify_names_prepare(SSL *ssl, X509_STORE *store, const char *const *names, size_t count,
                             const char **error_r)
{
	if (count == 0) {
		*error_r = "no name to verify";
		return -1;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (store != NULL && SSL_set1_verify_cert_store(ssl, store) != 1) {
		*error_r = "the CA store cannot be set";
		ERR_clear_error();
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		int ok = i == 0 ? SSL_set1_host(ssl, names[i]) : SSL_add1_host(ssl, names[i]);

		if (ok != 1) {
			*error_r = "a name to verify was refused";
			ERR_clear_error();
			return -1;
		}
	}
	return 0;
}

int tls_verify_result(SSL *ssl, const char **error_r)
{
	long verify = SSL_get_verify_result(ssl);

	if (SSL_get0_peer_certificate(ssl) == NULL) {
		*error_r = "no server certificate";
		return -1;
	}
	if (verify != X509_V_OK) {
		*error_r = X509_verify_cert_error_string(verify);
		return -1;
	}
	return 0;
}

void tls_ctx_free(SSL_CTX **ctx)
{
	if (*ctx == NULL)
		return;
	SSL_CTX_free(*ctx);
	*ctx = NULL;
}
