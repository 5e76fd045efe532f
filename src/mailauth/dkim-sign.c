/* DKIM signing, RFC 6376 section 5, RFC 8463. */

#include "mailauth/dkim-sign.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-private.h"

struct dkim_signer {
	char *domain, *selector, *identity, *header_list;
	EVP_PKEY *key;
	enum dkim_alg alg;
	time_t now;
	struct dkim_headers headers;
	struct dkim_body_hash bh;
};

static int key_alg(EVP_PKEY *key, enum dkim_alg *alg_r, const char **error_r)
{
	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		*alg_r = DKIM_ALG_ED25519_SHA256;
		return 0;
	}
	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(key) >= DKIM_MIN_RSA_BITS) {
		*alg_r = DKIM_ALG_RSA_SHA256;
		return 0;
	}
	*error_r = "key is neither RSA of 1024 bits or more nor Ed25519";
	return -1;
}

int dkim_signer_new(const struct dkim_sign_params *params, struct dkim_signer **signer_r,
                    const char **error_r)
{
	struct dkim_signer *s;
	enum dkim_alg alg;

	if (!dkim_name_valid(params->domain) || !dkim_name_valid(params->selector)) {
		*error_r = "bad domain or selector";
		return -1;
	}
	if (key_alg(params->key, &alg, error_r) < 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->domain = xstrdup(params->domain);
	s->selector = xstrdup(params->selector);
	s->identity = params->identity == NULL ? NULL : xstrdup(params->identity);
	s->header_list = xstrdup(params->headers == NULL ? DKIM_DEFAULT_HEADERS : params->headers);
	s->key = params->key;
	s->alg = alg;
	s->now = params->now != 0 ? params->now : time(NULL);
	dkim_body_hash_init(&s->bh, CANON_RELAXED, dkim_sha256(), UINT64_MAX);
	*signer_r = s;
	return 0;
}

int dkim_signer_feed(struct dkim_signer *s, const void *data, size_t len, const char **error_r)
{
	return dkim_signing_feed(&s->headers, &s->bh, data, len, error_r);
}

static size_t field_count(const struct dkim_headers *h, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < h->fields.count; i++)
		n += dkim_field_is(h, i, name);
	return n;
}

/* The h= names: each listed field as often as the message has it, From
   once more (oversigning). Returns the count; names point into list. */
static size_t pick_headers(const struct dkim_signer *s, char *list, char ***names_r)
{
	ARRAY(char *) names = ARRAY_INIT;
	char *save, *name;
	size_t count;

	for (name = strtok_r(list, ":", &save); name != NULL; name = strtok_r(NULL, ":", &save)) {
		size_t n = field_count(&s->headers, name);

		if (strcasecmp(name, "from") == 0)
			n++;
		for (; n > 0 && names.count < DKIM_MAX_SIGNED_HEADERS; n--)
			array_append(&names, name);
	}
	*names_r = array_steal(&names, &count);
	return count;
}

static void base64_append(struct buf *out, const uint8_t *data, size_t len)
{
	size_t start = out->len;

	buf_reserve(out, 4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out->data + start, data, (int)len);
	out->len = start + strlen(out->data + start);
}

static void append_decimal(struct buf *out, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	buf_append(out, digits + sizeof(digits) - n, n);
}

/* The field up to "b=" (value empty), as it is hashed and then sent. */
static void field_head(struct dkim_signer *s, char **names, size_t count, struct buf *field)
{
	uint8_t bh[EVP_MAX_MD_SIZE];
	size_t bh_len;

	/* appended piece by piece: a printf here cost ~1% of an Ed25519
	   signature */
	buf_append_str(field, "DKIM-Signature: v=1; a=");
	buf_append_str(field, dkim_alg_name(s->alg));
	buf_append_str(field, "; c=relaxed/relaxed; d=");
	buf_append_str(field, s->domain);
	buf_append_str(field, "; s=");
	buf_append_str(field, s->selector);
	buf_append_str(field, ";\r\n\tt=");
	append_decimal(field, s->now < 0 ? 0 : (uint64_t)s->now);
	buf_append_char(field, ';');
	if (s->identity != NULL) {
		buf_append_str(field, " i=");
		buf_append_str(field, s->identity);
		buf_append_char(field, ';');
	}
	buf_append_str(field, " h=");
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_append_char(field, ':');
		buf_append_str(field, names[i]);
	}
	buf_append_str(field, ";\r\n\tbh=");
	dkim_body_hash_finish(&s->bh, bh, &bh_len);
	base64_append(field, bh, bh_len);
	buf_append_str(field, ";\r\n\tb=");
}

/* Ed25519 signing contexts, one per thread, for the last key the thread
   signed with: EVP_DigestSignInit (fetches, a new key context) costs about
   5% of the signature itself, and for Ed25519 EVP_DigestSign may be called
   again on the same context. The context holds a reference to its key, so
   the key stays alive while cached and its address cannot name another
   key; the cache is freed at the thread's exit (the main thread's at the
   process's). */
struct ed_cache {
	EVP_PKEY *key;
	EVP_MD_CTX *ctx;
};

static pthread_key_t ed_cache_key;
static pthread_once_t ed_cache_once = PTHREAD_ONCE_INIT;

static void ed_cache_free(void *p)
{
	struct ed_cache *c = p;

	EVP_MD_CTX_free(c->ctx);
	free(c);
}

static void ed_cache_init(void)
{
	if (pthread_key_create(&ed_cache_key, ed_cache_free) != 0)
		abort();
}

/* This thread's context for key, made on first use; NULL on failure. */
static EVP_MD_CTX *ed_sign_ctx(EVP_PKEY *key)
{
	struct ed_cache *c;

	pthread_once(&ed_cache_once, ed_cache_init);
	c = pthread_getspecific(ed_cache_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		if (pthread_setspecific(ed_cache_key, c) != 0)
			abort();
	}
	if (c->ctx != NULL && c->key == key)
		return c->ctx;
	EVP_MD_CTX_free(c->ctx);
	c->key = key;
	c->ctx = EVP_MD_CTX_new();
	if (c->ctx == NULL)
		abort();
	if (EVP_DigestSignInit(c->ctx, NULL, NULL, NULL, key) != 1) {
		EVP_MD_CTX_free(c->ctx);
		c->ctx = NULL;
	}
	return c->ctx;
}

/* RFC 8463 3: sign the SHA-256 hash of the data. The body hash's context
   is done with the body (its digest is in the field) and hashes it. */
static int sign_ed25519(struct dkim_signer *s, const struct buf *data, uint8_t *sig,
                        size_t *sig_len)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	EVP_MD_CTX *ctx;

	if (EVP_DigestInit_ex(s->bh.md, dkim_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(s->bh.md, data->data, data->len) != 1 ||
	    EVP_DigestFinal_ex(s->bh.md, digest, &digest_len) != 1)
		return -1;
	ctx = ed_sign_ctx(s->key);
	return ctx != NULL && EVP_DigestSign(ctx, sig, sig_len, digest, digest_len) == 1 ? 0 : -1;
}

static int crypto_sign(struct dkim_signer *s, const struct buf *data, uint8_t *sig, size_t *sig_len)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (s->alg == DKIM_ALG_ED25519_SHA256)
		return sign_ed25519(s, data, sig, sig_len);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		abort();
	ok = EVP_DigestSignInit(ctx, NULL, dkim_sha256(), NULL, s->key) == 1 &&
	     EVP_DigestSign(ctx, sig, sig_len, (const uint8_t *)data->data, data->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Append b64 to field, folded into lines of at most 76 characters. */
static void append_folded(struct buf *field, const char *b64)
{
	size_t len = strlen(b64);

	for (size_t i = 0; i < len; i += 72) {
		if (i > 0)
			buf_append_str(field, "\r\n\t ");
		buf_append(field, b64 + i, len - i < 72 ? len - i : 72);
	}
	buf_append_str(field, "\r\n");
}

static int sign_field(struct dkim_signer *s, struct buf *field, const char **error_r)
{
	char *list = xstrdup(s->header_list), **names;
	size_t count = pick_headers(s, list, &names), sig_len = DKIM_MAX_SIG_BYTES;
	struct buf data = BUF_INIT, b64 = BUF_INIT;
	uint8_t sig[DKIM_MAX_SIG_BYTES];
	int ret = 0;

	/* room for the whole field and data at once: no regrowth */
	buf_reserve(field, 1024);
	buf_reserve(&data, s->headers.raw.len + 1024);
	field_head(s, names, count, field);
	dkim_headers_canon(&s->headers, names, count, CANON_RELAXED, &data);
	canon_header(CANON_RELAXED, field->data, field->len, false, &data);
	if (crypto_sign(s, &data, sig, &sig_len) < 0) {
		*error_r = "signing failed";
		ret = -1;
	} else {
		base64_append(&b64, sig, sig_len);
		append_folded(field, b64.data);
	}
	buf_free(&data);
	buf_free(&b64);
	free(names);
	free(list);
	return ret;
}

int dkim_signer_finish(struct dkim_signer *s, char **field_r, const char **error_r)
{
	struct buf field = BUF_INIT;

	dkim_headers_finish(&s->headers);
	if (field_count(&s->headers, "From") == 0) {
		*error_r = "message has no From field";
		return -1;
	}
	if (sign_field(s, &field, error_r) < 0) {
		buf_free(&field);
		return -1;
	}
	*field_r = buf_steal(&field);
	return 0;
}

void dkim_signer_free(struct dkim_signer **sp)
{
	struct dkim_signer *s = *sp;

	if (s == NULL)
		return;
	dkim_headers_free(&s->headers);
	dkim_body_hash_free(&s->bh);
	free(s->domain);
	free(s->selector);
	free(s->identity);
	free(s->header_list);
	free(s);
	*sp = NULL;
}
