/* Unit tests for src/mailauth/mailauth.c: the whole pipeline (SPF, DKIM,
   DMARC, ARC, the Authentication-Results value and the verdict facts) on
   an event-loop resolver answering from a zone file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dns/dns-resolver.h"
#include "lib/xalloc.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"
#include "mailauth/dkim.h"
#include "mailauth/mailauth.h"
#include "mailauth/psl.h"

struct fixture {
	char path[64];
	EVP_PKEY *key;
	struct event_base *base;
	struct dns_resolver *resolver;
	struct psl *psl;
	int done;
};

static const char message[] = "From: Bob <bob@signed.test>\r\n"
                              "To: Alice <alice@example.test>\r\n"
                              "Subject: pipeline\r\n"
                              "\r\n"
                              "Hello.\r\n";

static void write_zone(struct fixture *f)
{
	char *txt = dkim_key_txt_record(f->key);
	char *k1 = dkim_txt_zone_line("signed.test", "s", txt);
	char *k2 = dkim_txt_zone_line("sealer.test", "s", txt);
	FILE *out;
	int fd;

	strcpy(f->path, "/tmp/test-mailauth-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	out = fdopen(fd, "w");
	fprintf(out, "%s\n%s\n", k1, k2);
	fputs("signed.test TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
	      "_dmarc.signed.test TXT \"v=DMARC1; p=reject\"\n"
	      "slow.test TIMEOUT\n",
	      out);
	fclose(out);
	free(txt);
	free(k1);
	free(k2);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct dns_resolver_settings settings = {.zone_file = f->path, .timeout_msecs = 200};
	const char *error;
	char *rerror = NULL;

	assert_int_equal(dkim_key_generate(DKIM_KEY_ED25519, 0, &f->key, &error), 0);
	write_zone(f);
	f->base = event_base_new();
	assert_int_equal(dns_resolver_new(f->base, &settings, &f->resolver, &rerror), 0);
	f->psl = psl_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_resolver_free(&f->resolver);
	event_base_free(f->base);
	psl_free(&f->psl);
	EVP_PKEY_free(f->key);
	unlink(f->path);
	free(f);
	return 0;
}

/* The message with a DKIM signature of signed.test in front. */
static char *signed_message(struct fixture *f, const char *msg)
{
	struct dkim_sign_params params = {.domain = "signed.test", .selector = "s", .key = f->key};
	struct dkim_signer *signer;
	const char *error;
	char *field, *out;

	assert_int_equal(dkim_signer_new(&params, &signer, &error), 0);
	assert_int_equal(dkim_signer_feed(signer, msg, strlen(msg), &error), 0);
	assert_int_equal(dkim_signer_finish(signer, &field, &error), 0);
	dkim_signer_free(&signer);
	out = xasprintf("%s%s", field, msg);
	free(field);
	return out;
}

static void done(void *context)
{
	struct fixture *f = context;

	f->done++;
}

static struct mailauth *new_pipeline(struct fixture *f, const char *ip)
{
	struct mailauth_params params = {
	    .ip = ip,
	    .helo = "client.test",
	    .mail_from = "bob@signed.test",
	    .authserv_id = "mx.test",
	    .psl = f->psl,
	    .spf = true,
	    .dkim = true,
	    .dmarc = true,
	    .arc = true,
	    .dmarc_sample = 0,
	};

	f->done = 0;
	return mailauth_new(&params, f->resolver, f->base);
}

/* Finish and run the loop until done; the A-R value, one line. */
static char *finish(struct fixture *f, struct mailauth *ma)
{
	struct buf out = BUF_INIT;

	mailauth_finish(ma, done, f);
	assert_int_equal(f->done, 0); /* never from inside finish */
	while (f->done == 0 && event_base_loop(f->base, EVLOOP_ONCE) == 0)
		;
	assert_int_equal(f->done, 1);
	assert_true(mailauth_is_done(ma));
	mailauth_write_value(ma, &out, false);
	buf_append(&out, "", 1);
	return out.data;
}

static char *run_message(struct fixture *f, const char *ip, const char *msg, bool bytewise,
                         struct mailauth_facts *facts_r)
{
	struct mailauth *ma = new_pipeline(f, ip);
	const char *error;
	char *value;

	if (bytewise) {
		for (size_t i = 0; msg[i] != '\0'; i++)
			assert_int_equal(mailauth_feed(ma, msg + i, 1, &error), 0);
	} else {
		assert_int_equal(mailauth_feed(ma, msg, strlen(msg), &error), 0);
	}
	value = finish(f, ma);
	mailauth_get_facts(ma, facts_r);
	mailauth_free(&ma);
	assert_null(ma);
	return value;
}

static void test_signed_passes(void **state)
{
	struct fixture *f = *state;
	char *msg = signed_message(f, message);
	struct mailauth_facts facts;

	for (int bytewise = 0; bytewise < 2; bytewise++) {
		char *v = run_message(f, "192.0.2.9", msg, bytewise, &facts);

		assert_non_null(strstr(v, "mx.test; spf=fail"));
		assert_non_null(strstr(v, "smtp.mailfrom=bob@signed.test"));
		assert_non_null(strstr(v, "dkim=pass header.d=signed.test"));
		assert_non_null(strstr(v, "header.s=s header.a=ed25519-sha256"));
		assert_non_null(
		    strstr(v, "dmarc=pass (p=reject dis=none) header.from=signed.test"));
		assert_non_null(strstr(v, "; arc=none"));
		assert_true(facts.dmarc_checked && facts.any_pass);
		assert_int_equal(facts.dmarc, DMARC_RESULT_PASS);
		free(v);
	}
	free(msg);
}

static void test_body_changed_fails(void **state)
{
	struct fixture *f = *state;
	char *msg = signed_message(f, message);
	struct mailauth_facts facts;
	char *v;

	memcpy(strstr(msg, "Hello."), "Hallo!", 6);
	v = run_message(f, "192.0.2.9", msg, false, &facts);
	assert_non_null(strstr(v, "dkim=fail"));
	assert_non_null(strstr(v, "dmarc=fail (p=reject dis=reject)"));
	assert_true(facts.dmarc_checked && !facts.any_pass && !facts.temp_could_pass);
	assert_int_equal(facts.dmarc, DMARC_RESULT_FAIL);
	assert_int_equal(facts.disposition, DMARC_POLICY_REJECT);
	free(v);
	free(msg);
}

static void test_spf_pass_lf_line_ends(void **state)
{
	struct fixture *f = *state;
	struct mailauth_facts facts;
	char *v = run_message(f, "192.0.2.1", "From: bob@signed.test\nSubject: x\n\nbody\n", true,
	                      &facts);

	assert_non_null(strstr(v, "spf=pass"));
	assert_non_null(strstr(v, "dkim=none"));
	assert_non_null(strstr(v, "dmarc=pass"));
	assert_true(facts.any_pass);
	free(v);
}

/* A folded From with two addresses: DMARC sees both domains and reports
   the worse (docs/dmarc.md), here the second one's fail. */
static void test_from_folded(void **state)
{
	struct fixture *f = *state;
	struct mailauth_facts facts;
	char *v = run_message(f, "192.0.2.9",
	                      "Subject: x\r\nfrom: a@other.test,\r\n b@signed.test\r\n\r\nbody\r\n",
	                      false, &facts);

	assert_non_null(strstr(v, "dmarc=fail (p=reject dis=reject) header.from=signed.test"));
	free(v);
}

static void test_arc_sealed_passes(void **state)
{
	struct fixture *f = *state;
	struct arc_seal_params params = {
	    .domain = "sealer.test", .selector = "s", .key = f->key, .authserv_id = "sealer.test"};
	char *inner = signed_message(f, message);
	char *msg = xasprintf("Authentication-Results: sealer.test; dkim=pass\r\n%s", inner);
	struct arc_sealer *sealer;
	struct mailauth_facts facts;
	const char *error;
	char *fields, *sealed, *v;

	assert_int_equal(arc_sealer_new(&params, &sealer, &error), 0);
	assert_int_equal(arc_sealer_feed(sealer, msg, strlen(msg), &error), 0);
	assert_int_equal(arc_sealer_finish(sealer, ARC_CV_NONE, 1, &fields, &error), 1);
	arc_sealer_free(&sealer);
	sealed = xasprintf("%s%s", fields, msg);
	v = run_message(f, "192.0.2.9", sealed, false, &facts);
	assert_non_null(strstr(v, "arc=pass smtp.remote-ip=192.0.2.9"));
	free(v);
	/* a sealed header changed: the chain fails */
	memcpy(strstr(sealed, "Subject: pipeline"), "Subject: Pipeline", 17);
	v = run_message(f, "192.0.2.9", sealed, false, &facts);
	assert_non_null(strstr(v, "arc=fail"));
	free(v);
	free(fields);
	free(sealed);
	free(msg);
	free(inner);
}

static void test_checks_off_and_no_ip(void **state)
{
	struct fixture *f = *state;
	struct mailauth_params params = {.authserv_id = "mx.test", .spf = true};
	struct mailauth *ma = mailauth_new(&params, f->resolver, f->base);
	struct mailauth_facts facts;
	const char *error;
	char *v;

	assert_non_null(mailauth_spf_error(ma));
	assert_int_equal(mailauth_feed(ma, message, strlen(message), &error), 0);
	f->done = 0;
	v = finish(f, ma);
	assert_string_equal(v, "mx.test; spf=none (not checked); arc=none (not checked)");
	mailauth_get_facts(ma, &facts);
	assert_false(facts.dmarc_checked);
	free(v);
	mailauth_free(&ma);
	mailauth_free(&ma); /* NULL is fine */
}

static void test_header_limit(void **state)
{
	struct fixture *f = *state;
	struct mailauth_params params = {.authserv_id = "mx.test", .max_header_size = 64};
	struct mailauth *ma = mailauth_new(&params, f->resolver, f->base);
	const char *error = NULL;

	assert_int_equal(mailauth_feed(ma, message, strlen(message), &error), -1);
	assert_non_null(error);
	mailauth_free(&ma);
}

/* Freed while lookups are pending: no callback. */
static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct mailauth *ma = new_pipeline(f, "192.0.2.9");
	const char *error;

	assert_int_equal(mailauth_feed(ma, message, strlen(message), &error), 0);
	mailauth_finish(ma, done, f);
	mailauth_free(&ma);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->done, 0);
	assert_int_equal(dns_resolver_pending(f->resolver), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_signed_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_changed_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spf_pass_lf_line_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_folded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arc_sealed_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checks_off_and_no_ip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
