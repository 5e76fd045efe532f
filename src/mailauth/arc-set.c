/* ARC header fields (RFC 8617 section 4) and the chain of ARC sets. */

#include "mailauth/arc-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/tag-list.h"

const char *arc_cv_name(enum arc_cv cv)
{
	static const char *const names[] = {"none", "pass", "fail"};

	return names[cv];
}

int arc_instance_parse(const char *s, size_t len, unsigned *instance_r)
{
	unsigned v = 0;

	if (len == 0 || len > 2 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > ARC_MAX_SETS)
		return -1;
	*instance_r = v;
	return 0;
}

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int arc_aar_instance(const char *value, size_t len, unsigned *instance_r)
{
	size_t i = 0, start;

	/* 4.1.1: AAR value = [FWS] "i" [FWS] "=" [FWS] instance [FWS] ";" ... */
	while (i < len && is_fws(value[i]))
		i++;
	if (i >= len || value[i++] != 'i')
		return -1;
	while (i < len && is_fws(value[i]))
		i++;
	if (i >= len || value[i++] != '=')
		return -1;
	while (i < len && is_fws(value[i]))
		i++;
	start = i;
	while (i < len && value[i] >= '0' && value[i] <= '9')
		i++;
	if (arc_instance_parse(value + start, i - start, instance_r) < 0)
		return -1;
	while (i < len && is_fws(value[i]))
		i++;
	return i < len && value[i] == ';' ? 0 : -1;
}

static int parse_alg(const char *a, enum dkim_alg *alg_r)
{
	if (strcmp(a, "rsa-sha256") == 0)
		*alg_r = DKIM_ALG_RSA_SHA256;
	else if (strcmp(a, "ed25519-sha256") == 0)
		*alg_r = DKIM_ALG_ED25519_SHA256;
	else
		return -1;
	return 0;
}

static bool number_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 12)
		return false;
	return strspn(s, "0123456789") == n;
}

static int b64_tag(const struct tag *t, uint8_t *out, size_t cap, size_t *len_r)
{
	if (t->value_len == 0)
		return -1;
	return dkim_base64_decode(t->value, t->value_len, out, cap, len_r);
}

/* b= with the whitespace around it (RFC 6376 3.7). */
static void locate_b(const char *value, size_t len, const struct tag *b, struct arc_sig *sig)
{
	sig->b_start = b->value_start;
	sig->b_end = b->value_end;
	while (sig->b_start > 0 && value[sig->b_start - 1] != '=')
		sig->b_start--;
	while (sig->b_end < len && value[sig->b_end] != ';')
		sig->b_end++;
}

/* Tags common to AMS and AS: i, a, b, d, s, t. */
static int common_tags(const char *value, size_t len, const struct tag_list *tags,
                       struct arc_sig *sig, const char **error_r)
{
	const char *i = tag_list_value(tags, "i"), *a = tag_list_value(tags, "a");
	const char *d = tag_list_value(tags, "d"), *s = tag_list_value(tags, "s");
	const char *t = tag_list_value(tags, "t");
	const struct tag *b = tag_list_get(tags, "b");

	*error_r = "missing required tag";
	if (i == NULL || a == NULL || d == NULL || s == NULL || b == NULL)
		return -1;
	if (arc_instance_parse(i, strlen(i), &sig->instance) < 0)
		*error_r = "bad i=";
	else if (parse_alg(a, &sig->alg) < 0)
		*error_r = "unknown a=";
	else if (!dkim_name_valid(d))
		*error_r = "bad d=";
	else if (!dkim_name_valid(s))
		*error_r = "bad s=";
	else if (t != NULL && !number_valid(t))
		*error_r = "bad t=";
	else if (b64_tag(b, sig->sig, sizeof(sig->sig), &sig->sig_len) < 0)
		*error_r = "bad b=";
	else {
		sig->domain = xstrdup(d);
		sig->selector = xstrdup(s);
		locate_b(value, len, b, sig);
		return 0;
	}
	return -1;
}

static int parse_canon(const char *c, struct arc_sig *sig)
{
	const char *slash;

	/* c= absent: relaxed/relaxed. RFC 6376 says simple/simple, but the
	   ValiMail suite (ams_fields_c_na) and dkimpy take relaxed for ARC */
	sig->header_canon = sig->body_canon = CANON_RELAXED;
	if (c == NULL)
		return 0;
	slash = strchr(c, '/');
	if (canon_alg_parse(c, slash != NULL ? (size_t)(slash - c) : strlen(c),
	                    &sig->header_canon) < 0)
		return -1;
	return slash == NULL ? 0 : canon_alg_parse(slash + 1, strlen(slash + 1), &sig->body_canon);
}

/* h=: colon-separated names, FWS around them ignored; ARC-Seal forbidden
   (RFC 8617 4.1.2). An empty h= signs no field. */
static int parse_headers(const char *h, struct arc_sig *sig)
{
	const char *p = h;

	if (h[strspn(h, " \t\r\n")] == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ':'), *s = p, *e;

		if (end == NULL)
			end = p + strlen(p);
		for (e = end; s < e && is_fws(*s);)
			s++;
		while (e > s && is_fws(e[-1]))
			e--;
		if (sig->headers.count == DKIM_MAX_SIGNED_HEADERS)
			return -1;
		if (e == s) {
			/* "from::to": an empty name signs nothing (the suite's
			   ams_fields_h_mis_hdr passes) */
			if (*end == '\0')
				return 0;
			p = end + 1;
			continue;
		}
		array_append(&sig->headers, xstrndup(s, (size_t)(e - s)));
		if (strncasecmp(s, "arc-seal", (size_t)(e - s)) == 0 && e - s == 8)
			return -1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int ams_tags(const struct tag_list *tags, struct arc_sig *sig, const char **error_r)
{
	const char *h = tag_list_value(tags, "h");
	const struct tag *bh = tag_list_get(tags, "bh");

	*error_r = "missing required tag";
	if (h == NULL || bh == NULL)
		return -1;
	if (parse_canon(tag_list_value(tags, "c"), sig) < 0)
		*error_r = "bad c=";
	else if (parse_headers(h, sig) < 0)
		*error_r = "bad h=";
	else if (b64_tag(bh, sig->body_hash, sizeof(sig->body_hash), &sig->body_hash_len) < 0)
		*error_r = "bad bh=";
	else
		return 0;
	return -1;
}

static int parse_sig(const char *value, size_t len, bool seal, struct arc_sig **sig_r,
                     const char **error_r)
{
	struct tag_list tags = {0};
	struct arc_sig *sig = xcalloc(1, sizeof(*sig));
	int ret = tag_list_parse(value, len, &tags, error_r);

	if (ret == 0)
		ret = common_tags(value, len, &tags, sig, error_r);
	if (ret == 0 && !seal)
		ret = ams_tags(&tags, sig, error_r);
	if (ret == 0 && seal) {
		const char *cv = tag_list_value(&tags, "cv");

		ret = -1;
		if (tag_list_get(&tags, "h") != NULL)
			*error_r = "h= in ARC-Seal";
		else if (cv == NULL)
			*error_r = "missing cv=";
		else if (strcmp(cv, "none") == 0 || strcmp(cv, "pass") == 0 ||
		         strcmp(cv, "fail") == 0)
			ret = 0, sig->cv = cv[0] == 'n'   ? ARC_CV_NONE
			                   : cv[0] == 'p' ? ARC_CV_PASS
			                                  : ARC_CV_FAIL;
		else
			*error_r = "bad cv=";
	}
	tag_list_free(&tags);
	if (ret < 0)
		arc_sig_free(&sig);
	*sig_r = sig;
	return ret;
}

int arc_ams_parse(const char *value, size_t len, struct arc_sig **sig_r, const char **error_r)
{
	return parse_sig(value, len, false, sig_r, error_r);
}

int arc_seal_parse(const char *value, size_t len, struct arc_sig **sig_r, const char **error_r)
{
	return parse_sig(value, len, true, sig_r, error_r);
}

void arc_sig_free(struct arc_sig **sigp)
{
	struct arc_sig *sig = *sigp;

	if (sig == NULL)
		return;
	for (size_t i = 0; i < sig->headers.count; i++)
		free(sig->headers.items[i]);
	array_free(&sig->headers);
	free(sig->domain);
	free(sig->selector);
	free(sig);
	*sigp = NULL;
}

/* i= of an AMS that is not the newest: only its instance matters (5.2). */
static int ams_instance(const char *value, size_t len, unsigned *instance_r)
{
	struct tag_list tags = {0};
	const char *error, *i;
	int ret = tag_list_parse(value, len, &tags, &error);

	if (ret == 0) {
		i = tag_list_value(&tags, "i");
		ret = i == NULL ? -1 : arc_instance_parse(i, strlen(i), instance_r);
	}
	tag_list_free(&tags);
	return ret;
}

enum arc_kind { ARC_AAR, ARC_AMS, ARC_AS };

static int field_kind(const struct dkim_headers *h, size_t i)
{
	if (dkim_field_is(h, i, "ARC-Authentication-Results"))
		return ARC_AAR;
	if (dkim_field_is(h, i, "ARC-Message-Signature"))
		return ARC_AMS;
	if (dkim_field_is(h, i, "ARC-Seal"))
		return ARC_AS;
	return -1;
}

/* Place field i (of kind) in its set. Returns 0 or -1 with *error_r. */
static int add_field(const struct dkim_headers *h, size_t i, int kind, struct arc_chain *chain,
                     const char **error_r)
{
	size_t len, *slot;
	const char *value = dkim_field_value(h, i, &len);
	struct arc_sig *seal = NULL;
	unsigned inst = 0;
	int ret;

	if (kind == ARC_AAR)
		ret = arc_aar_instance(value, len, &inst);
	else if (kind == ARC_AMS)
		ret = ams_instance(value, len, &inst);
	else if ((ret = arc_seal_parse(value, len, &seal, error_r)) == 0)
		inst = seal->instance;
	if (ret < 0) {
		chain->bad_instance = true;
		if (kind != ARC_AS)
			*error_r = kind == ARC_AAR ? "bad AAR instance" : "bad AMS instance";
		return -1;
	}
	slot = kind == ARC_AAR   ? &chain->sets[inst - 1].aar
	       : kind == ARC_AMS ? &chain->sets[inst - 1].ams
	                         : &chain->sets[inst - 1].as;
	if (*slot != SIZE_MAX) {
		arc_sig_free(&seal);
		chain->bad_instance = true;
		*error_r = "duplicate ARC set member";
		return -1;
	}
	*slot = i;
	if (seal != NULL)
		chain->sets[inst - 1].seal = seal;
	if (inst > chain->count)
		chain->count = inst;
	return 0;
}

/* 5.2 step 3: sets 1..N complete, cv none for 1 and pass above. */
static int check_sets(const struct arc_chain *chain, const char **error_r)
{
	for (unsigned i = 0; i < chain->count; i++) {
		const struct arc_set *set = &chain->sets[i];

		if (set->aar == SIZE_MAX || set->ams == SIZE_MAX || set->as == SIZE_MAX) {
			*error_r = "incomplete ARC set";
			return -1;
		}
		if (set->seal->cv != (i == 0 ? ARC_CV_NONE : ARC_CV_PASS)) {
			*error_r = i == 0 ? "cv of instance 1 not none" : "cv not pass";
			return -1;
		}
	}
	return 0;
}

int arc_chain_build(const struct dkim_headers *h, struct arc_chain *chain, const char **error_r)
{
	struct arc_set *top;
	size_t len;
	const char *value;
	bool any = false;

	memset(chain, 0, sizeof(*chain));
	for (unsigned i = 0; i < ARC_MAX_SETS; i++)
		chain->sets[i].aar = chain->sets[i].ams = chain->sets[i].as = SIZE_MAX;
	for (size_t i = 0; i < h->fields.count; i++) {
		int kind = field_kind(h, i);

		if (kind < 0)
			continue;
		any = true;
		if (add_field(h, i, kind, chain, error_r) < 0)
			return -1;
	}
	if (!any)
		return 0;
	top = &chain->sets[chain->count - 1];
	chain->top_fail = top->seal != NULL && top->seal->cv == ARC_CV_FAIL;
	if (chain->top_fail) {
		*error_r = "newest seal says cv=fail";
		return -1;
	}
	if (check_sets(chain, error_r) < 0)
		return -1;
	value = dkim_field_value(h, top->ams, &len);
	return arc_ams_parse(value, len, &top->msig, error_r) < 0 ? -1 : 1;
}

unsigned arc_chain_next_instance(const struct arc_chain *chain, int ret)
{
	if (ret == 0)
		return 1;
	if (chain->bad_instance || chain->top_fail || chain->count >= ARC_MAX_SETS)
		return 0;
	return chain->count + 1;
}

void arc_chain_free(struct arc_chain *chain)
{
	for (unsigned i = 0; i < ARC_MAX_SETS; i++) {
		arc_sig_free(&chain->sets[i].seal);
		arc_sig_free(&chain->sets[i].msig);
	}
	chain->count = 0;
}

/* Canonical form (relaxed) of field with value bytes [b_start, b_end)
   removed; value_off is where the value starts in field. */
static void canon_without_b(const char *field, size_t len, size_t value_off, size_t b_start,
                            size_t b_end, struct buf *out)
{
	struct buf tmp = BUF_INIT;

	buf_append(&tmp, field, value_off + b_start);
	buf_append(&tmp, field + value_off + b_end, len - value_off - b_end);
	canon_header(CANON_RELAXED, tmp.data, tmp.len, false, out);
	buf_free(&tmp);
}

void arc_seal_input(const char *const *fields, const size_t *lens, unsigned i, size_t seal_b_start,
                    size_t seal_b_end, struct buf *out)
{
	for (unsigned j = 0; j < i; j++) {
		for (unsigned k = 0; k < 3; k++) {
			const char *f = fields[3 * j + k];
			size_t n = lens[3 * j + k];
			const char *colon = memchr(f, ':', n);

			if (j + 1 == i && k == 2)
				canon_without_b(f, n, (size_t)(colon - f) + 1, seal_b_start,
				                seal_b_end, out);
			else
				canon_header(CANON_RELAXED, f, n, true, out);
		}
	}
}

bool arc_crypto_verify(enum dkim_alg alg, EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len,
                       const struct buf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t digest[32];
	bool ok;

	if (ctx == NULL)
		abort();
	if (alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash of the data */
		EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig, sig_len, digest, sizeof(digest)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)data->data, data->len) ==
		         1;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}
