/* ARC sealing, RFC 8617 section 5.1. */

#include "mailauth/arc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "lib/xalloc.h"
#include "mailauth/arc-private.h"
#include "mailauth/auth-results.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"

struct arc_sealer {
	char *domain, *selector, *headers, *authserv_id;
	EVP_PKEY *key;
	enum dkim_alg alg;
	time_t now;
	struct dkim_headers h;
	struct dkim_body_hash bh;
};

static int key_alg(EVP_PKEY *key, enum dkim_alg *alg_r)
{
	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
		*alg_r = DKIM_ALG_ED25519_SHA256;
	else if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	         EVP_PKEY_get_bits(key) >= DKIM_MIN_RSA_BITS)
		*alg_r = DKIM_ALG_RSA_SHA256;
	else
		return -1;
	return 0;
}

int arc_sealer_new(const struct arc_seal_params *params, struct arc_sealer **sealer_r,
                   const char **error_r)
{
	struct arc_sealer *s;
	enum dkim_alg alg;
	const char *id = params->authserv_id;

	if (!dkim_name_valid(params->domain) || !dkim_name_valid(params->selector)) {
		*error_r = "bad domain or selector";
		return -1;
	}
	if (id == NULL || *id == '\0' || strpbrk(id, " \t\r\n;()\"") != NULL) {
		*error_r = "bad authserv-id";
		return -1;
	}
	if (key_alg(params->key, &alg) < 0) {
		*error_r = "key is neither RSA of 1024 bits or more nor Ed25519";
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->domain = xstrdup(params->domain);
	s->selector = xstrdup(params->selector);
	s->headers = params->headers != NULL ? xstrdup(params->headers) : NULL;
	s->authserv_id = xstrdup(id);
	s->key = params->key;
	s->alg = alg;
	s->now = params->now != 0 ? params->now : time(NULL);
	dkim_body_hash_init(&s->bh, CANON_RELAXED, EVP_sha256(), UINT64_MAX);
	*sealer_r = s;
	return 0;
}

int arc_sealer_feed(struct arc_sealer *s, const void *data, size_t len, const char **error_r)
{
	return dkim_signing_feed(&s->h, &s->bh, data, len, error_r);
}

static void base64_append(struct buf *out, const uint8_t *data, size_t len)
{
	char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	buf_append_str(out, b64);
	free(b64);
}

static int crypto_sign(const struct arc_sealer *s, const struct buf *data, struct buf *b64)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t digest[32], sig[DKIM_MAX_SIG_BYTES];
	size_t sig_len = sizeof(sig);
	int ok;

	if (ctx == NULL)
		abort();
	if (s->alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: sign the SHA-256 hash of the data */
		EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL);
		ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1 &&
		     EVP_DigestSign(ctx, sig, &sig_len, digest, sizeof(digest)) == 1;
	} else {
		ok =
		    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->key) == 1 &&
		    EVP_DigestSign(ctx, sig, &sig_len, (const uint8_t *)data->data, data->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	if (ok)
		base64_append(b64, sig, sig_len);
	return ok ? 0 : -1;
}

/* Append one result of an A-R value, FWS runs made one space. */
static void add_result(struct buf *aar, const char *p, size_t len)
{
	bool space = false;
	size_t start = aar->len;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = aar->len > start;
			continue;
		}
		if (space)
			buf_append_char(aar, ' ');
		space = false;
		buf_append_char(aar, c);
	}
	if (aar->len == start ||
	    (aar->len - start == 4 && memcmp(aar->data + start, "none", 4) == 0))
		aar->len = start; /* "none": no result (RFC 8601 2.2) */
	else
		buf_append_str(aar, "; ");
}

/* Split an A-R value at ';' outside comments and quoted strings and add
   each result after the authserv-id to aar. */
static void ar_results(const char *v, size_t len, struct buf *aar)
{
	size_t start = 0, part = 0, depth = 0;
	bool quoted = false;

	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? v[i] : ';';

		if (c == '"' && depth == 0)
			quoted = !quoted;
		else if (!quoted && c == '(')
			depth++;
		else if (!quoted && c == ')' && depth > 0)
			depth--;
		if (c != ';' || quoted || depth > 0)
			continue;
		if (part++ > 0)
			add_result(aar, v + start, i - start);
		start = i + 1;
	}
}

/* The AAR value (4.1.1): "i=N; authserv-id; result; result...". */
static void build_aar(const struct arc_sealer *s, unsigned instance, struct buf *aar)
{
	size_t base;

	buf_printf(aar, "i=%u; %s; ", instance, s->authserv_id);
	base = aar->len;
	for (size_t i = 0; i < s->h.fields.count; i++) {
		size_t len;
		const char *v;

		if (!dkim_field_is(&s->h, i, "Authentication-Results"))
			continue;
		v = dkim_field_value(&s->h, i, &len);
		if (auth_results_claims(v, len, s->authserv_id))
			ar_results(v, len, aar);
	}
	if (aar->len == base)
		buf_append_str(aar, "none");
	else
		aar->len -= 2;  /* the last "; " */
	buf_append(aar, "", 0); /* NUL-terminate at the new length */
}

/* h= of the AMS: the given list, or each DKIM_DEFAULT_HEADERS name the
   message has, once per instance. */
static void pick_headers(const struct arc_sealer *s, struct buf *h)
{
	char *list = xstrdup(s->headers != NULL ? s->headers : DKIM_DEFAULT_HEADERS), *save, *name;

	for (name = strtok_r(list, ":", &save); name != NULL; name = strtok_r(NULL, ":", &save)) {
		size_t n = 0;

		if (s->headers != NULL)
			n = 1;
		else
			for (size_t i = 0; i < s->h.fields.count; i++)
				n += dkim_field_is(&s->h, i, name);
		for (; n > 0; n--)
			buf_printf(h, "%s%s", h->len > 0 ? ":" : "", name);
	}
	free(list);
}

/* Split a colon list in place into names (at most DKIM_MAX_SIGNED_HEADERS). */
static size_t split_names(char *list, char **names)
{
	size_t count = 0;
	char *save, *name;

	for (name = strtok_r(list, ":", &save); name != NULL && count < DKIM_MAX_SIGNED_HEADERS;
	     name = strtok_r(NULL, ":", &save))
		names[count++] = name;
	return count;
}

/* The AMS value (4.1.2), signed over its h= fields, the new AAR visible
   on top of them (it is part of the message by then). */
static int build_ams(struct arc_sealer *s, unsigned instance, const struct buf *aar,
                     struct buf *ams)
{
	struct dkim_headers all = {0};
	struct buf h = BUF_INIT, head = BUF_INIT, tail = BUF_INIT, data = BUF_INIT;
	uint8_t bh[EVP_MAX_MD_SIZE];
	size_t bh_len, count;
	char *names[DKIM_MAX_SIGNED_HEADERS], *list;
	int ret;

	buf_printf(&data, "ARC-Authentication-Results: %s\r\n", buf_cstr(aar));
	(void)dkim_headers_feed(&all, data.data, data.len);
	(void)dkim_headers_feed(&all, s->h.raw.data, s->h.raw.len);
	dkim_headers_finish(&all);
	buf_clear(&data);
	pick_headers(s, &h);
	dkim_body_hash_finish(&s->bh, bh, &bh_len);
	buf_printf(&head, "a=%s; b=", dkim_alg_name(s->alg));
	buf_append_str(&tail, "; bh=");
	base64_append(&tail, bh, bh_len);
	buf_printf(&tail, "; c=relaxed/relaxed; d=%s; h=%s; i=%u; s=%s; t=%lld", s->domain,
	           buf_cstr(&h), instance, s->selector, (long long)s->now);
	list = xstrdup(buf_cstr(&h));
	count = split_names(list, names);
	dkim_headers_canon(&all, names, count, CANON_RELAXED, &data);
	buf_printf(ams, "ARC-Message-Signature: %s%s", buf_cstr(&head), buf_cstr(&tail));
	canon_header(CANON_RELAXED, ams->data, ams->len, false, &data);
	buf_clear(ams);
	buf_append_str(ams, buf_cstr(&head));
	ret = crypto_sign(s, &data, ams);
	buf_append_str(ams, buf_cstr(&tail));
	free(list);
	buf_free(&h);
	buf_free(&head);
	buf_free(&tail);
	buf_free(&data);
	dkim_headers_free(&all);
	return ret;
}

/* Raw fields of the existing sets 1..instance-1 into fields/lens. */
static int existing_sets(const struct arc_sealer *s, unsigned instance, const char **fields,
                         size_t *lens, struct arc_chain *chain)
{
	const char *error;
	int ret = arc_chain_build(&s->h, chain, &error);

	if (ret < 0 || chain->count + 1 != instance)
		return -1;
	for (unsigned j = 0; j < chain->count; j++) {
		const size_t idx[3] = {chain->sets[j].aar, chain->sets[j].ams, chain->sets[j].as};

		for (unsigned k = 0; k < 3; k++) {
			const struct dkim_field *f = &s->h.fields.items[idx[k]];

			fields[3 * j + k] = s->h.raw.data + f->start;
			lens[3 * j + k] = f->len;
		}
	}
	return 0;
}

/* The AS value (4.1.3) over the chain (5.1.1); with cv=fail only the new
   set is covered. */
static int build_seal(struct arc_sealer *s, enum arc_cv cv, unsigned instance,
                      const struct buf *aar_field, const struct buf *ams_field, struct buf *as)
{
	const char *fields[3 * ARC_MAX_SETS];
	size_t lens[3 * ARC_MAX_SETS], b_off, first = instance - 1;
	struct arc_chain chain = {0};
	struct buf field = BUF_INIT, data = BUF_INIT, tail = BUF_INIT;
	int ret = 0;

	if (cv != ARC_CV_FAIL && existing_sets(s, instance, fields, lens, &chain) < 0)
		ret = -1;
	buf_printf(&tail, "; cv=%s; d=%s; i=%u; s=%s; t=%lld", arc_cv_name(cv), s->domain, instance,
	           s->selector, (long long)s->now);
	buf_printf(&field, "ARC-Seal: a=%s; b=", dkim_alg_name(s->alg));
	b_off = field.len - strlen("ARC-Seal:");
	buf_append_str(&field, buf_cstr(&tail));
	if (cv == ARC_CV_FAIL)
		first = 0;
	fields[3 * first] = aar_field->data;
	lens[3 * first] = aar_field->len;
	fields[3 * first + 1] = ams_field->data;
	lens[3 * first + 1] = ams_field->len;
	fields[3 * first + 2] = field.data;
	lens[3 * first + 2] = field.len;
	if (ret == 0) {
		arc_seal_input(fields, lens, (unsigned)first + 1, b_off, b_off, &data);
		buf_printf(as, "a=%s; b=", dkim_alg_name(s->alg));
		ret = crypto_sign(s, &data, as);
		buf_append_str(as, buf_cstr(&tail));
	}
	arc_chain_free(&chain);
	buf_free(&field);
	buf_free(&data);
	buf_free(&tail);
	return ret;
}

/* Append "Name: value" folded at "; " before column 78, and CRLF. */
static void append_folded(struct buf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	const char *p = value;

	buf_printf(out, "%s: ", name);
	while (*p != '\0') {
		const char *sep = strstr(p, "; ");
		size_t n = sep != NULL ? (size_t)(sep - p) + 1 : strlen(p);

		if (p != value && col + n > 78) {
			buf_append_str(out, "\r\n\t");
			col = 8;
		} else if (p != value) {
			buf_append_char(out, ' ');
			col++;
		}
		buf_append(out, p, n);
		col += n;
		p += n;
		if (*p == ' ')
			p++;
	}
	buf_append_str(out, "\r\n");
}

int arc_sealer_finish(struct arc_sealer *s, enum arc_cv cv, unsigned instance, char **fields_r,
                      const char **error_r)
{
	struct buf aar = BUF_INIT, ams = BUF_INIT, as = BUF_INIT, out = BUF_INIT;
	struct buf aar_field = BUF_INIT, ams_field = BUF_INIT;
	int ret = 1;

	*fields_r = NULL;
	if (instance == 0 || instance > ARC_MAX_SETS)
		return 0;
	dkim_headers_finish(&s->h);
	build_aar(s, instance, &aar);
	buf_printf(&aar_field, "ARC-Authentication-Results: %s", buf_cstr(&aar));
	if (build_ams(s, instance, &aar, &ams) < 0) {
		*error_r = "signing failed";
		ret = -1;
	} else {
		buf_printf(&ams_field, "ARC-Message-Signature: %s", buf_cstr(&ams));
		if (build_seal(s, cv, instance, &aar_field, &ams_field, &as) < 0) {
			*error_r = "existing ARC chain unreadable, or signing failed";
			ret = -1;
		}
	}
	if (ret == 1) {
		append_folded(&out, "ARC-Seal", buf_cstr(&as));
		append_folded(&out, "ARC-Message-Signature", buf_cstr(&ams));
		append_folded(&out, "ARC-Authentication-Results", buf_cstr(&aar));
		*fields_r = buf_steal(&out);
	}
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&as);
	buf_free(&aar_field);
	buf_free(&ams_field);
	return ret;
}

void arc_sealer_free(struct arc_sealer **sp)
{
	struct arc_sealer *s = *sp;

	if (s == NULL)
		return;
	dkim_headers_free(&s->h);
	dkim_body_hash_free(&s->bh);
	free(s->domain);
	free(s->selector);
	free(s->headers);
	free(s->authserv_id);
	free(s);
	*sp = NULL;
}
