/* Unit tests for src/auth/sasl-server.c and sasl-scram.c: the RFC 7677
   SCRAM-SHA-256 test vector byte for byte, a SCRAM client written here
   (OpenSSL HMAC) for the -PLUS and failure cases, gs2 header cases, every
   prefix of valid messages, PLAIN and LOGIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth/sasl-server.h"
#include "auth/sasl.h"
#include "directory/scram-keys.h"

/* RFC 7677 section 3 */
#define V_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SERVER_FIRST                                                                             \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CLIENT_FINAL                                                                             \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"                             \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void vector_keys(struct scram_keys *k)
{
	unsigned char *salt;
	size_t len;
	const char *error;

	assert_int_equal(
	    sasl_base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, 64, &salt, &len, &error), 0);
	assert_int_equal(scram_keys_derive("pencil", 6, salt, len, 4096, k, &error), 0);
	sasl_bytes_free(&salt, len);
}

static void step_str(struct sasl_server *s, const char *msg, struct sasl_result *r)
{
	sasl_server_step(s, (const unsigned char *)msg, strlen(msg), r);
}

static void assert_challenge(const struct sasl_result *r, const char *want)
{
	assert_int_equal(r->status, SASL_STATUS_CHALLENGE);
	assert_int_equal(r->len, strlen(want));
	assert_memory_equal(r->data, want, r->len);
}

static void assert_failed(const struct sasl_result *r, enum sasl_error error)
{
	assert_int_equal(r->status, SASL_STATUS_FAILED);
	assert_int_equal(r->error, error);
	assert_non_null(r->reason);
}

static void test_scram_rfc7677_vector(void **state)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, NULL);
	struct scram_keys k;
	struct sasl_result r;

	vector_keys(&k);
	sasl_server_set_nonce(s, V_SNONCE);
	step_str(s, V_CLIENT_FIRST, &r);
	assert_int_equal(r.status, SASL_STATUS_NEED_KEYS);
	assert_string_equal(r.user, "user");
	sasl_server_keys(s, &k, &r);
	assert_challenge(&r, V_SERVER_FIRST);
	step_str(s, V_CLIENT_FINAL, &r);
	assert_challenge(&r, V_SERVER_FINAL);
	sasl_server_step(s, NULL, 0, &r);
	assert_int_equal(r.status, SASL_STATUS_DONE);
	assert_string_equal(r.user, "user");
	/* nothing more is accepted */
	sasl_server_step(s, NULL, 0, &r);
	assert_failed(&r, SASL_ERR_MALFORMED);
	sasl_server_free(&s);
	assert_null(s);
	sasl_server_free(NULL);
}

/* The text form round-trips the vector's keys. */
static void test_scram_keys_text(void **state)
{
	struct scram_keys k, back;
	const char *error;
	char *text;

	vector_keys(&k);
	text = scram_keys_format(&k);
	assert_string_equal(strtok(strdup(text), ":"), "SCRAM-SHA-256$4096");
	assert_int_equal(scram_keys_parse(text, &back, &error), 0);
	assert_memory_equal(&k, &back, sizeof(k));
	free(text);
	assert_int_equal(scram_keys_parse("SCRAM-SHA-256$4096:abc$x:y", &back, &error), -1);
	assert_int_equal(
	    scram_keys_parse("SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$a:b", &back, &error), -1);
	assert_int_equal(
	    scram_keys_parse("SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$a:b", &back, &error), -1);
}

/* --- a SCRAM client, for cases the vector does not cover --- */

struct client {
	const char *password;
	char gs2[128];
	char first_bare[256];
	char server_first[512];
	unsigned char cbdata[64];
	size_t cblen;
};

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char *out)
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* The client-final message for the server-first in c (tamper: flip a proof
   bit; cbind_override: a "c=" value to send instead of the right one). */
static char *client_final(struct client *c, bool tamper, const char *cbind_override)
{
	char nonce[256], salt64[128], without[512], auth_message[1400];
	unsigned char *salt, salted[32], ckey[32], skey[32], csig[32], proof[32], cbin[200];
	unsigned iter;
	size_t slen;
	const char *error;
	char *cb64, *p64, *out;

	assert_int_equal(
	    sscanf(c->server_first, "r=%255[^,],s=%127[^,],i=%u", nonce, salt64, &iter), 3);
	assert_int_equal(sasl_base64_decode(salt64, strlen(salt64), 64, &salt, &slen, &error), 0);
	PKCS5_PBKDF2_HMAC(c->password, (int)strlen(c->password), salt, (int)slen, (int)iter,
	                  EVP_sha256(), 32, salted);
	sasl_bytes_free(&salt, slen);
	memcpy(cbin, c->gs2, strlen(c->gs2));
	memcpy(cbin + strlen(c->gs2), c->cbdata, c->cblen);
	cb64 = sasl_base64_encode(cbin, strlen(c->gs2) + c->cblen);
	snprintf(without, sizeof(without), "c=%s,r=%s",
	         cbind_override != NULL ? cbind_override : cb64, nonce);
	free(cb64);
	snprintf(auth_message, sizeof(auth_message), "%s,%s,%s", c->first_bare, c->server_first,
	         without);
	hmac(salted, 32, "Client Key", ckey);
	SHA256(ckey, 32, skey);
	hmac(skey, 32, auth_message, csig);
	for (int i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ csig[i];
	if (tamper)
		proof[5] ^= 1;
	p64 = sasl_base64_encode(proof, 32);
	out = malloc(strlen(without) + strlen(p64) + 4);
	sprintf(out, "%s,p=%s", without, p64);
	free(p64);
	return out;
}

static char last_user[300];

/* Run an exchange of mech with cb: client-first is gs2 + bare; keys of
   "pencil" (or none); returns the final status of the server. */
static enum sasl_status run_scram(enum sasl_mech mech, const struct sasl_channel_binding *cb,
                                  const char *gs2, const char *bare, bool with_keys,
                                  const char *password, const unsigned char *cbdata, size_t cblen,
                                  struct sasl_result *r)
{
	struct sasl_server *s = sasl_server_new(mech, cb);
	struct client c = {.password = password, .cblen = cblen};
	struct scram_keys k;
	char first[400];
	char *final;

	if (cblen > 0)
		memcpy(c.cbdata, cbdata, cblen);
	snprintf(c.gs2, sizeof(c.gs2), "%s", gs2);
	snprintf(c.first_bare, sizeof(c.first_bare), "%s", bare);
	snprintf(first, sizeof(first), "%s%s", gs2, bare);
	vector_keys(&k);
	step_str(s, first, r);
	if (r->status != SASL_STATUS_NEED_KEYS)
		goto out;
	sasl_server_keys(s, with_keys ? &k : NULL, r);
	assert_int_equal(r->status, SASL_STATUS_CHALLENGE);
	assert_true(r->len < sizeof(c.server_first));
	memcpy(c.server_first, r->data, r->len);
	c.server_first[r->len] = '\0';
	final = client_final(&c, false, NULL);
	step_str(s, final, r);
	free(final);
	if (r->status != SASL_STATUS_CHALLENGE)
		goto out;
	assert_true(r->len > 2 && memcmp(r->data, "v=", 2) == 0);
	sasl_server_step(s, NULL, 0, r);
out:
	snprintf(last_user, sizeof(last_user), "%s", r->user != NULL ? r->user : "");
	sasl_server_free(&s);
	r->user = last_user;
	r->data = NULL;
	return r->status;
}

static const struct sasl_channel_binding tls13 = {
    .tls = true,
    .has_exporter = true,
    .exporter = "0123456789abcdef0123456789abcdef",
    .end_point_len = 32,
    .end_point = "ENDPOINTENDPOINTENDPOINTENDPOINT",
};

static void test_scram_gs2_headers(void **state)
{
	struct sasl_result r;
	const char *bare = "n=user,r=clientnonce";

	/* n,, and y,, without TLS: fine */
	assert_int_equal(
	    run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,,", bare, true, "pencil", NULL, 0, &r),
	    SASL_STATUS_DONE);
	assert_int_equal(
	    run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "y,,", bare, true, "pencil", NULL, 0, &r),
	    SASL_STATUS_DONE);
	/* y,, where -PLUS was possible: a downgrade (RFC 5802 section 6) */
	run_scram(SASL_MECH_SCRAM_SHA_256, &tls13, "y,,", bare, true, "pencil", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	/* n,, over TLS without -PLUS is the client's choice */
	assert_int_equal(
	    run_scram(SASL_MECH_SCRAM_SHA_256, &tls13, "n,,", bare, true, "pencil", NULL, 0, &r),
	    SASL_STATUS_DONE);
	/* p= is only for -PLUS, and -PLUS needs p= */
	run_scram(SASL_MECH_SCRAM_SHA_256, &tls13, "p=tls-exporter,,", bare, true, "pencil", NULL,
	          0, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "n,,", bare, true, "pencil", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "y,,", bare, true, "pencil", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "p=tls-unique,,", bare, true, "pencil",
	          NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	/* a=authzid: the user itself is fine, another user is not */
	assert_int_equal(run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,a=user,", bare, true, "pencil",
	                           NULL, 0, &r),
	                 SASL_STATUS_DONE);
	run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,a=admin,", bare, true, "pencil", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_AUTHZ);
	/* malformed headers */
	static const char *const bad[] = {"x,,",   "n,",  "n",    "",          "n,b=x,",
	                                  "n,a=,", "p,,", "p=,,", "n,a=us=er,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_scram(SASL_MECH_SCRAM_SHA_256, NULL, bad[i], bare, true, "pencil", NULL, 0, &r);
		assert_int_equal(r.status, SASL_STATUS_FAILED);
	}
}

static void test_scram_plus(void **state)
{
	struct sasl_result r;
	const char *bare = "n=user,r=clientnonce";
	struct sasl_channel_binding tls12 = tls13;

	assert_int_equal(run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "p=tls-exporter,,", bare,
	                           true, "pencil", tls13.exporter, 32, &r),
	                 SASL_STATUS_DONE);
	assert_int_equal(run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "p=tls-server-end-point,,",
	                           bare, true, "pencil", tls13.end_point, 32, &r),
	                 SASL_STATUS_DONE);
	/* other binding data: another TLS connection (a man in the middle) */
	run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls13, "p=tls-exporter,,", bare, true, "pencil",
	          tls13.end_point, 32, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	/* TLS 1.2: no tls-exporter */
	tls12.has_exporter = false;
	run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls12, "p=tls-exporter,,", bare, true, "pencil",
	          tls13.exporter, 32, &r);
	assert_failed(&r, SASL_ERR_CHANNEL_BINDING);
	assert_int_equal(run_scram(SASL_MECH_SCRAM_SHA_256_PLUS, &tls12, "p=tls-server-end-point,,",
	                           bare, true, "pencil", tls13.end_point, 32, &r),
	                 SASL_STATUS_DONE);
	assert_true(sasl_channel_binding_usable(&tls12));
	assert_false(sasl_channel_binding_usable(NULL));
	assert_false(sasl_channel_binding_usable(&(struct sasl_channel_binding){.tls = true}));
}

static void test_scram_failures(void **state)
{
	struct sasl_result r;
	const char *bare = "n=user,r=clientnonce";

	run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,,", bare, true, "pen", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CREDENTIALS);
	/* no keys: the same path and the same failure as a wrong password */
	run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,,", bare, false, "pencil", NULL, 0, &r);
	assert_failed(&r, SASL_ERR_CREDENTIALS);
	/* malformed bare messages */
	static const char *const bad[] = {"m=ext,n=user,r=x", "n=user",    "r=x,n=user",
	                                  "n=,r=x",           "n=user,r=", "n=user,r=a b",
	                                  "n=u=2Xser,r=x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,,", bad[i], true, "pencil", NULL, 0,
		          &r);
		assert_failed(&r, SASL_ERR_MALFORMED);
	}
	/* saslname escapes, and extensions after the nonce are ignored */
	assert_int_equal(run_scram(SASL_MECH_SCRAM_SHA_256, NULL, "n,,", "n=a=2Cb=3Dc,r=x,x=ext",
	                           true, "pencil", NULL, 0, &r),
	                 SASL_STATUS_DONE);
	assert_string_equal(r.user, "a,b=c");
}

/* Without keys the salt offered for a name is stable, so a probe cannot
   tell a missing user by a changing salt. */
static void test_scram_fake_salt_stable(void **state)
{
	char first[2][200];

	for (int i = 0; i < 2; i++) {
		struct sasl_server *s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, NULL);
		struct sasl_result r;

		sasl_server_set_nonce(s, "S");
		step_str(s, "n,,n=nobody,r=c", &r);
		sasl_server_keys(s, NULL, &r);
		assert_int_equal(r.status, SASL_STATUS_CHALLENGE);
		snprintf(first[i], sizeof(first[i]), "%.*s", (int)r.len, (const char *)r.data);
		sasl_server_free(&s);
	}
	assert_string_equal(first[0], first[1]);
	assert_non_null(strstr(first[0], ",i=4096"));
}

static void test_scram_final_errors(void **state)
{
	static const char *const finals[] = {
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=short",
	    "c=biws,r=OTHER,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	};
	static const enum sasl_error kinds[] = {
	    SASL_ERR_MALFORMED,       SASL_ERR_MALFORMED, SASL_ERR_MALFORMED,   SASL_ERR_MALFORMED,
	    SASL_ERR_CHANNEL_BINDING, SASL_ERR_MALFORMED, SASL_ERR_CREDENTIALS,
	};
	struct scram_keys k;

	vector_keys(&k);
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
		struct sasl_server *s = sasl_server_new(SASL_MECH_SCRAM_SHA_256, NULL);
		struct sasl_result r;

		sasl_server_set_nonce(s, V_SNONCE);
		step_str(s, V_CLIENT_FIRST, &r);
		sasl_server_keys(s, &k, &r);
		step_str(s, finals[i], &r);
		assert_failed(&r, kinds[i]);
		sasl_server_free(&s);
	}
}

/* Every prefix (and every one-byte change) of the vector's messages is a
   clean failure or the right answer, never a crash. */
static void test_scram_every_prefix(void **state)
{
	static const char *const msgs[2] = {V_CLIENT_FIRST, V_CLIENT_FINAL};
	struct scram_keys k;

	vector_keys(&k);
	for (int m = 0; m < 2; m++) {
		size_t n = strlen(msgs[m]);

		for (size_t cut = 0; cut <= n; cut++) {
			for (int flip = -1; flip < (int)cut; flip += 7) {
				struct sasl_server *s =
				    sasl_server_new(SASL_MECH_SCRAM_SHA_256, NULL);
				unsigned char buf[200];
				struct sasl_result r;

				memcpy(buf, msgs[m], cut);
				if (flip >= 0)
					buf[flip] ^= 0x20;
				sasl_server_set_nonce(s, V_SNONCE);
				if (m == 1) {
					step_str(s, V_CLIENT_FIRST, &r);
					sasl_server_keys(s, &k, &r);
				}
				sasl_server_step(s, buf, cut, &r);
				if (cut == n && flip < 0)
					assert_int_equal(r.status, m == 0 ? SASL_STATUS_NEED_KEYS
					                                  : SASL_STATUS_CHALLENGE);
				else if (r.status != SASL_STATUS_NEED_KEYS)
					assert_int_equal(r.status, SASL_STATUS_FAILED);
				sasl_server_free(&s);
			}
		}
	}
}

static void test_plain(void **state)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN, NULL);
	struct sasl_result r;

	sasl_server_step(s, (const unsigned char *)"\0tim\0secret", 11, &r);
	assert_int_equal(r.status, SASL_STATUS_NEED_PASSWORD);
	assert_string_equal(r.user, "tim");
	assert_string_equal(r.password, "secret");
	sasl_server_password_checked(s, true, &r);
	assert_int_equal(r.status, SASL_STATUS_DONE);
	assert_string_equal(r.user, "tim");
	sasl_server_free(&s);

	/* no initial response: an empty challenge first */
	s = sasl_server_new(SASL_MECH_PLAIN, NULL);
	sasl_server_start(s, &r);
	assert_challenge(&r, "");
	sasl_server_step(s, (const unsigned char *)"tim\0tim\0secret", 14, &r);
	assert_int_equal(r.status, SASL_STATUS_NEED_PASSWORD);
	sasl_server_password_checked(s, false, &r);
	assert_failed(&r, SASL_ERR_CREDENTIALS);
	sasl_server_free(&s);

	s = sasl_server_new(SASL_MECH_PLAIN, NULL);
	sasl_server_step(s, (const unsigned char *)"admin\0tim\0secret", 16, &r);
	assert_failed(&r, SASL_ERR_AUTHZ);
	sasl_server_free(&s);

	s = sasl_server_new(SASL_MECH_PLAIN, NULL);
	sasl_server_step(s, (const unsigned char *)"tim\0secret", 10, &r);
	assert_failed(&r, SASL_ERR_MALFORMED);
	/* out of turn after the end */
	sasl_server_password_checked(s, true, &r);
	assert_failed(&r, SASL_ERR_MALFORMED);
	sasl_server_free(&s);
}

static void test_login(void **state)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_LOGIN, NULL);
	struct sasl_result r;

	sasl_server_start(s, &r);
	assert_challenge(&r, "Username:");
	step_str(s, "tim", &r);
	assert_challenge(&r, "Password:");
	step_str(s, "secret", &r);
	assert_int_equal(r.status, SASL_STATUS_NEED_PASSWORD);
	assert_string_equal(r.user, "tim");
	assert_string_equal(r.password, "secret");
	sasl_server_password_checked(s, true, &r);
	assert_int_equal(r.status, SASL_STATUS_DONE);
	sasl_server_free(&s);

	/* the username as the initial response */
	s = sasl_server_new(SASL_MECH_LOGIN, NULL);
	step_str(s, "tim", &r);
	assert_challenge(&r, "Password:");
	sasl_server_step(s, NULL, 0, &r);
	assert_failed(&r, SASL_ERR_MALFORMED);
	sasl_server_free(&s);
}

static void test_mech_names(void **state)
{
	enum sasl_mech m;

	assert_int_equal(sasl_mech_lookup("scram-sha-256-plus", &m), 0);
	assert_int_equal(m, SASL_MECH_SCRAM_SHA_256_PLUS);
	assert_string_equal(sasl_mech_name(SASL_MECH_SCRAM_SHA_256), "SCRAM-SHA-256");
	assert_int_equal(sasl_mech_lookup("CRAM-MD5", &m), -1);
	assert_true(sasl_mech_is_plaintext(SASL_MECH_LOGIN));
	assert_false(sasl_mech_is_plaintext(SASL_MECH_SCRAM_SHA_256));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scram_rfc7677_vector),
	    cmocka_unit_test(test_scram_keys_text),
	    cmocka_unit_test(test_scram_gs2_headers),
	    cmocka_unit_test(test_scram_plus),
	    cmocka_unit_test(test_scram_failures),
	    cmocka_unit_test(test_scram_fake_salt_stable),
	    cmocka_unit_test(test_scram_final_errors),
	    cmocka_unit_test(test_scram_every_prefix),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_login),
	    cmocka_unit_test(test_mech_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
