/* ARC chain validation, RFC 8617 section 5.2. */

#include "mailauth/arc.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mailauth/arc-private.h"

/* A key record to look up: one per distinct s=/d= in the chain. */
struct key_slot {
	char *name;
	bool known;
	struct dkim_key *key;
	const char *error; /* when key is NULL */
};

struct arc_verifier {
	time_t now;
	struct dkim_headers headers;
	bool started, finished, decided;
	struct arc_chain chain;
	enum arc_cv result;
	const char *reason;
	bool hashing;
	struct dkim_body_hash bh;
	uint8_t digest[EVP_MAX_MD_SIZE];
	size_t digest_len;
	struct key_slot keys[ARC_MAX_SETS + 1];
	size_t key_count;
	unsigned next_instance;
};

struct arc_verifier *arc_verifier_new(time_t now)
{
	struct arc_verifier *v = xcalloc(1, sizeof(*v));

	v->now = now;
	return v;
}

static void decide(struct arc_verifier *v, enum arc_cv result, const char *reason)
{
	v->decided = true;
	v->result = result;
	v->reason = reason;
}

static void want_key(struct arc_verifier *v, const struct arc_sig *sig)
{
	char *name = xasprintf("%s._domainkey.%s", sig->selector, sig->domain);

	for (size_t i = 0; i < v->key_count; i++) {
		if (dns_name_equal(v->keys[i].name, name)) {
			free(name);
			return;
		}
	}
	v->keys[v->key_count++].name = name;
}

/* The header section is complete: find the chain (5.2 steps 1-3). */
static void start(struct arc_verifier *v)
{
	const char *error = NULL;
	int ret;
	const struct arc_sig *ams;

	v->started = true;
	ret = arc_chain_build(&v->headers, &v->chain, &error);
	v->next_instance = arc_chain_next_instance(&v->chain, ret);
	if (ret <= 0) {
		decide(v, ret == 0 ? ARC_CV_NONE : ARC_CV_FAIL, error);
		return;
	}
	ams = v->chain.sets[v->chain.count - 1].msig;
	dkim_body_hash_init(&v->bh, ams->body_canon, EVP_sha256(), UINT64_MAX);
	v->hashing = true;
	want_key(v, ams);
	for (unsigned i = v->chain.count; i > 0; i--)
		want_key(v, v->chain.sets[i - 1].seal);
}

int arc_verifier_feed(struct arc_verifier *v, const void *data, size_t len, const char **error_r)
{
	ssize_t n = 0;

	if (v->headers.too_big) {
		*error_r = "header section too large";
		return -1;
	}
	if (!v->headers.done) {
		n = dkim_headers_feed(&v->headers, data, len);
		if (n < 0) {
			decide(v, ARC_CV_FAIL, *error_r = "header section too large");
			return -1;
		}
		if (!v->headers.done)
			return 0;
		start(v);
	}
	if (v->hashing && (size_t)n < len)
		dkim_body_hash_feed(&v->bh, (const char *)data + n, len - (size_t)n);
	return 0;
}

void arc_verifier_finish(struct arc_verifier *v)
{
	if (v->finished)
		return;
	v->finished = true;
	if (v->headers.too_big)
		return;
	if (!v->headers.done) {
		dkim_headers_finish(&v->headers);
		start(v);
	}
	if (v->hashing)
		dkim_body_hash_finish(&v->bh, v->digest, &v->digest_len);
}

static const struct key_slot *key_for(const struct arc_verifier *v, const struct arc_sig *sig)
{
	char *name = xasprintf("%s._domainkey.%s", sig->selector, sig->domain);
	const struct key_slot *slot = NULL;

	for (size_t i = 0; i < v->key_count && slot == NULL; i++) {
		if (dns_name_equal(v->keys[i].name, name))
			slot = &v->keys[i];
	}
	free(name);
	return slot;
}

/* The key of sig if usable (RFC 6376 6.1.2, RFC 8301 3.2), else NULL
   with *error_r. */
static EVP_PKEY *usable_key(const struct arc_verifier *v, const struct arc_sig *sig,
                            const char **error_r)
{
	const struct key_slot *slot = key_for(v, sig);
	const struct dkim_key *key = slot->key;

	if (key == NULL)
		*error_r = slot->error;
	else if ((key->type == DKIM_KEY_ED25519) != (sig->alg == DKIM_ALG_ED25519_SHA256))
		*error_r = "key type does not match a=";
	else if (!key->sha256_allowed)
		*error_r = "key h= excludes sha256";
	else if (key->revoked)
		*error_r = "key revoked";
	else if (key->type == DKIM_KEY_RSA && key->rsa_bits < DKIM_MIN_RSA_BITS)
		*error_r = "key too small";
	else
		return key->pkey;
	return NULL;
}

/* 5.2 step 4: the newest ARC-Message-Signature, as a DKIM signature
   (RFC 6376 6.1.3) over its h= fields and itself with b= emptied. */
static const char *check_ams(const struct arc_verifier *v)
{
	const struct arc_set *set = &v->chain.sets[v->chain.count - 1];
	const struct arc_sig *ams = set->msig;
	const struct dkim_field *f = &v->headers.fields.items[set->ams];
	const char *field = v->headers.raw.data + f->start, *error = NULL;
	size_t voff = f->name_len + 1;
	struct buf data = BUF_INIT, tmp = BUF_INIT;
	EVP_PKEY *pkey = usable_key(v, ams, &error);

	if (pkey == NULL)
		return error;
	if (v->digest_len != ams->body_hash_len ||
	    memcmp(v->digest, ams->body_hash, v->digest_len) != 0)
		return "AMS body hash mismatch";
	dkim_headers_canon(&v->headers, ams->headers.items, ams->headers.count, ams->header_canon,
	                   &data);
	buf_append(&tmp, field, voff + ams->b_start);
	buf_append(&tmp, field + voff + ams->b_end, f->len - voff - ams->b_end);
	canon_header(ams->header_canon, tmp.data, tmp.len, false, &data);
	if (!arc_crypto_verify(ams->alg, pkey, ams->sig, ams->sig_len, &data))
		error = "AMS signature mismatch";
	buf_free(&tmp);
	buf_free(&data);
	return error;
}

/* 5.2 step 6: ARC-Seal of instance i (5.1.1). */
static const char *check_seal(const struct arc_verifier *v, unsigned i)
{
	const char *fields[3 * ARC_MAX_SETS], *error = NULL;
	size_t lens[3 * ARC_MAX_SETS];
	const struct arc_sig *seal = v->chain.sets[i - 1].seal;
	const struct dkim_field *f;
	struct buf data = BUF_INIT;
	EVP_PKEY *pkey = usable_key(v, seal, &error);

	if (pkey == NULL)
		return error;
	for (unsigned j = 0; j < i; j++) {
		const size_t idx[3] = {v->chain.sets[j].aar, v->chain.sets[j].ams,
		                       v->chain.sets[j].as};

		for (unsigned k = 0; k < 3; k++) {
			f = &v->headers.fields.items[idx[k]];
			fields[3 * j + k] = v->headers.raw.data + f->start;
			lens[3 * j + k] = f->len;
		}
	}
	arc_seal_input(fields, lens, i, seal->b_start, seal->b_end, &data);
	if (!arc_crypto_verify(seal->alg, pkey, seal->sig, seal->sig_len, &data))
		error = "AS signature mismatch";
	buf_free(&data);
	return error;
}

static void evaluate(struct arc_verifier *v)
{
	const char *error = check_ams(v);

	for (unsigned i = v->chain.count; i > 0 && error == NULL; i--)
		error = check_seal(v, i);
	decide(v, error == NULL ? ARC_CV_PASS : ARC_CV_FAIL, error);
}

int arc_verifier_run(struct arc_verifier *v, const char **name_r)
{
	if (!v->finished)
		arc_verifier_finish(v);
	if (v->decided)
		return 0;
	for (size_t i = 0; i < v->key_count; i++) {
		if (!v->keys[i].known) {
			*name_r = v->keys[i].name;
			return 1;
		}
	}
	evaluate(v);
	return 0;
}

static void take_answer(struct key_slot *slot, const struct dns_answer *answer)
{
	const char *error = "no key record";

	slot->known = true;
	if (answer->status == DNS_STATUS_TEMPFAIL || answer->status == DNS_STATUS_TIMEOUT) {
		slot->error = "key lookup failed";
		return;
	}
	/* several records: the first that parses */
	for (size_t i = 0; i < answer->rrs.count && slot->key == NULL; i++) {
		const char *e;

		if (dkim_key_parse(answer->rrs.items[i].u.txt.data, answer->rrs.items[i].u.txt.len,
		                   &slot->key, &e) < 0 &&
		    i == 0)
			error = e;
	}
	slot->error = error;
}

void arc_verifier_answer(struct arc_verifier *v, const char *name, const struct dns_answer *answer)
{
	for (size_t i = 0; i < v->key_count; i++) {
		if (!v->keys[i].known && dns_name_equal(v->keys[i].name, name))
			take_answer(&v->keys[i], answer);
	}
}

enum arc_cv arc_verifier_result(const struct arc_verifier *v, const char **reason_r)
{
	if (reason_r != NULL)
		*reason_r = v->result == ARC_CV_FAIL ? v->reason : NULL;
	return v->result;
}

unsigned arc_verifier_instances(const struct arc_verifier *v)
{
	return v->decided && v->result == ARC_CV_PASS ? v->chain.count : 0;
}

unsigned arc_verifier_next_instance(const struct arc_verifier *v)
{
	return v->next_instance;
}

void arc_verifier_free(struct arc_verifier **vp)
{
	struct arc_verifier *v = *vp;

	if (v == NULL)
		return;
	if (v->hashing)
		dkim_body_hash_free(&v->bh);
	for (size_t i = 0; i < v->key_count; i++) {
		free(v->keys[i].name);
		dkim_key_free(&v->keys[i].key);
	}
	arc_chain_free(&v->chain);
	dkim_headers_free(&v->headers);
	free(v);
	*vp = NULL;
}

static int arc_ops_next(void *check, const char **name_r, enum dns_type *type_r)
{
	*type_r = DNS_TYPE_TXT;
	return arc_verifier_run(check, name_r);
}

static void arc_ops_answer(void *check, const char *name, enum dns_type type,
                           const struct dns_answer *answer)
{
	arc_verifier_answer(check, name, answer);
}

const struct dns_check_ops arc_verifier_ops = {arc_ops_next, arc_ops_answer};
