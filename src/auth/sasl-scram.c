/* SCRAM-SHA-256 and SCRAM-SHA-256-PLUS, the server side (RFC 5802 sections
   3, 5 and 7; RFC 7677). Messages are parsed from the decoded bytes; the
   keys come from the directory (directory/scram-keys.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth/sasl-private.h"
#include "auth/sasl.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"

#define NONCE_MAX        256
#define SERVER_NONCE_RAW 18 /* random bytes; 24 base64 characters */

/* A cursor over the client's message. */
struct cur {
	const char *p, *end;
};

/* The value of attribute name at the cursor ("n=value" up to ',' or the
   end), the cursor moved past the ','. -1 if the attribute is not there. */
static int attr(struct cur *c, char name, const char **v_r, size_t *len_r)
{
	const char *comma;

	if (c->end - c->p < 2 || c->p[0] != name || c->p[1] != '=')
		return -1;
	c->p += 2;
	comma = memchr(c->p, ',', (size_t)(c->end - c->p));
	*v_r = c->p;
	*len_r = (size_t)((comma != NULL ? comma : c->end) - c->p);
	c->p = comma != NULL ? comma + 1 : c->end;
	return 0;
}

/* RFC 5802 section 7 saslname: "=2C" is ',', "=3D" is '=', any other '='
   is an error; non-empty, valid UTF-8, no NUL, at most SASL_FIELD_MAX. */
static char *saslname_decode(const char *v, size_t len)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\0')
			goto bad;
		if (v[i] != '=') {
			buf_append_char(&b, v[i]);
			continue;
		}
		if (len - i < 3)
			goto bad;
		if (v[i + 1] == '2' && v[i + 2] == 'C')
			buf_append_char(&b, ',');
		else if (v[i + 1] == '3' && v[i + 2] == 'D')
			buf_append_char(&b, '=');
		else
			goto bad;
		i += 2;
	}
	if (b.len == 0 || b.len > SASL_FIELD_MAX ||
	    !utf8_valid((const unsigned char *)b.data, b.len))
		goto bad;
	return buf_steal(&b);
bad:
	buf_free(&b);
	return NULL;
}

/* printable except ',' (RFC 5802 section 7). */
static bool nonce_valid(const char *v, size_t len)
{
	if (len == 0 || len > NONCE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x21 || ch > 0x7e || ch == ',')
			return false;
	}
	return true;
}

/* The binding type the client asked for with "p=name", which this
   connection can give; 0 if it cannot. */
static int cb_type(const struct sasl_server *s, const char *v, size_t len)
{
	if (len == 12 && memcmp(v, "tls-exporter", 12) == 0 && s->cb.has_exporter)
		return 1;
	if (len == 20 && memcmp(v, "tls-server-end-point", 20) == 0 && s->cb.end_point_len > 0)
		return 2;
	return 0;
}

/* The gs2 header (RFC 5802 section 7, gs2-header): the binding flag
   checked against the mechanism, the authzid (if any) against the user. */
static int gs2_header(struct sasl_server *s, struct cur *c, char **authzid_r, struct sasl_result *r)
{
	const char *v;
	size_t len;
	bool plus = s->mech == SASL_MECH_SCRAM_SHA_256_PLUS;

	*authzid_r = NULL;
	if (c->end - c->p >= 2 && (c->p[0] == 'n' || c->p[0] == 'y') && c->p[1] == ',') {
		/* "y": the client could bind but thinks we cannot; we can, so
		   something stripped -PLUS from the list (section 6) */
		if (plus || (c->p[0] == 'y' && sasl_channel_binding_usable(&s->cb))) {
			sasl_fail(s, r, SASL_ERR_CHANNEL_BINDING,
			          plus ? "no channel binding with -PLUS"
			               : "channel binding downgrade");
			return -1;
		}
		c->p += 2;
	} else if (attr(c, 'p', &v, &len) == 0) {
		if (!plus || c->p[-1] != ',') {
			sasl_fail(s, r, SASL_ERR_CHANNEL_BINDING, "channel binding without -PLUS");
			return -1;
		}
		s->cb_type = cb_type(s, v, len);
		if (s->cb_type == 0) {
			sasl_fail(s, r, SASL_ERR_CHANNEL_BINDING,
			          "unsupported channel binding type");
			return -1;
		}
	} else {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed gs2 header");
		return -1;
	}
	if (c->p < c->end && *c->p == ',') {
		c->p++;
		return 0;
	}
	if (attr(c, 'a', &v, &len) < 0 || c->p[-1] != ',' ||
	    (*authzid_r = saslname_decode(v, len)) == NULL) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed authzid");
		return -1;
	}
	return 0;
}

void sasl_scram_client_first(struct sasl_server *s, const unsigned char *in, size_t len,
                             struct sasl_result *r)
{
	struct cur c = {(const char *)in, (const char *)in + len};
	const char *v;
	size_t vlen;
	char *authzid;

	if (gs2_header(s, &c, &authzid, r) < 0)
		return;
	buf_append(&s->gs2_header, in, (size_t)(c.p - (const char *)in));
	buf_append(&s->client_first, c.p, (size_t)(c.end - c.p));
	if (c.p < c.end && *c.p == 'm') {
		sasl_secret_free(&authzid);
		sasl_fail(s, r, SASL_ERR_MALFORMED, "unsupported mandatory extension");
		return;
	}
	if (attr(&c, 'n', &v, &vlen) < 0 || (s->user = saslname_decode(v, vlen)) == NULL) {
		sasl_secret_free(&authzid);
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed user name");
		return;
	}
	if (authzid != NULL && strcmp(authzid, s->user) != 0) {
		sasl_secret_free(&authzid);
		sasl_fail(s, r, SASL_ERR_AUTHZ, "authorization identity is not the user");
		return;
	}
	sasl_secret_free(&authzid);
	if (attr(&c, 'r', &v, &vlen) < 0 || !nonce_valid(v, vlen)) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed client nonce");
		return;
	}
	s->nonce = xstrndup(v, vlen);
	s->state = SASL_STATE_SCRAM_KEYS;
	*r = (struct sasl_result){.status = SASL_STATUS_NEED_KEYS, .user = s->user};
}

/* A secret per process, for the salts of users without keys. */
static unsigned char fake_secret[32];
static pthread_once_t fake_once = PTHREAD_ONCE_INIT;

static void fake_secret_init(void)
{
	if (RAND_bytes(fake_secret, sizeof(fake_secret)) != 1)
		abort();
}

/* Keys nobody can match, with a salt that is stable for the user name
   (within the process), as a real user's would be. */
static void fake_keys(const char *user, struct scram_keys *k)
{
	unsigned char mac[SHA256_DIGEST_LENGTH];
	unsigned int mlen = sizeof(mac);

	pthread_once(&fake_once, fake_secret_init);
	HMAC(EVP_sha256(), fake_secret, sizeof(fake_secret), (const unsigned char *)user,
	     strlen(user), mac, &mlen);
	*k =
	    (struct scram_keys){.iterations = SCRAM_ITERATIONS_DEFAULT, .salt_len = SCRAM_SALT_LEN};
	memcpy(k->salt, mac, SCRAM_SALT_LEN);
	if (RAND_bytes(k->stored_key, SCRAM_KEY_LEN) != 1 ||
	    RAND_bytes(k->server_key, SCRAM_KEY_LEN) != 1)
		abort();
}

void sasl_server_keys(struct sasl_server *s, const struct scram_keys *keys, struct sasl_result *r)
{
	char *salt, *snonce;

	if (s->state != SASL_STATE_SCRAM_KEYS) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "no key lookup pending");
		return;
	}
	s->have_keys = keys != NULL;
	if (keys != NULL)
		s->keys = *keys;
	else
		fake_keys(s->user, &s->keys);
	if (s->fixed_nonce != NULL) {
		snonce = xstrdup(s->fixed_nonce);
	} else {
		unsigned char raw[SERVER_NONCE_RAW];

		if (RAND_bytes(raw, sizeof(raw)) != 1)
			abort();
		snonce = sasl_base64_encode(raw, sizeof(raw));
	}
	salt = sasl_base64_encode(s->keys.salt, s->keys.salt_len);
	{
		char *full = xasprintf("%s%s", s->nonce, snonce);

		free(s->nonce);
		s->nonce = full;
	}
	buf_printf(&s->server_first, "r=%s,s=%s,i=%u", s->nonce, salt, s->keys.iterations);
	free(salt);
	free(snonce);
	s->state = SASL_STATE_SCRAM_FINAL;
	sasl_challenge(s, r, s->server_first.data, s->server_first.len);
}

/* The expected "c=" value: base64 of the gs2 header and, for "p=", the
   binding data. */
static char *expected_cbind(const struct sasl_server *s)
{
	struct buf in = BUF_INIT;
	char *out;

	buf_append(&in, s->gs2_header.data, s->gs2_header.len);
	if (s->cb_type == 1)
		buf_append(&in, s->cb.exporter, SASL_CB_EXPORTER_LEN);
	else if (s->cb_type == 2)
		buf_append(&in, s->cb.end_point, s->cb.end_point_len);
	out = sasl_base64_encode(in.data, in.len);
	buf_free(&in);
	return out;
}

/* Split client-final-message into its part without the proof and the
   proof's base64; -1 if there is no final ",p=". */
static int split_proof(const char *msg, size_t len, size_t *without_r, const char **proof_r,
                       size_t *proof_len_r)
{
	for (size_t i = len; i >= 3; i--) {
		if (memcmp(msg + i - 3, ",p=", 3) == 0) {
			*without_r = i - 3;
			*proof_r = msg + i;
			*proof_len_r = len - i;
			return memchr(*proof_r, ',', *proof_len_r) == NULL ? 0 : -1;
		}
	}
	return -1;
}

/* Check the channel binding and the nonce of client-final-without-proof. */
static int check_final_attrs(struct sasl_server *s, const char *msg, size_t len,
                             struct sasl_result *r)
{
	struct cur c = {msg, msg + len};
	const char *v;
	size_t vlen;
	char *want;
	bool same;

	if (attr(&c, 'c', &v, &vlen) < 0) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed client-final message");
		return -1;
	}
	want = expected_cbind(s);
	same = strlen(want) == vlen && memcmp(want, v, vlen) == 0;
	free(want);
	if (!same) {
		sasl_fail(s, r, SASL_ERR_CHANNEL_BINDING, "channel binding data differs");
		return -1;
	}
	if (attr(&c, 'r', &v, &vlen) < 0 || strlen(s->nonce) != vlen ||
	    memcmp(s->nonce, v, vlen) != 0) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "nonce differs");
		return -1;
	}
	return 0;
}

/* RFC 5802 section 3: recover ClientKey from the proof and compare its
   hash with StoredKey; on success sign for server-final. */
static bool proof_valid(struct sasl_server *s, const unsigned char *proof,
                        unsigned char server_sig[SCRAM_KEY_LEN])
{
	unsigned char client_sig[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	unsigned char stored[SCRAM_KEY_LEN];
	unsigned int mlen = SCRAM_KEY_LEN;
	const unsigned char *am = (const unsigned char *)s->auth_message.data;
	size_t amlen = s->auth_message.len;
	bool ok;

	HMAC(EVP_sha256(), s->keys.stored_key, SCRAM_KEY_LEN, am, amlen, client_sig, &mlen);
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		client_key[i] = proof[i] ^ client_sig[i];
	SHA256(client_key, SCRAM_KEY_LEN, stored);
	ok = CRYPTO_memcmp(stored, s->keys.stored_key, SCRAM_KEY_LEN) == 0 && s->have_keys;
	HMAC(EVP_sha256(), s->keys.server_key, SCRAM_KEY_LEN, am, amlen, server_sig, &mlen);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return ok;
}

void sasl_scram_client_final(struct sasl_server *s, const unsigned char *in, size_t len,
                             struct sasl_result *r)
{
	const char *msg = (const char *)in, *p64, *error;
	size_t without, plen, proof_len = 0;
	unsigned char *proof = NULL, server_sig[SCRAM_KEY_LEN];
	char *sig64;

	if (memchr(in, '\0', len) != NULL || split_proof(msg, len, &without, &p64, &plen) < 0) {
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed client-final message");
		return;
	}
	if (check_final_attrs(s, msg, without, r) < 0)
		return;
	if (sasl_base64_decode(p64, plen, SCRAM_KEY_LEN, &proof, &proof_len, &error) < 0 ||
	    proof_len != SCRAM_KEY_LEN) {
		sasl_bytes_free(&proof, proof_len);
		sasl_fail(s, r, SASL_ERR_MALFORMED, "malformed proof");
		return;
	}
	buf_printf(&s->auth_message, "%s,%s,", buf_cstr(&s->client_first),
	           buf_cstr(&s->server_first));
	buf_append(&s->auth_message, msg, without);
	if (!proof_valid(s, proof, server_sig)) {
		sasl_bytes_free(&proof, proof_len);
		sasl_fail(s, r, SASL_ERR_CREDENTIALS,
		          s->have_keys ? "wrong proof" : "no SCRAM keys for the user");
		return;
	}
	sasl_bytes_free(&proof, proof_len);
	sig64 = sasl_base64_encode(server_sig, SCRAM_KEY_LEN);
	s->server_final = xasprintf("v=%s", sig64);
	free(sig64);
	s->state = SASL_STATE_SCRAM_OUTCOME;
	sasl_challenge(s, r, s->server_final, strlen(s->server_final));
}

static void buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

void sasl_scram_clear(struct sasl_server *s)
{
	buf_wipe(&s->gs2_header);
	buf_wipe(&s->client_first);
	buf_wipe(&s->server_first);
	buf_wipe(&s->auth_message);
	free(s->nonce);
	free(s->fixed_nonce);
	free(s->server_final);
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
}
