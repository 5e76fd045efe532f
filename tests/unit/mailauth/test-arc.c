/* Unit tests for src/mailauth/arc*.c: instance numbers, the AAR prefix,
   AMS/AS parsing, the chain structure (ordering, duplicates, gaps, cv
   rules, more than 50 sets), and seal-then-verify on a zone table with
   RSA and Ed25519 keys, byte-at-a-time, with tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns-zone.h"
#include "lib/xalloc.h"
#include "mailauth/arc-private.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-keystore.h"

static const char message[] = "From: Joe <joe@example.com>\r\n"
                              "To: list@example.net\r\n"
                              "Subject: Is dinner ready?\r\n"
                              "Authentication-Results: mx.example.net; spf=pass "
                              "smtp.mailfrom=example.com;\r\n"
                              "\tdkim=pass header.d=example.com\r\n"
                              "Authentication-Results: other.example; dkim=fail\r\n"
                              "\r\n"
                              "Hi.\r\n"
                              "\r\n"
                              "We lost the game.\r\n";

static void test_instance(void **state)
{
	unsigned i = 0;

	(void)state;
	assert_int_equal(arc_instance_parse("1", 1, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(arc_instance_parse("50", 2, &i), 0);
	assert_int_equal(i, 50);
	assert_int_equal(arc_instance_parse("0", 1, &i), -1);
	assert_int_equal(arc_instance_parse("51", 2, &i), -1);
	assert_int_equal(arc_instance_parse("01", 2, &i), -1);
	assert_int_equal(arc_instance_parse("a", 1, &i), -1);
	assert_int_equal(arc_instance_parse("", 0, &i), -1);
	assert_int_equal(arc_instance_parse("100", 3, &i), -1);
}

static int aar(const char *v, unsigned *i)
{
	return arc_aar_instance(v, strlen(v), i);
}

static void test_aar_instance(void **state)
{
	unsigned i = 0;

	(void)state;
	assert_int_equal(aar("i=1; mx.example; none", &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(aar(" i = 7 ;x", &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(aar("\r\n\ti=2;", &i), 0);
	assert_int_equal(aar("i=1 mx.example;", &i), -1);
	assert_int_equal(aar("mx.example; i=1;", &i), -1);
	assert_int_equal(aar("i=1", &i), -1);
	assert_int_equal(aar("i=;", &i), -1);
	assert_int_equal(aar("I=1;", &i), -1);
	assert_int_equal(aar("", &i), -1);
}

static int seal(const char *v)
{
	struct arc_sig *sig = NULL;
	const char *error;
	int ret = arc_seal_parse(v, strlen(v), &sig, &error);

	assert_true(ret == 0 ? sig != NULL : sig == NULL);
	arc_sig_free(&sig);
	return ret;
}

static int ams(const char *v, size_t *count_r)
{
	struct arc_sig *sig = NULL;
	const char *error;
	int ret = arc_ams_parse(v, strlen(v), &sig, &error);

	if (ret == 0)
		*count_r = sig->headers.count;
	arc_sig_free(&sig);
	return ret;
}

static void test_sig_parse(void **state)
{
	size_t n = 0;

	(void)state;
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA"), 0);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA; t=12"), 0);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=None; d=example.org; s=s; b=AAAA"), -1);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA; h=x"), -1);
	assert_int_equal(seal("i=1; a=rsa-sha1; cv=none; d=example.org; s=s; b=AAAA"), -1);
	assert_int_equal(seal("i=1; a=rsa-sha256; d=example.org; s=s; b=AAAA"), -1);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=exa$mple.org; s=s; b=AAAA"), -1);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b="), -1);
	assert_int_equal(seal("i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA; t="), -1);
	assert_int_equal(seal("i=1; i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA"), -1);
	assert_int_equal(seal("i=1;; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA"), -1);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=from:to; bh=AAAA; b=AAAA", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=; bh=AAAA; b=AAAA", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=a::b; bh=AAAA; b=AAAA", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=from : to; c=simple/relaxed; "
	                     "bh=AAAA; b=AAAA",
	                     &n),
	                 0);
	assert_int_equal(
	    ams("i=1; a=rsa-sha256; d=e.org; s=s; h=from:ARC-Seal; bh=AAAA; b=AAAA", &n), -1);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; bh=AAAA; b=AAAA", &n), -1);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=from; c=; bh=AAAA; b=AAAA", &n),
	                 -1);
	assert_int_equal(ams("i=1; a=rsa-sha256; d=e.org; s=s; h=from; bh=; b=AAAA", &n), -1);
	assert_int_equal(ams("i=0; a=rsa-sha256; d=e.org; s=s; h=from; bh=AAAA; b=AAAA", &n), -1);
}

/* Append an ARC set of instance i with cv to b (signatures are dummies:
   only the structure is judged here). */
static void add_set(struct buf *b, unsigned i, const char *cv)
{
	buf_printf(b, "ARC-Seal: i=%u; a=rsa-sha256; cv=%s; d=example.org; s=s; b=AAAA\r\n", i, cv);
	buf_printf(b,
	           "ARC-Message-Signature: i=%u; a=rsa-sha256; d=example.org; s=s; h=from; "
	           "bh=AAAA; b=AAAA\r\n",
	           i);
	buf_printf(b, "ARC-Authentication-Results: i=%u; mx.example.org; none\r\n", i);
}

/* arc_chain_build() on the header section in b; *next_r the next
   instance. */
static int build(struct buf *b, unsigned *next_r)
{
	struct dkim_headers h = {0};
	struct arc_chain chain;
	const char *error = NULL;
	int ret;

	buf_append_str(b, "From: a@example.org\r\n\r\nbody\r\n");
	/* byte at a time */
	for (size_t i = 0; i < b->len && !h.done; i++)
		assert_true(dkim_headers_feed(&h, b->data + i, 1) >= 0);
	ret = arc_chain_build(&h, &chain, &error);
	assert_true(ret != -1 || error != NULL);
	*next_r = arc_chain_next_instance(&chain, ret);
	arc_chain_free(&chain);
	dkim_headers_free(&h);
	buf_clear(b);
	return ret;
}

static void test_chain_structure(void **state)
{
	struct buf b = BUF_INIT;
	unsigned next = 0;

	(void)state;
	assert_int_equal(build(&b, &next), 0); /* no ARC field: none */
	assert_int_equal(next, 1);
	add_set(&b, 1, "none");
	assert_int_equal(build(&b, &next), 1);
	assert_int_equal(next, 2);
	/* order of the sets in the header does not matter, i= does */
	add_set(&b, 1, "none");
	add_set(&b, 2, "pass");
	assert_int_equal(build(&b, &next), 1);
	assert_int_equal(next, 3);
	add_set(&b, 1, "none"); /* duplicate instance */
	add_set(&b, 1, "none");
	assert_int_equal(build(&b, &next), -1);
	assert_int_equal(next, 0);
	add_set(&b, 1, "none"); /* gap: no 2 */
	add_set(&b, 3, "pass");
	assert_int_equal(build(&b, &next), -1);
	add_set(&b, 1, "pass"); /* instance 1 must say none */
	assert_int_equal(build(&b, &next), -1);
	add_set(&b, 1, "none"); /* above 1, pass */
	add_set(&b, 2, "none");
	assert_int_equal(build(&b, &next), -1);
	add_set(&b, 1, "none"); /* the newest says fail: fail, seal no more */
	add_set(&b, 2, "fail");
	assert_int_equal(build(&b, &next), -1);
	assert_int_equal(next, 0);
	buf_append_str(&b, "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=AAAA\r\n");
	assert_int_equal(build(&b, &next), -1); /* incomplete set */
	buf_append_str(&b, "ARC-Authentication-Results: mx.example.org; i=1; none\r\n");
	assert_int_equal(build(&b, &next), -1);
	for (unsigned i = 1; i <= ARC_MAX_SETS; i++)
		add_set(&b, i, i == 1 ? "none" : "pass");
	assert_int_equal(build(&b, &next), 1);
	assert_int_equal(next, 0); /* 50 sets: no room for another */
	for (unsigned i = 1; i <= ARC_MAX_SETS + 1; i++)
		add_set(&b, i, i == 1 ? "none" : "pass");
	assert_int_equal(build(&b, &next), -1); /* 51 sets */
	buf_free(&b);
}

static struct dns_zone *zone_with(EVP_PKEY *pkey)
{
	struct dns_zone *zone = dns_zone_new();
	char *txt = dkim_key_txt_record(pkey), *line = dkim_txt_zone_line("example.org", "s", txt);
	const char *error;

	if (dns_zone_add_line(zone, line, strlen(line), &error) < 0)
		fail_msg("zone: %s", error);
	free(txt);
	free(line);
	return zone;
}

static enum arc_cv verify(const struct dns_zone *zone, const char *msg, unsigned *next_r)
{
	struct arc_verifier *v = arc_verifier_new(0);
	const char *name, *error;
	enum arc_cv cv;

	for (size_t i = 0; msg[i] != '\0'; i++)
		assert_int_equal(arc_verifier_feed(v, msg + i, 1, &error), 0);
	arc_verifier_finish(v);
	while (arc_verifier_run(v, &name) == 1) {
		struct dns_answer *a = dns_zone_lookup(zone, name, DNS_TYPE_TXT);

		arc_verifier_answer(v, name, a);
		dns_answer_free(&a);
	}
	cv = arc_verifier_result(v, NULL);
	*next_r = arc_verifier_next_instance(v);
	arc_verifier_free(&v);
	return cv;
}

/* Verify msg, seal it, return the sealed message (malloc'ed). */
static char *verify_and_seal(const struct dns_zone *zone, EVP_PKEY *key, const char *msg,
                             enum arc_cv expect)
{
	struct arc_seal_params p = {.domain = "example.org",
	                            .selector = "s",
	                            .key = key,
	                            .authserv_id = "mx.example.net",
	                            .now = 1700000000};
	struct arc_sealer *sealer = NULL;
	const char *error;
	char *fields, *out;
	unsigned next;
	enum arc_cv cv = verify(zone, msg, &next);

	assert_int_equal(cv, expect);
	assert_int_equal(arc_sealer_new(&p, &sealer, &error), 0);
	assert_int_equal(arc_sealer_feed(sealer, msg, strlen(msg), &error), 0);
	assert_int_equal(arc_sealer_finish(sealer, cv, next, &fields, &error), 1);
	assert_non_null(strstr(fields, "spf=pass smtp.mailfrom=example.com"));
	assert_null(strstr(fields, "dkim=fail"));
	out = xasprintf("%s%s", fields, msg);
	free(fields);
	arc_sealer_free(&sealer);
	return out;
}

static void roundtrip(EVP_PKEY *key)
{
	struct dns_zone *zone = zone_with(key);
	char *one = verify_and_seal(zone, key, message, ARC_CV_NONE);
	char *two = verify_and_seal(zone, key, one, ARC_CV_PASS), *p;
	unsigned next;

	assert_int_equal(verify(zone, two, &next), ARC_CV_PASS);
	assert_int_equal(next, 3);
	/* tampering with the body breaks the newest AMS */
	p = strstr(two, "lost");
	p[0] = 'L';
	assert_int_equal(verify(zone, two, &next), ARC_CV_FAIL);
	p[0] = 'l';
	/* tampering with the first AAR breaks the seals */
	p = strstr(two, "ARC-Authentication-Results: i=1");
	p = strstr(p, "spf=pass");
	p[4] = 'f';
	assert_int_equal(verify(zone, two, &next), ARC_CV_FAIL);
	free(one);
	free(two);
	dns_zone_free(&zone);
}

static void test_seal_verify(void **state)
{
	EVP_PKEY *rsa = NULL, *ed = NULL;
	const char *error;

	(void)state;
	assert_int_equal(dkim_key_generate(DKIM_KEY_RSA, 1024, &rsa, &error), 0);
	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &ed, &error), 0);
	roundtrip(rsa);
	roundtrip(ed);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

static void test_sealer_refuses(void **state)
{
	struct arc_seal_params p = {.domain = "example.org", .selector = "s"};
	struct arc_sealer *sealer = NULL;
	const char *error;
	char *fields = (char *)"x";

	(void)state;
	p.authserv_id = "mx.example.net";
	assert_int_equal(arc_sealer_new(&p, &sealer, &error), -1); /* no key */
	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &p.key, &error), 0);
	p.authserv_id = "bad id";
	assert_int_equal(arc_sealer_new(&p, &sealer, &error), -1);
	p.authserv_id = "mx.example.net";
	assert_int_equal(arc_sealer_new(&p, &sealer, &error), 0);
	assert_int_equal(arc_sealer_feed(sealer, message, strlen(message), &error), 0);
	/* instance 0: the chain must not get another set */
	assert_int_equal(arc_sealer_finish(sealer, ARC_CV_FAIL, 0, &fields, &error), 0);
	assert_null(fields);
	arc_sealer_free(&sealer);
	arc_sealer_free(&sealer);
	EVP_PKEY_free(p.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_instance),    cmocka_unit_test(test_aar_instance),
	    cmocka_unit_test(test_sig_parse),   cmocka_unit_test(test_chain_structure),
	    cmocka_unit_test(test_seal_verify), cmocka_unit_test(test_sealer_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
