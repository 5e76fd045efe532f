/* Unit tests for src/queue/queue-json.c: string escaping (quotes,
   controls, UTF-8 kept, bytes that are not UTF-8 replaced) and the entry
   object of `tern queue list --json` / `show --json`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "queue/queue-json.h"
#include "queue/queue-state.h"
#include "queue/spool-envelope.h"

static char *json_of(const char *s)
{
	struct buf b = BUF_INIT;
	char *out;

	queue_json_string(&b, s);
	out = xstrndup(b.data, b.len);
	buf_free(&b);
	return out;
}

static void check(const char *in, const char *want)
{
	char *got = json_of(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_string(void **state)
{
	(void)state;
	check(NULL, "null");
	check("", "\"\"");
	check("a\"b\\c", "\"a\\\"b\\\\c\"");
	check("tab\there\r\n\x7f", "\"tab\\u0009here\\u000d\\u000a\\u007f\"");
	check("caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");
	/* a lone continuation byte, a truncated sequence, an overlong one */
	check("x\x80y", "\"x\\ufffdy\"");
	check("x\xe2\x82", "\"x\\ufffd\\ufffd\"");
	check("\xc0\xaf", "\"\\ufffd\\ufffd\"");
}

static void sample(struct spool_envelope *env, struct queue_state *st)
{
	const char *state = "attempt 1764766000 rcpt=0 code=451 status=4.4.1 next=1764766300 "
	                    "mx=mx.other.test ip=127.0.0.2 tls=none text=try%20later\n"
	                    "done 1764766000 rcpt=1 code=250 status=2.0.0\n"
	                    "hold 1764766010\n";

	memset(env, 0, sizeof(*env));
	env->id = xstrdup("0661ba2fed5bf4f1dab2cf1f");
	env->arrival = 1764766000;
	env->size = 1234;
	env->sender = xstrdup("alice@example.org");
	env->client_ip = xstrdup("192.0.2.7");
	env->envid = xstrdup("QQ\"1");
	spool_envelope_add_rcpt(env, "bob@other.test", SPOOL_NOTIFY_DELAY, NULL, NULL,
	                        "fwd@example.org");
	spool_envelope_add_rcpt(env, "carol@other.test", 0, "rfc822", "carol@other.test", NULL);
	queue_state_parse(state, strlen(state), 2, st);
}

static void test_entry(void **state)
{
	struct spool_envelope env;
	struct queue_state st;
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	sample(&env, &st);
	queue_json_entry(&b, &env, &st, false);
	s = xstrndup(b.data, b.len);
	assert_string_equal(
	    s, "{\"id\": \"0661ba2fed5bf4f1dab2cf1f\", \"arrival\": 1764766000, "
	       "\"arrival_utc\": \"2025-12-03T12:46:40Z\", \"size\": 1234, "
	       "\"sender\": \"alice@example.org\", \"held\": true, \"held_since\": 1764766010, "
	       "\"warned\": 0, \"recipients\": ["
	       "{\"address\": \"bob@other.test\", \"status\": \"pending\", \"attempts\": 1, "
	       "\"last\": 1764766000, \"next\": 1764766300, \"code\": 451, \"enhanced\": "
	       "\"4.4.1\", \"text\": \"try later\", \"mx\": \"mx.other.test\", \"ip\": "
	       "\"127.0.0.2\", \"tls\": \"none\"}, "
	       "{\"address\": \"carol@other.test\", \"status\": \"done\", \"attempts\": 1, "
	       "\"last\": 1764766000, \"next\": 0, \"code\": 250, \"enhanced\": \"2.0.0\", "
	       "\"text\": null, \"mx\": null, \"ip\": null, \"tls\": null}]}");
	free(s);
	buf_free(&b);
	/* the full form adds the envelope's fields and per recipient ones */
	queue_json_entry(&b, &env, &st, true);
	s = xstrndup(b.data, b.len);
	assert_non_null(strstr(s, "\"envid\": \"QQ\\\"1\""));
	assert_non_null(strstr(s, "\"client\": \"192.0.2.7\", \"helo\": null"));
	assert_non_null(strstr(s, "\"requiretls\": false"));
	assert_non_null(strstr(s, "\"notify\": \"DELAY\", \"orcpt\": null, "
	                          "\"alias\": \"fwd@example.org\""));
	assert_non_null(strstr(s, "\"notify\": null, \"orcpt\": \"carol@other.test\""));
	free(s);
	buf_free(&b);
	spool_envelope_clear(&env);
	queue_state_clear(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_string),
	    cmocka_unit_test(test_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
