/* DKIM verification, RFC 6376 section 6. */

#include "mailauth/dkim-verify.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mailauth/dkim-private.h"

struct sig_state {
	struct dkim_signature *sig; /* NULL when the field did not parse */
	size_t field;               /* index in the header fields */
	struct dkim_verdict verdict;
	bool decided; /* verdict final without a key */
	bool hashing;
	struct dkim_body_hash bh;
	uint8_t body_digest[EVP_MAX_MD_SIZE];
	size_t body_digest_len;
	char *key_name;
	bool key_known;
	struct dkim_key *key;
	enum dkim_result key_result; /* when key is NULL */
	const char *key_reason;
};

struct dkim_verifier {
	time_t now;
	struct dkim_headers headers;
	bool finished, evaluated;
	struct sig_state *sigs;
	size_t count;
	const char *message_error;
};

struct dkim_verifier *dkim_verifier_new(time_t now)
{
	struct dkim_verifier *v = xcalloc(1, sizeof(*v));

	v->now = now;
	return v;
}

static void decide(struct sig_state *s, enum dkim_result result, const char *reason)
{
	s->verdict.result = result;
	s->verdict.reason = reason;
	s->decided = true;
}

static void verdict_from_sig(struct sig_state *s)
{
	const struct dkim_signature *sig = s->sig;

	s->verdict.domain = sig->domain;
	s->verdict.selector = sig->selector;
	s->verdict.identity = sig->identity;
	s->verdict.algorithm = dkim_alg_name(sig->alg);
	memcpy(s->verdict.header_b, sig->header_b, sizeof(s->verdict.header_b));
	s->verdict.length_limited = sig->has_length;
}

/* Checks that need no key and no body (RFC 6376 6.1.1, RFC 8301 3.1). */
static void precheck(struct dkim_verifier *v, struct sig_state *s)
{
	const struct dkim_signature *sig = s->sig;

	if (sig->alg == DKIM_ALG_RSA_SHA1)
		decide(s, DKIM_RESULT_FAIL, "rsa-sha1 forbidden (RFC 8301)");
	else if (sig->has_expiry && (uint64_t)v->now > sig->expiry)
		decide(s, DKIM_RESULT_FAIL, "signature expired");
	if (s->decided)
		return;
	dkim_body_hash_init(&s->bh, sig->body_canon, EVP_sha256(),
	                    sig->has_length ? sig->length : UINT64_MAX);
	s->hashing = true;
	s->key_name = xasprintf("%s._domainkey.%s", sig->selector, sig->domain);
}

static void add_signature(struct dkim_verifier *v, size_t field)
{
	struct sig_state *s;
	const char *value, *error;
	size_t len;

	/* v->sigs never moves: the body hashers point into it */
	s = &v->sigs[v->count++];
	memset(s, 0, sizeof(*s));
	s->field = field;
	s->verdict.domain = s->verdict.selector = s->verdict.identity = "";
	s->verdict.algorithm = "";
	if (v->count > DKIM_MAX_SIGNATURES) {
		decide(s, DKIM_RESULT_PERMERROR, "too many signatures");
		return;
	}
	value = dkim_field_value(&v->headers, field, &len);
	if (dkim_signature_parse(value, len, &s->sig, &error) < 0) {
		decide(s, DKIM_RESULT_PERMERROR, error);
		return;
	}
	verdict_from_sig(s);
	precheck(v, s);
}

/* RFC 6376 8.15 (and OpenDKIM): exactly one From, holding an address. */
static void check_from(struct dkim_verifier *v)
{
	size_t from = 0, len = 0;
	const char *value = NULL, *at;

	for (size_t i = 0; i < v->headers.fields.count; i++) {
		if (dkim_field_is(&v->headers, i, "From")) {
			from++;
			value = dkim_field_value(&v->headers, i, &len);
		}
	}
	if (from != 1) {
		v->message_error = from == 0 ? "no From field" : "several From fields";
		return;
	}
	at = memchr(value, '@', len);
	if (at == NULL || at + 1 == value + len || !isalnum((unsigned char)at[1]))
		v->message_error = "no address in From";
}

static void start_signatures(struct dkim_verifier *v)
{
	size_t n = 0;

	check_from(v);
	for (size_t i = 0; i < v->headers.fields.count; i++)
		n += dkim_field_is(&v->headers, i, "DKIM-Signature");
	v->sigs = xcalloc(n + 1, sizeof(*v->sigs));
	for (size_t i = 0; i < v->headers.fields.count; i++) {
		if (dkim_field_is(&v->headers, i, "DKIM-Signature"))
			add_signature(v, i);
	}
}

static void feed_body(struct dkim_verifier *v, const void *data, size_t len)
{
	for (size_t i = 0; i < v->count && len > 0; i++) {
		if (v->sigs[i].hashing)
			dkim_body_hash_feed(&v->sigs[i].bh, data, len);
	}
}

int dkim_verifier_feed(struct dkim_verifier *v, const void *data, size_t len, const char **error_r)
{
	ssize_t n = 0;

	if (v->headers.too_big) {
		*error_r = v->message_error;
		return -1;
	}
	if (!v->headers.done) {
		n = dkim_headers_feed(&v->headers, data, len);
		if (n < 0) {
			v->message_error = *error_r = "header section too large";
			return -1;
		}
		if (!v->headers.done)
			return 0;
		start_signatures(v);
	}
	feed_body(v, (const char *)data + n, len - (size_t)n);
	return 0;
}

void dkim_verifier_finish(struct dkim_verifier *v)
{
	if (v->finished)
		return;
	v->finished = true;
	if (v->headers.too_big)
		return;
	if (!v->headers.done) {
		dkim_headers_finish(&v->headers);
		start_signatures(v);
	}
	for (size_t i = 0; i < v->count; i++) {
		struct sig_state *s = &v->sigs[i];

		if (s->hashing)
			dkim_body_hash_finish(&s->bh, s->body_digest, &s->body_digest_len);
	}
}

/* The signed data: the h= fields, then this signature field with b=
   emptied and no final CRLF (RFC 6376 3.7). */
static void signed_data(const struct dkim_verifier *v, const struct sig_state *s, struct buf *out)
{
	const struct dkim_headers *h = &v->headers;
	const struct dkim_field *f = &h->fields.items[s->field];
	const char *field = h->raw.data + f->start;
	size_t value_off = f->name_len + 1;
	struct buf tmp = BUF_INIT;

	dkim_headers_canon(h, s->sig->headers.items, s->sig->headers.count, s->sig->header_canon,
	                   out);
	buf_append(&tmp, field, value_off + s->sig->b_start);
	buf_append(&tmp, field + value_off + s->sig->b_end, f->len - value_off - s->sig->b_end);
	canon_header(s->sig->header_canon, tmp.data, tmp.len, false, out);
	buf_free(&tmp);
}

static bool crypto_verify(const struct dkim_signature *sig, EVP_PKEY *pkey, const struct buf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t digest[32];
	bool ok = false;

	if (ctx == NULL)
		abort();
	if (sig->alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash of the data */
		EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig->sig, sig->sig_len, digest, sizeof(digest)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig->sig, sig->sig_len, (const uint8_t *)data->data,
		                      data->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool identity_exact(const struct dkim_signature *sig)
{
	const char *at = strrchr(sig->identity, '@');

	return at != NULL && strcasecmp(at + 1, sig->domain) == 0;
}

/* Key checks of RFC 6376 6.1.2 and RFC 8301 3.2; NULL when usable. */
static const char *key_unusable(const struct sig_state *s, enum dkim_result *result_r)
{
	const struct dkim_key *key = s->key;
	bool ed = s->sig->alg == DKIM_ALG_ED25519_SHA256;

	*result_r = DKIM_RESULT_PERMERROR;
	if ((key->type == DKIM_KEY_ED25519) != ed)
		return "key type does not match a=";
	if (!key->sha256_allowed)
		return "key h= excludes sha256";
	if (key->strict && !identity_exact(s->sig))
		return "i= is a subdomain but the key has t=s";
	*result_r = DKIM_RESULT_FAIL;
	if (key->revoked)
		return "key revoked";
	if (key->type == DKIM_KEY_RSA && key->rsa_bits < DKIM_MIN_RSA_BITS)
		return "key too small";
	return NULL;
}

static void body_verdict(struct sig_state *s)
{
	const struct dkim_signature *sig = s->sig;
	uint64_t total = s->bh.total;

	if (sig->has_length && total < sig->length)
		decide(s, DKIM_RESULT_FAIL, "body shorter than l=");
	else if (s->body_digest_len != sig->body_hash_len ||
	         memcmp(s->body_digest, sig->body_hash, sig->body_hash_len) != 0)
		decide(s, DKIM_RESULT_FAIL, "body hash mismatch");
	else if (sig->has_length && total > sig->length)
		s->verdict.unsigned_bytes = total - sig->length;
}

static void evaluate(const struct dkim_verifier *v, struct sig_state *s)
{
	enum dkim_result result;
	const char *reason;
	struct buf data = BUF_INIT;

	if (s->key == NULL) {
		decide(s, s->key_result, s->key_reason);
		return;
	}
	s->verdict.testing = s->key->testing;
	if ((reason = key_unusable(s, &result)) != NULL) {
		decide(s, result, reason);
		return;
	}
	body_verdict(s);
	if (s->decided)
		return;
	signed_data(v, s, &data);
	if (!crypto_verify(s->sig, s->key->pkey, &data))
		decide(s, DKIM_RESULT_FAIL, "signature mismatch");
	else if (s->verdict.unsigned_bytes > 0)
		decide(s, DKIM_RESULT_POLICY, "body partially signed (l=)");
	else
		decide(s, DKIM_RESULT_PASS, NULL);
	buf_free(&data);
}

static void evaluate_all(struct dkim_verifier *v)
{
	v->evaluated = true;
	for (size_t i = 0; i < v->count; i++) {
		struct sig_state *s = &v->sigs[i];

		if (v->message_error != NULL)
			decide(s, DKIM_RESULT_PERMERROR, v->message_error);
		else if (!s->decided)
			evaluate(v, s);
	}
}

int dkim_verifier_run(struct dkim_verifier *v, const char **name_r)
{
	if (!v->finished)
		dkim_verifier_finish(v);
	if (v->evaluated)
		return 0;
	for (size_t i = 0; i < v->count && v->message_error == NULL; i++) {
		if (!v->sigs[i].decided && !v->sigs[i].key_known) {
			*name_r = v->sigs[i].key_name;
			return 1;
		}
	}
	evaluate_all(v);
	return 0;
}

static void take_answer(struct sig_state *s, const struct dns_answer *answer)
{
	const char *error = "no key record";

	s->key_known = true;
	s->key_result = DKIM_RESULT_PERMERROR;
	if (answer->status == DNS_STATUS_TEMPFAIL || answer->status == DNS_STATUS_TIMEOUT) {
		s->key_result = DKIM_RESULT_TEMPERROR;
		s->key_reason = "key lookup failed";
		return;
	}
	/* several records: the first that parses (RFC 6376 3.6.2.2 leaves it
	   open); the first one's error otherwise */
	for (size_t i = 0; i < answer->rrs.count && s->key == NULL; i++) {
		const char *e;

		if (dkim_key_parse(answer->rrs.items[i].u.txt.data, answer->rrs.items[i].u.txt.len,
		                   &s->key, &e) < 0 &&
		    i == 0)
			error = e;
	}
	s->key_reason = error;
}

void dkim_verifier_answer(struct dkim_verifier *v, const char *name,
                          const struct dns_answer *answer)
{
	for (size_t i = 0; i < v->count; i++) {
		struct sig_state *s = &v->sigs[i];

		if (!s->decided && !s->key_known && dns_name_equal(s->key_name, name))
			take_answer(s, answer);
	}
}

size_t dkim_verifier_count(const struct dkim_verifier *v)
{
	return v->count;
}

const struct dkim_verdict *dkim_verifier_verdict(const struct dkim_verifier *v, size_t i)
{
	return &v->sigs[i].verdict;
}

enum dkim_result dkim_verifier_summary(const struct dkim_verifier *v, const char **reason_r)
{
	const char *dummy;

	if (reason_r == NULL)
		reason_r = &dummy;
	*reason_r = v->message_error;
	if (v->message_error != NULL)
		return DKIM_RESULT_PERMERROR;
	if (v->count == 0)
		return DKIM_RESULT_NONE;
	for (size_t i = 0; i < v->count; i++) {
		if (v->sigs[i].verdict.result == DKIM_RESULT_PASS) {
			*reason_r = NULL;
			return DKIM_RESULT_PASS;
		}
	}
	*reason_r = v->sigs[0].verdict.reason;
	return v->sigs[0].verdict.result;
}

void dkim_verifier_free(struct dkim_verifier **vp)
{
	struct dkim_verifier *v = *vp;

	if (v == NULL)
		return;
	for (size_t i = 0; i < v->count; i++) {
		if (v->sigs[i].hashing)
			dkim_body_hash_free(&v->sigs[i].bh);
		dkim_signature_free(&v->sigs[i].sig);
		dkim_key_free(&v->sigs[i].key);
		free(v->sigs[i].key_name);
	}
	free(v->sigs);
	dkim_headers_free(&v->headers);
	free(v);
	*vp = NULL;
}

static int dkim_ops_next(void *check, const char **name_r, enum dns_type *type_r)
{
	*type_r = DNS_TYPE_TXT;
	return dkim_verifier_run(check, name_r);
}

static void dkim_ops_answer(void *check, const char *name, enum dns_type type,
                            const struct dns_answer *answer)
{
	dkim_verifier_answer(check, name, answer);
}

const struct dns_check_ops dkim_verifier_ops = {dkim_ops_next, dkim_ops_answer};
