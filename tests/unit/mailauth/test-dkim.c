/* Unit tests for src/mailauth/dkim*.c: the DKIM-Signature and key record
   parsers, sign then verify with both algorithms on a zone table,
   byte-at-a-time feeding, tampering, RFC 8301 rules, the RFC 8463 A.3
   example (from ../shared/conformance when present). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns-zone.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"
#include "mailauth/dkim-verify.h"

#define NOW 1700000000

static const char message[] = "From: Joe <joe@example.com>\r\n"
                              "To: Suzie <suzie@example.net>\r\n"
                              "Subject: Is dinner ready?\r\n"
                              "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
                              "\r\n"
                              "Hi.\r\n"
                              "\r\n"
                              "We lost the game.  Are you hungry yet?\r\n"
                              "\r\n";

static EVP_PKEY *rsa_key, *ed_key;

static int setup(void **state)
{
	const char *error;

	if (dkim_key_generate(DKIM_KEY_RSA, 2048, &rsa_key, &error) < 0 ||
	    dkim_key_generate(DKIM_KEY_ED25519, 0, &ed_key, &error) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ed_key);
	return 0;
}

static void zone_add(struct dns_zone *zone, const char *line)
{
	const char *error;

	if (dns_zone_add_line(zone, line, strlen(line), &error) < 0)
		fail_msg("zone line %s: %s", line, error);
}

/* A zone publishing pkey as selector s of example.com. */
static void zone_key(struct dns_zone *zone, const char *s, EVP_PKEY *pkey)
{
	char *txt = dkim_key_txt_record(pkey), *line = dkim_txt_zone_line("example.com", s, txt);

	zone_add(zone, line);
	free(line);
	free(txt);
}

static char *sign(const char *msg, EVP_PKEY *key, const char *selector)
{
	struct dkim_sign_params params = {
	    .domain = "example.com", .selector = selector, .key = key, .now = NOW};
	struct dkim_signer *signer;
	const char *error;
	char *field, *signed_msg;

	assert_int_equal(dkim_signer_new(&params, &signer, &error), 0);
	assert_int_equal(dkim_signer_feed(signer, msg, strlen(msg), &error), 0);
	if (dkim_signer_finish(signer, &field, &error) < 0)
		fail_msg("sign: %s", error);
	dkim_signer_free(&signer);
	signed_msg = xasprintf("%s%s", field, msg);
	free(field);
	return signed_msg;
}

/* Verify msg fed step bytes at a time (0: at once), answering from zone. */
static struct dkim_verifier *verify(const char *msg, size_t step, const struct dns_zone *zone,
                                    time_t now)
{
	struct dkim_verifier *v = dkim_verifier_new(now);
	size_t len = strlen(msg);
	const char *error, *name;

	for (size_t i = 0; i < len; i += step == 0 ? len : step)
		assert_int_equal(dkim_verifier_feed(v, msg + i,
		                                    step == 0 || len - i < step ? len - i : step,
		                                    &error),
		                 0);
	dkim_verifier_finish(v);
	while (dkim_verifier_run(v, &name) == 1) {
		struct dns_answer *a = dns_zone_lookup(zone, name, DNS_TYPE_TXT);

		dkim_verifier_answer(v, name, a);
		dns_answer_free(&a);
	}
	return v;
}

static void expect(const char *msg, const struct dns_zone *zone, size_t index,
                   enum dkim_result want, const char *reason)
{
	for (size_t step = 0; step <= 1; step++) {
		struct dkim_verifier *v = verify(msg, step, zone, NOW + 10);
		const struct dkim_verdict *d;

		assert_true(dkim_verifier_count(v) > index);
		d = dkim_verifier_verdict(v, index);
		if (d->result != want ||
		    (reason != NULL && (d->reason == NULL || strcmp(d->reason, reason) != 0)))
			fail_msg("got %s (%s), want %s (%s)", dkim_result_name(d->result),
			         d->reason ? d->reason : "", dkim_result_name(want),
			         reason ? reason : "");
		dkim_verifier_free(&v);
	}
}

static void test_roundtrip(void **state)
{
	struct dns_zone *zone = dns_zone_new();
	char *rsa_msg, *ed_msg;

	zone_key(zone, "rsa", rsa_key);
	zone_key(zone, "ed", ed_key);
	rsa_msg = sign(message, rsa_key, "rsa");
	ed_msg = sign(message, ed_key, "ed");
	assert_non_null(strstr(rsa_msg, "a=rsa-sha256"));
	assert_non_null(strstr(ed_msg, "a=ed25519-sha256"));
	/* From is oversigned */
	assert_non_null(strstr(rsa_msg, "h=from:from:subject:date:to;"));
	expect(rsa_msg, zone, 0, DKIM_RESULT_PASS, NULL);
	expect(ed_msg, zone, 0, DKIM_RESULT_PASS, NULL);
	free(rsa_msg);
	free(ed_msg);
	dns_zone_free(&zone);
}

static void test_lf_input(void **state)
{
	/* signed with LF line ends, verified after SMTP made them CRLF */
	struct dns_zone *zone = dns_zone_new();
	char *lf = xstrdup(message), *signed_msg, *crlf;
	struct buf b = BUF_INIT;
	size_t j = 0;

	for (size_t i = 0; message[i] != '\0'; i++) {
		if (message[i] != '\r')
			lf[j++] = message[i];
	}
	lf[j] = '\0';
	zone_key(zone, "ed", ed_key);
	signed_msg = sign(lf, ed_key, "ed");
	expect(signed_msg, zone, 0, DKIM_RESULT_PASS, NULL);
	for (size_t i = 0; signed_msg[i] != '\0'; i++) {
		if (signed_msg[i] == '\n' && (i == 0 || signed_msg[i - 1] != '\r'))
			buf_append_char(&b, '\r');
		buf_append_char(&b, signed_msg[i]);
	}
	crlf = buf_steal(&b);
	expect(crlf, zone, 0, DKIM_RESULT_PASS, NULL);
	free(crlf);
	free(signed_msg);
	free(lf);
	dns_zone_free(&zone);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	assert_non_null(p);
	return xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static void test_tampering(void **state)
{
	struct dns_zone *zone = dns_zone_new();
	char *msg = sign(message, rsa_key, "rsa"), *bad;

	zone_key(zone, "rsa", rsa_key);
	bad = replace(msg, "We lost", "We won");
	expect(bad, zone, 0, DKIM_RESULT_FAIL, "body hash mismatch");
	free(bad);
	bad = replace(msg, "Subject: Is dinner", "Subject: Is lunch");
	expect(bad, zone, 0, DKIM_RESULT_FAIL, "signature mismatch");
	free(bad);
	/* relaxed tolerates whitespace changes */
	bad = replace(msg, "Subject: Is dinner", "Subject:  Is   dinner");
	expect(bad, zone, 0, DKIM_RESULT_PASS, NULL);
	free(bad);
	/* a second From is refused: oversigning, and RFC 6376 8.15 */
	bad = replace(msg, "To: Suzie", "From: evil@example.org\r\nTo: Suzie");
	expect(bad, zone, 0, DKIM_RESULT_PERMERROR, "several From fields");
	free(bad);
	free(msg);
	dns_zone_free(&zone);
}

static void test_key_problems(void **state)
{
	struct dns_zone *zone = dns_zone_new();
	char *msg = sign(message, rsa_key, "rsa"), *other;
	EVP_PKEY *small;
	const char *error;
	char *txt, *line;

	/* the wrong key */
	zone_key(zone, "rsa", ed_key);
	expect(msg, zone, 0, DKIM_RESULT_PERMERROR, "key type does not match a=");
	dns_zone_free(&zone);
	zone = dns_zone_new();
	zone_add(zone, "rsa._domainkey.example.com TXT \"v=DKIM1; k=rsa; p=\"");
	expect(msg, zone, 0, DKIM_RESULT_FAIL, "key revoked");
	dns_zone_free(&zone);
	zone = dns_zone_new();
	expect(msg, zone, 0, DKIM_RESULT_PERMERROR, "no key record");
	zone_add(zone, "rsa._domainkey.example.com TIMEOUT");
	dns_zone_free(&zone);
	zone = dns_zone_new();
	zone_add(zone, "rsa._domainkey.example.com SERVFAIL");
	expect(msg, zone, 0, DKIM_RESULT_TEMPERROR, NULL);
	dns_zone_free(&zone);
	/* RFC 8301 3.2: under 1024 bits fails */
	small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	assert_non_null(small);
	txt = dkim_key_txt_record(small);
	line = dkim_txt_zone_line("example.com", "rsa", txt);
	zone = dns_zone_new();
	zone_add(zone, line);
	expect(msg, zone, 0, DKIM_RESULT_FAIL, "key too small");
	struct dkim_sign_params params = {.domain = "example.com", .selector = "s", .key = small};
	struct dkim_signer *signer;
	assert_int_equal(dkim_signer_new(&params, &signer, &error), -1);
	free(txt);
	free(line);
	EVP_PKEY_free(small);
	dns_zone_free(&zone);
	/* another key of the right type */
	zone = dns_zone_new();
	other = sign(message, ed_key, "ed");
	EVP_PKEY *ed2;
	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &ed2, &error), 0);
	zone_key(zone, "ed", ed2);
	expect(other, zone, 0, DKIM_RESULT_FAIL, "signature mismatch");
	EVP_PKEY_free(ed2);
	free(other);
	free(msg);
	dns_zone_free(&zone);
}

static void test_signature_rules(void **state)
{
	struct dns_zone *zone = dns_zone_new();
	char *msg = sign(message, rsa_key, "rsa"), *bad;

	zone_key(zone, "rsa", rsa_key);
	bad = replace(msg, "a=rsa-sha256", "a=rsa-sha1");
	expect(bad, zone, 0, DKIM_RESULT_FAIL, "rsa-sha1 forbidden (RFC 8301)");
	free(bad);
	bad = replace(msg, "t=1700000000;", "t=1700000000; x=1700000005;");
	expect(bad, zone, 0, DKIM_RESULT_FAIL, "signature expired");
	free(bad);
	bad = replace(msg, "v=1;", "v=2;");
	expect(bad, zone, 0, DKIM_RESULT_PERMERROR, "signature version not 1");
	free(bad);
	bad = replace(msg, "h=from:from:", "h=");
	expect(bad, zone, 0, DKIM_RESULT_PERMERROR, "h= does not include From");
	free(bad);
	free(msg);
	dns_zone_free(&zone);
}

static void test_length_tag(void **state)
{
	/* l= longer than the body fails; l= shorter (reported as policy) is
	   tested with dkimpy's signatures in tests/e2e/test_dkim.py. */
	struct dns_zone *zone = dns_zone_new();
	char *msg, *withl;

	zone_key(zone, "ed", ed_key);
	msg = sign(message, ed_key, "ed");
	withl = replace(msg, "t=1700000000;", "t=1700000000; l=99999;");
	expect(withl, zone, 0, DKIM_RESULT_FAIL, "body shorter than l=");
	free(withl);
	free(msg);
	dns_zone_free(&zone);
}

static void test_key_flags(void **state)
{
	struct dns_zone *zone = dns_zone_new();
	char *msg, *txt = dkim_key_txt_record(ed_key), *line;
	struct dkim_sign_params params = {.domain = "example.com",
	                                  .selector = "ed",
	                                  .key = ed_key,
	                                  .identity = "joe@sub.example.com",
	                                  .now = NOW};
	struct dkim_signer *signer;
	const char *error;
	char *field;

	/* t=s: an i= in a subdomain is refused (RFC 6376 3.6.1) */
	line = xasprintf("ed._domainkey.example.com TXT \"%s; t=s\"", txt);
	zone_add(zone, line);
	assert_int_equal(dkim_signer_new(&params, &signer, &error), 0);
	assert_int_equal(dkim_signer_feed(signer, message, strlen(message), &error), 0);
	assert_int_equal(dkim_signer_finish(signer, &field, &error), 0);
	msg = xasprintf("%s%s", field, message);
	expect(msg, zone, 0, DKIM_RESULT_PERMERROR, "i= is a subdomain but the key has t=s");
	free(line);
	dns_zone_free(&zone);
	/* h= in the key without sha256 */
	zone = dns_zone_new();
	line = xasprintf("ed._domainkey.example.com TXT \"%s; h=sha1\"", txt);
	zone_add(zone, line);
	expect(msg, zone, 0, DKIM_RESULT_PERMERROR, "key h= excludes sha256");
	free(line);
	dns_zone_free(&zone);
	/* t=y is reported */
	zone = dns_zone_new();
	line = xasprintf("ed._domainkey.example.com TXT \"%s; t=y\"", txt);
	zone_add(zone, line);
	struct dkim_verifier *v = verify(msg, 0, zone, NOW);
	assert_int_equal(dkim_verifier_verdict(v, 0)->result, DKIM_RESULT_PASS);
	assert_true(dkim_verifier_verdict(v, 0)->testing);
	assert_string_equal(dkim_verifier_verdict(v, 0)->identity, "joe@sub.example.com");
	dkim_verifier_free(&v);
	free(line);
	dns_zone_free(&zone);
	dkim_signer_free(&signer);
	free(field);
	free(msg);
	free(txt);
}

static void test_message_limits(void **state)
{
	struct dkim_verifier *v = dkim_verifier_new(NOW);
	struct dns_zone *zone = dns_zone_new();
	struct buf big = BUF_INIT;
	const char *error, *reason, *name;
	char *msg = sign(message, ed_key, "ed"), *many;
	int ret = 0;

	/* an endless header section stops at the limit */
	for (int i = 0; i < 30000 && ret == 0; i++)
		ret = dkim_verifier_feed(
		    v, "X-Filler: 0123456789012345678901234567890123456789\r\n", 52, &error);
	assert_int_equal(ret, -1);
	dkim_verifier_finish(v);
	assert_int_equal(dkim_verifier_run(v, &name), 0);
	assert_int_equal(dkim_verifier_summary(v, &reason), DKIM_RESULT_PERMERROR);
	assert_string_equal(reason, "header section too large");
	dkim_verifier_free(&v);
	/* more than DKIM_MAX_SIGNATURES: the extra ones are not checked */
	zone_key(zone, "ed", ed_key);
	for (int i = 0; i < DKIM_MAX_SIGNATURES; i++)
		buf_append(&big, msg, (size_t)(strstr(msg, "From:") - msg));
	buf_append_str(&big, msg);
	many = buf_steal(&big);
	v = verify(many, 0, zone, NOW);
	assert_int_equal(dkim_verifier_count(v), DKIM_MAX_SIGNATURES + 1);
	assert_int_equal(dkim_verifier_verdict(v, 0)->result, DKIM_RESULT_PASS);
	assert_int_equal(dkim_verifier_verdict(v, DKIM_MAX_SIGNATURES)->result,
	                 DKIM_RESULT_PERMERROR);
	assert_int_equal(dkim_verifier_summary(v, NULL), DKIM_RESULT_PASS);
	dkim_verifier_free(&v);
	/* a message without signatures */
	v = verify(message, 1, zone, NOW);
	assert_int_equal(dkim_verifier_count(v), 0);
	assert_int_equal(dkim_verifier_summary(v, NULL), DKIM_RESULT_NONE);
	dkim_verifier_free(&v);
	free(many);
	free(msg);
	dns_zone_free(&zone);
}

static void test_signature_parse(void **state)
{
	static const char *const bad[] = {
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA",         /* no b= */
	    "v=1; a=rsa-sha512; d=example.com; s=x; h=from; bh=AAAA; b=AAAA", /* a= */
	    "v=1; a=rsa-sha256; c=loose; d=example.com; s=x; h=from; bh=AAAA; b=AAAA",
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=to; bh=AAAA; b=AAAA",
	    "v=1; a=rsa-sha256; d=example.com; i=a@example.org; s=x; h=from; bh=AAAA; b=AAAA",
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAA; b=AAAA",
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; t=5; x=4",
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; l=x",
	    "v=1; a=rsa-sha256; d=exa mple.com; s=x; h=from; bh=AAAA; b=AAAA",
	    "v=1; a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA; q=http",
	    "v=1 a=rsa-sha256; d=example.com; s=x; h=from; bh=AAAA; b=AAAA",
	};
	struct dkim_signature *sig;
	const char *error;
	const char *good = " v=1; a=ed25519-sha256; c=relaxed; d=Example.com;\r\n"
	                   " i=joe@sub.example.com; s=sel; h=From : To; l=10; t=5; x=6;\r\n"
	                   " bh=AAAA; b= YWJjZGVmZ2hpams=";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dkim_signature_parse(bad[i], strlen(bad[i]), &sig, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(sig);
	}
	assert_int_equal(dkim_signature_parse(good, strlen(good), &sig, &error), 0);
	assert_int_equal(sig->alg, DKIM_ALG_ED25519_SHA256);
	assert_int_equal(sig->header_canon, CANON_RELAXED);
	assert_int_equal(sig->body_canon, CANON_SIMPLE);
	assert_int_equal(sig->headers.count, 2);
	assert_string_equal(sig->headers.items[1], "To");
	assert_true(sig->has_length);
	assert_int_equal(sig->length, 10);
	assert_int_equal(sig->sig_len, 11);
	assert_string_equal(sig->header_b, "YWJjZGVm");
	assert_memory_equal(good + sig->b_start, " YWJj", 5);
	assert_int_equal(sig->b_end, strlen(good));
	dkim_signature_free(&sig);
	assert_null(sig);
}

static void test_key_parse(void **state)
{
	static const char *const bad[] = {
	    "v=DKIM1: k=rsa; p=AAAA", /* version with junk */
	    "k=rsa; v=DKIM1; p=",     /* v= not first */
	    "v=DKIM1; k=ed25519-sha256; p=AAAA",
	    "v=DKIM1; k=rsa",
	    "v=DKIM1; k=rsa; s=tlsrpt; p=",
	    "v=DKIM1; k=rsa; p=AAAA",
	    "v=DKIM1; k=ed25519; p=AAAA",
	    "",
	};
	const char *ed = "k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	struct dkim_key *key;
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dkim_key_parse(bad[i], strlen(bad[i]), &key, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(key);
	}
	assert_int_equal(dkim_key_parse(ed, strlen(ed), &key, &error), 0);
	assert_int_equal(key->type, DKIM_KEY_ED25519);
	assert_false(key->revoked);
	dkim_key_free(&key);
	ed = "v=DKIM1; h=sha1; t=y:s; p=";
	assert_int_equal(dkim_key_parse(ed, strlen(ed), &key, &error), 0);
	assert_true(key->revoked);
	assert_true(key->testing);
	assert_true(key->strict);
	assert_false(key->sha256_allowed);
	dkim_key_free(&key);
}

static void test_base64(void **state)
{
	uint8_t out[8];
	size_t len;

	assert_int_equal(dkim_base64_decode("YW Jj\r\n ZA==", 12, out, sizeof(out), &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(dkim_base64_decode("YWJjZA=", 7, out, sizeof(out), &len), -1);
	assert_int_equal(dkim_base64_decode("YW=jZA==", 8, out, sizeof(out), &len), -1);
	assert_int_equal(dkim_base64_decode("YWJjZGVmZ2hpams=", 16, out, sizeof(out), &len), -1);
}

static void test_keystore(void **state)
{
	char dir[] = "/tmp/tern-dkim-test-XXXXXX", *path, *sel, **sels;
	EVP_PKEY *loaded;
	const char *error;
	size_t count;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(dkim_key_store(dir, "example.com", "a1", ed_key, &path, &error), 0);
	free(path);
	assert_int_equal(dkim_key_store(dir, "example.com", "a1", ed_key, &path, &error), -1);
	assert_int_equal(dkim_key_store(dir, "../x", "a1", ed_key, &path, &error), -1);
	assert_int_equal(dkim_key_store(dir, "example.com", "b2", rsa_key, &path, &error), 0);
	free(path);
	dkim_key_selectors(dir, "example.com", &sels, &count);
	assert_int_equal(count, 2);
	assert_string_equal(sels[0], "a1");
	dkim_selectors_free(sels, count);
	assert_int_equal(dkim_key_find(dir, "example.com", NULL, &loaded, &sel, &error), 0);
	assert_string_equal(sel, "b2");
	assert_int_equal(EVP_PKEY_eq(loaded, rsa_key), 1);
	free(sel);
	EVP_PKEY_free(loaded);
	assert_int_equal(dkim_key_find(dir, "example.org", NULL, &loaded, &sel, &error), -1);
	char *cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_txt_line(void **state)
{
	char txt[600], *line;

	memset(txt, 'a', sizeof(txt) - 1);
	txt[sizeof(txt) - 1] = '\0';
	line = dkim_txt_zone_line("example.com", "s", txt);
	/* three strings of at most 255 bytes */
	assert_non_null(strstr(line, "s._domainkey.example.com. IN TXT \""));
	assert_int_equal(strlen(line), strlen("s._domainkey.example.com. IN TXT") + 599 + 9);
	free(line);
}

static void test_rfc8463(void **state)
{
	const char *src = getenv("TERN_SRCDIR");
	char *path, *msg, *zpath, *error;
	size_t len;
	struct dns_zone *zone;

	if (src == NULL)
		skip();
	path = xasprintf("%s/../shared/conformance/dkim/rfc8463/rfc8463-A.3.signed.eml", src);
	zpath = xasprintf("%s/../shared/conformance/dkim/rfc8463/zone.txt", src);
	if (read_file(path, 1 << 20, &msg, &len) < 0) {
		free(path);
		free(zpath);
		skip();
	}
	zone = dns_zone_new();
	FILE *f = fopen(zpath, "r");
	char line[4096];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '$')
			zone_add(zone, line);
	}
	if (f != NULL)
		fclose(f);
	expect(msg, zone, 0, DKIM_RESULT_PASS, NULL);
	expect(msg, zone, 1, DKIM_RESULT_PASS, NULL);
	(void)error;
	dns_zone_free(&zone);
	free(msg);
	free(path);
	free(zpath);
}

/* The one name check for d=, s=, tern dkim and the key store. */
static void test_name_valid(void **state)
{
	static const char *const good[] = {
	    "example.org",
	    "s",
	    "tern202612",
	    "sel_1.sub",
	    "_dmarc",
	    "xn--bcher-kva.example",
	    "b\xc3\xbc"
	    "cher.example",
	    "a-b.c_d",
	    "-leading-hyphen",
	    "1.2.3.4",
	};
	static const char *const bad[] = {
	    "",       ".",   "..",  ".example.org", "example..org", "example.org.", "a/b",
	    "../etc", "a b", "a;b", "a=b",          "a\tb",         "a@b",
	};
	char label[70], name[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(dkim_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(dkim_name_valid(bad[i]));
	assert_false(dkim_name_valid(NULL));
	/* 63 bytes a label, 253 in all */
	memset(label, 'a', 63);
	label[63] = '\0';
	assert_true(dkim_name_valid(label));
	label[63] = 'a';
	label[64] = '\0';
	assert_false(dkim_name_valid(label));
	memset(name, 'a', 253);
	for (size_t i = 50; i < 253; i += 50)
		name[i] = '.';
	name[253] = '\0';
	assert_true(dkim_name_valid(name));
	name[253] = 'a';
	name[254] = '\0';
	assert_false(dkim_name_valid(name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_lf_input),
	    cmocka_unit_test(test_tampering),       cmocka_unit_test(test_key_problems),
	    cmocka_unit_test(test_signature_rules), cmocka_unit_test(test_length_tag),
	    cmocka_unit_test(test_key_flags),       cmocka_unit_test(test_message_limits),
	    cmocka_unit_test(test_signature_parse), cmocka_unit_test(test_key_parse),
	    cmocka_unit_test(test_base64),          cmocka_unit_test(test_keystore),
	    cmocka_unit_test(test_txt_line),        cmocka_unit_test(test_rfc8463),
	    cmocka_unit_test(test_name_valid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
