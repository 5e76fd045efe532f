/* DKIM-Signature fields and key records (RFC 6376 3.5, 3.6.1, 6.1.1). */

#include "mailauth/dkim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-private.h"
#include "mailauth/tag-list.h"

const char *dkim_result_name(enum dkim_result result)
{
	static const char *const names[] = {
	    [DKIM_RESULT_NONE] = "none",           [DKIM_RESULT_PASS] = "pass",
	    [DKIM_RESULT_FAIL] = "fail",           [DKIM_RESULT_POLICY] = "policy",
	    [DKIM_RESULT_NEUTRAL] = "neutral",     [DKIM_RESULT_TEMPERROR] = "temperror",
	    [DKIM_RESULT_PERMERROR] = "permerror",
	};
	return names[result];
}

const char *dkim_alg_name(enum dkim_alg alg)
{
	switch (alg) {
	case DKIM_ALG_RSA_SHA256:
		return "rsa-sha256";
	case DKIM_ALG_ED25519_SHA256:
		return "ed25519-sha256";
	case DKIM_ALG_RSA_SHA1:
		break;
	}
	return "rsa-sha1";
}

int dkim_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *len_r)
{
	uint32_t acc = 0;
	size_t bits = 0, n = 0, pad = 0, chars = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		chars++;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = base64_value(c)) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (chars % 4 != 0 || pad > 2 || (pad > 0 && bits / 2 != pad))
		return -1;
	*len_r = n;
	return 0;
}

/* A base64 tag value into out; -1 when invalid or longer than cap. */
static int tag_base64(const struct tag *tag, uint8_t *out, size_t cap, size_t *len_r)
{
	return dkim_base64_decode(tag->value, tag->value_len, out, cap, len_r);
}

bool dkim_name_valid(const char *d)
{
	size_t label = 0;

	if (d == NULL || *d == '\0' || strlen(d) > 253)
		return false;
	for (; *d != '\0'; d++) {
		unsigned char c = (unsigned char)*d;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (c >= 0x80 || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
		           ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

static int parse_uint(const char *s, uint64_t *value_r)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 19)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value_r = v;
	return 0;
}

static int parse_alg(const char *a, enum dkim_alg *alg_r)
{
	if (strcmp(a, "rsa-sha256") == 0)
		*alg_r = DKIM_ALG_RSA_SHA256;
	else if (strcmp(a, "ed25519-sha256") == 0)
		*alg_r = DKIM_ALG_ED25519_SHA256;
	else if (strcmp(a, "rsa-sha1") == 0)
		*alg_r = DKIM_ALG_RSA_SHA1;
	else
		return -1;
	return 0;
}

static int parse_canon(const char *c, struct dkim_signature *sig)
{
	const char *slash = strchr(c, '/');

	sig->header_canon = sig->body_canon = CANON_SIMPLE;
	if (c[0] == '\0')
		return -1;
	if (canon_alg_parse(c, slash == NULL ? strlen(c) : (size_t)(slash - c),
	                    &sig->header_canon) < 0)
		return -1;
	return slash == NULL ? 0 : canon_alg_parse(slash + 1, strlen(slash + 1), &sig->body_canon);
}

/* h=: colon-separated names, whitespace allowed around them. */
static int parse_headers(const char *h, struct dkim_signature *sig)
{
	bool from = false;
	struct buf b = BUF_INIT;
	char *save, *name;

	tag_value_compact(h, strlen(h), &b);
	for (name = strtok_r(b.data, ":", &save); name != NULL; name = strtok_r(NULL, ":", &save)) {
		if (sig->headers.count == DKIM_MAX_SIGNED_HEADERS)
			break;
		array_append(&sig->headers, xstrdup(name));
		from = from || strcasecmp(name, "from") == 0;
	}
	buf_free(&b);
	return from ? 0 : -1;
}

static bool identity_in_domain(const char *identity, const char *domain)
{
	const char *at = strrchr(identity, '@');
	size_t il, dl = strlen(domain);

	if (at == NULL)
		return false;
	at++;
	il = strlen(at);
	if (il == dl)
		return strcasecmp(at, domain) == 0;
	return il > dl && at[il - dl - 1] == '.' && strcasecmp(at + il - dl, domain) == 0;
}

static const char *const required_sig_tags[] = {"v", "a", "b", "bh", "d", "h", "s"};

static int sig_required(const struct tag_list *tags, const char **error_r)
{
	for (size_t i = 0; i < sizeof(required_sig_tags) / sizeof(required_sig_tags[0]); i++) {
		if (tag_list_get(tags, required_sig_tags[i]) == NULL) {
			*error_r = "signature lacks a required tag";
			return -1;
		}
	}
	if (strcmp(tag_list_value(tags, "v"), "1") != 0) {
		*error_r = "signature version not 1";
		return -1;
	}
	return 0;
}

static int sig_crypto_tags(const struct tag_list *tags, struct dkim_signature *sig,
                           const char **error_r)
{
	const struct tag *b = tag_list_get(tags, "b");
	const char *c = tag_list_value(tags, "c");
	struct buf compact = BUF_INIT;

	if (parse_alg(tag_list_value(tags, "a"), &sig->alg) < 0) {
		*error_r = "unknown signature algorithm";
		return -1;
	}
	if (c != NULL && parse_canon(c, sig) < 0) {
		*error_r = "unknown canonicalization";
		return -1;
	}
	if (tag_base64(b, sig->sig, sizeof(sig->sig), &sig->sig_len) < 0 || sig->sig_len == 0 ||
	    tag_base64(tag_list_get(tags, "bh"), sig->body_hash, sizeof(sig->body_hash),
	               &sig->body_hash_len) < 0) {
		*error_r = "bad base64 in b= or bh=";
		return -1;
	}
	tag_value_compact(b->value, b->value_len, &compact);
	snprintf(sig->header_b, sizeof(sig->header_b), "%.8s", compact.data);
	buf_free(&compact);
	sig->b_start = b->value_start;
	sig->b_end = b->value_end;
	return 0;
}

static int sig_identity_tags(const struct tag_list *tags, struct dkim_signature *sig,
                             const char **error_r)
{
	const char *i = tag_list_value(tags, "i"), *q = tag_list_value(tags, "q");

	sig->domain = xstrdup(tag_list_value(tags, "d"));
	sig->selector = xstrdup(tag_list_value(tags, "s"));
	if (!dkim_name_valid(sig->domain) || !dkim_name_valid(sig->selector)) {
		*error_r = "bad d= or s=";
		return -1;
	}
	sig->identity = i != NULL ? xstrdup(i) : xasprintf("@%s", sig->domain);
	if (!identity_in_domain(sig->identity, sig->domain)) {
		*error_r = "i= not within d=";
		return -1;
	}
	if (q != NULL && strstr(q, "dns/txt") == NULL) {
		*error_r = "no supported query method in q=";
		return -1;
	}
	if (parse_headers(tag_list_value(tags, "h"), sig) < 0) {
		*error_r = "h= does not include From";
		return -1;
	}
	return 0;
}

static int sig_number_tags(const struct tag_list *tags, struct dkim_signature *sig,
                           const char **error_r)
{
	const char *l = tag_list_value(tags, "l"), *t = tag_list_value(tags, "t"),
	           *x = tag_list_value(tags, "x");

	sig->has_length = l != NULL;
	sig->has_timestamp = t != NULL;
	sig->has_expiry = x != NULL;
	if ((l != NULL && parse_uint(l, &sig->length) < 0) ||
	    (t != NULL && parse_uint(t, &sig->timestamp) < 0) ||
	    (x != NULL && parse_uint(x, &sig->expiry) < 0)) {
		*error_r = "bad number in l=, t= or x=";
		return -1;
	}
	if (t != NULL && x != NULL && sig->expiry < sig->timestamp) {
		*error_r = "x= before t=";
		return -1;
	}
	return 0;
}

/* 3.7: b='s value is emptied "including all surrounding whitespace". */
static void widen_b(const char *value, size_t len, struct dkim_signature *sig)
{
	while (sig->b_start > 0 && value[sig->b_start - 1] != '=')
		sig->b_start--;
	while (sig->b_end < len && value[sig->b_end] != ';')
		sig->b_end++;
}

int dkim_signature_parse(const char *value, size_t len, struct dkim_signature **sig_r,
                         const char **error_r)
{
	struct tag_list tags;
	struct dkim_signature *sig;
	int ret = -1;

	if (tag_list_parse(value, len, &tags, error_r) < 0)
		return -1;
	sig = xcalloc(1, sizeof(*sig));
	if (sig_required(&tags, error_r) == 0 && sig_crypto_tags(&tags, sig, error_r) == 0 &&
	    sig_identity_tags(&tags, sig, error_r) == 0 &&
	    sig_number_tags(&tags, sig, error_r) == 0)
		ret = 0;
	tag_list_free(&tags);
	if (ret < 0)
		dkim_signature_free(&sig);
	else
		widen_b(value, len, sig);
	*sig_r = sig;
	return ret;
}

void dkim_signature_free(struct dkim_signature **sig)
{
	if (*sig == NULL)
		return;
	for (size_t i = 0; i < (*sig)->headers.count; i++)
		free((*sig)->headers.items[i]);
	array_free(&(*sig)->headers);
	free((*sig)->domain);
	free((*sig)->selector);
	free((*sig)->identity);
	free(*sig);
	*sig = NULL;
}

/* True if the colon-separated list has item (whitespace ignored). */
static bool list_has(const char *list, const char *item)
{
	struct buf b = BUF_INIT;
	char *save, *tok;
	bool found = false;

	tag_value_compact(list, strlen(list), &b);
	for (tok = strtok_r(b.data, ":", &save); tok != NULL && !found;
	     tok = strtok_r(NULL, ":", &save))
		found = strcmp(tok, item) == 0;
	buf_free(&b);
	return found;
}

static EVP_PKEY *rsa_pkey_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);

	if (pkey != NULL && p == der + len)
		return pkey;
	EVP_PKEY_free(pkey);
	/* a bare RSAPublicKey (PKCS#1), as some publish it */
	p = der;
	pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	if (pkey != NULL && p == der + len)
		return pkey;
	EVP_PKEY_free(pkey);
	return NULL;
}

static EVP_PKEY *ed25519_pkey_from(const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	EVP_PKEY *pkey;

	if (len == 32)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, data, len);
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey != NULL && p == data + len && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519)
		return pkey;
	EVP_PKEY_free(pkey);
	return NULL;
}

static int key_public(const struct tag *p, struct dkim_key *key, const char **error_r)
{
	uint8_t der[2048];
	size_t len;

	if (p->value_len == 0) {
		key->revoked = true; /* 3.6.1: an empty p= means revoked */
		return 0;
	}
	if (tag_base64(p, der, sizeof(der), &len) < 0) {
		*error_r = "bad base64 in p=";
		return -1;
	}
	if (key->type == DKIM_KEY_RSA) {
		key->pkey = rsa_pkey_from_der(der, len);
		if (key->pkey != NULL && EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA) {
			EVP_PKEY_free(key->pkey);
			key->pkey = NULL;
		}
		if (key->pkey != NULL)
			key->rsa_bits = (unsigned)EVP_PKEY_get_bits(key->pkey);
	} else
		key->pkey = ed25519_pkey_from(der, len);
	if (key->pkey == NULL) {
		*error_r = "p= is not a public key of type k=";
		return -1;
	}
	return 0;
}

static int key_tags(const struct tag_list *tags, struct dkim_key *key, const char **error_r)
{
	const char *v = tag_list_value(tags, "v"), *k = tag_list_value(tags, "k"),
	           *h = tag_list_value(tags, "h"), *s = tag_list_value(tags, "s"),
	           *t = tag_list_value(tags, "t");

	if (v != NULL && (strcmp(v, "DKIM1") != 0 || strcmp(tags->tags.items[0].name, "v") != 0)) {
		*error_r = "key record version not DKIM1";
		return -1;
	}
	if (k == NULL || strcmp(k, "rsa") == 0)
		key->type = DKIM_KEY_RSA;
	else if (strcmp(k, "ed25519") == 0)
		key->type = DKIM_KEY_ED25519;
	else {
		*error_r = "unknown key type";
		return -1;
	}
	key->sha256_allowed = h == NULL || list_has(h, "sha256");
	key->sha1_allowed = h == NULL || list_has(h, "sha1");
	if (s != NULL && !list_has(s, "*") && !list_has(s, "email")) {
		*error_r = "key not for email (s=)";
		return -1;
	}
	key->testing = t != NULL && list_has(t, "y");
	key->strict = t != NULL && list_has(t, "s");
	if (tag_list_get(tags, "p") == NULL) {
		*error_r = "key record lacks p=";
		return -1;
	}
	return key_public(tag_list_get(tags, "p"), key, error_r);
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key **key_r, const char **error_r)
{
	struct tag_list tags;
	struct dkim_key *key;
	int ret;

	*key_r = NULL;
	/* Published records often have ";;" or a leading ";": harmless. */
	if (tag_list_parse_flags(txt, len, TAG_LIST_ALLOW_EMPTY, &tags, error_r) < 0)
		return -1;
	key = xcalloc(1, sizeof(*key));
	ret = tags.tags.count == 0 ? -1 : key_tags(&tags, key, error_r);
	if (tags.tags.count == 0)
		*error_r = "empty key record";
	tag_list_free(&tags);
	if (ret < 0)
		dkim_key_free(&key);
	*key_r = key;
	return ret;
}

void dkim_key_free(struct dkim_key **key)
{
	if (*key == NULL)
		return;
	EVP_PKEY_free((*key)->pkey);
	free(*key);
	*key = NULL;
}

static char *base64_encode(const uint8_t *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *dkim_key_txt_record(EVP_PKEY *pkey)
{
	uint8_t raw[32], *der = NULL;
	size_t raw_len = sizeof(raw);
	char *b64, *txt;
	int der_len;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1)
			return NULL;
		b64 = base64_encode(raw, raw_len);
		txt = xasprintf("v=DKIM1; k=ed25519; p=%s", b64);
	} else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		der_len = i2d_PUBKEY(pkey, &der);
		if (der_len <= 0)
			return NULL;
		b64 = base64_encode(der, (size_t)der_len);
		OPENSSL_free(der);
		txt = xasprintf("v=DKIM1; k=rsa; p=%s", b64);
	} else
		return NULL;
	free(b64);
	return txt;
}
