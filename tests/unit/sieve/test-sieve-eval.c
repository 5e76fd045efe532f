/* Unit tests for src/sieve: every extension's tests and actions as
   tables (script + message -> the actions), and the RFC examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "sieve-testmsg.h"
#include "sieve/sieve.h"

#define HDRS                                                                                       \
	"From: Joe Sender <joe+lists@example.com>\n"                                               \
	"To: Tern User <user@example.org>, other@example.net\n"                                    \
	"Cc: \"Doe, Jane\" <jane@example.org>\n"                                                   \
	"Subject: Make money fast\n"                                                               \
	"Date: Tue, 14 Nov 2023 10:30:00 -0500\n"                                                  \
	"Message-ID: <id1@example.com>\n"                                                          \
	"X-Spam-Score: 7\n"                                                                        \
	"Received: from a by b; Tue, 14 Nov 2023 15:31:00 +0000\n"                                 \
	"Received: from c by a; Tue, 14 Nov 2023 15:30:00 +0000\n"

struct evcase {
	const char *script;
	const char *want;
};

static void run_case(const char *hdrs, const char *body, const char *from, const char *to,
                     const struct evcase *c, void (*setup)(struct testmsg *))
{
	struct sieve_script *s = NULL;
	struct sieve_error err;
	struct sieve_result res;
	struct testmsg t;
	char got[2048];

	if (sieve_compile(c->script, strlen(c->script), NULL, &s, &err) < 0) {
		print_error("compile failed at %u:%u: %s\nscript: %s\n", err.line, err.column,
		            err.message, c->script);
		fail();
	}
	testmsg_init(&t, hdrs, body, from, to);
	if (setup)
		setup(&t);
	sieve_run(s, &t.m, &res);
	testmsg_summary(&res, got, sizeof(got));
	if (strcmp(got, c->want) != 0) {
		print_error("script: %s\nwant: %s\ngot:  %s\n", c->script, c->want, got);
		if (res.error)
			print_error("error: %s\n", res.error);
		fail();
	}
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
}

static void run_table(const struct evcase *cases, size_t n, void (*setup)(struct testmsg *))
{
	for (size_t i = 0; i < n; i++)
		run_case(HDRS, "Hello world\r\nBuy now!\r\n", "joe+lists@example.com",
		         "user+tag@example.org", &cases[i], setup);
}

#define RUN(cases, setup) run_table(cases, sizeof(cases) / sizeof(cases[0]), setup)

static void test_base(void **state)
{
	static const struct evcase cases[] = {
	    {"", "keep"},
	    {"keep;", "keep"},
	    {"discard;", ""},
	    {"stop; discard;", "keep"},
	    {"redirect \"a@example.net\";", "redirect:a@example.net"},
	    {"redirect \"a@example.net\"; redirect \"A@example.net\";", "redirect:a@example.net"},
	    {"if header :contains \"subject\" \"money\" { discard; }", ""},
	    {"if header :is \"subject\" \"make MONEY fast\" { discard; }", ""},
	    {"if header :comparator \"i;octet\" :is \"subject\" \"make MONEY fast\" "
	     "{ discard; }",
	     "keep"},
	    {"if header :matches \"subject\" \"*money*\" { discard; }", ""},
	    {"if header :matches \"subject\" \"Make?money*\" { discard; }", ""},
	    {"if header :matches \"subject\" \"money*\" { discard; }", "keep"},
	    {"if exists [\"From\", \"Date\"] { discard; }", ""},
	    {"if exists [\"From\", \"X-None\"] { discard; }", "keep"},
	    {"if size :over 100 { discard; }", ""},
	    {"if size :under 1K { discard; }", ""},
	    {"if size :over 1M { discard; }", "keep"},
	    {"if not true { discard; }", "keep"},
	    {"if allof (true, false) { discard; }", "keep"},
	    {"if anyof (false, true) { discard; }", ""},
	    {"if false { discard; } elsif true { redirect \"x@y.z\"; } else { keep; }",
	     "redirect:x@y.z"},
	    {"if false { discard; } elsif false { redirect \"x@y.z\"; } else { keep; }", "keep"},
	    {"if true { keep; } elsif true { discard; }", "keep"},
	    {"if address :domain \"from\" \"example.com\" { discard; }", ""},
	    {"if address :localpart \"from\" \"joe+lists\" { discard; }", ""},
	    {"if address :all :is \"cc\" \"jane@example.org\" { discard; }", ""},
	    {"if address :is \"to\" \"other@example.net\" { discard; }", ""},
	    {"if address :is \"to\" \"Tern User\" { discard; }", "keep"},
	    {"require \"envelope\"; if envelope :is \"from\" \"joe+lists@example.com\" "
	     "{ discard; }",
	     ""},
	    {"require \"envelope\"; if envelope :domain \"to\" \"example.org\" { discard; }", ""},
	    {"if header :contains \"X-None\" \"\" { discard; }", "keep"},
	    {"if header :contains \"subject\" \"\" { discard; }", ""},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_fileinto_copy_mailbox(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"fileinto\"; fileinto \"Junk\";", "fileinto:Junk"},
	    {"require \"fileinto\"; fileinto \"Junk\"; fileinto \"Junk\";", "fileinto:Junk"},
	    {"require \"fileinto\"; fileinto \"INBOX\"; keep;", "keep"},
	    {"require [\"fileinto\", \"copy\"]; fileinto :copy \"Junk\";",
	     "fileinto:Junk:copy keep"},
	    {"require \"copy\"; redirect :copy \"a@b.c\";", "redirect:a@b.c:copy keep"},
	    {"require [\"fileinto\", \"mailbox\"]; fileinto :create \"New\";",
	     "fileinto:New:create"},
	    {"require \"mailbox\"; if mailboxexists \"Junk\" { discard; }", "keep"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void setup_mailboxes(struct testmsg *t)
{
	t->mailboxes = "INBOX Junk Archive";
	t->spam = "7";
	t->virus = "1";
	t->seen_ids = "<id1@example.com> fixed";
	t->env_domain = "example.org";
}

static void test_mailbox_exists(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"mailbox\"; if mailboxexists \"Junk\" { discard; }", ""},
	    {"require \"mailbox\"; if mailboxexists [\"Junk\", \"Nope\"] { discard; }", "keep"},
	};
	(void)state;
	RUN(cases, setup_mailboxes);
}

static void test_reject(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"reject\"; reject \"go away\";", "reject:go away"},
	    {"require \"ereject\"; ereject \"no\";", "ereject:no"},
	    {"require \"reject\"; keep; reject \"x\";", "error keep"},
	    {"require [\"reject\", \"fileinto\"]; reject \"x\"; fileinto \"A\";", "error keep"},
	    {"require [\"reject\", \"vacation\"]; vacation \"away\"; reject \"x\";", "error keep"},
	    {"require \"reject\"; reject \"x\"; reject \"y\";", "error keep"},
	    {"require \"reject\"; reject \"x\"; discard;", "reject:x"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_imap4flags(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"imap4flags\"; setflag \"\\\\Seen\";", "keep[\\Seen]"},
	    {"require \"imap4flags\"; addflag [\"\\\\Seen\", \"\\\\Flagged\"]; "
	     "removeflag \"\\\\Seen\";",
	     "keep[\\Flagged]"},
	    {"require \"imap4flags\"; addflag \"a b\"; addflag \"B c\";", "keep[a b c]"},
	    {"require [\"imap4flags\", \"fileinto\"]; fileinto :flags \"\\\\Seen\" \"A\";",
	     "fileinto:A[\\Seen]"},
	    {"require [\"imap4flags\", \"fileinto\"]; addflag \"x\"; fileinto \"A\"; "
	     "setflag \"y\";",
	     "fileinto:A[x]"},
	    {"require [\"imap4flags\", \"fileinto\", \"copy\"]; addflag \"x\"; "
	     "fileinto :copy \"A\"; setflag \"y\";",
	     "fileinto:A:copy[x] keep[y]"},
	    {"require \"imap4flags\"; addflag \"x\"; if hasflag \"X\" { discard; }", ""},
	    {"require \"imap4flags\"; if hasflag \"x\" { discard; }", "keep"},
	    {"require [\"imap4flags\", \"variables\"]; set \"f\" \"\"; addflag \"f\" \"a\"; "
	     "addflag \"f\" \"b\"; if hasflag :is \"f\" \"b\" { keep :flags \"${f}\"; }",
	     "keep[a b]"},
	    {"require [\"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"]; "
	     "addflag \"a b c\"; if hasflag :count \"ge\" :comparator \"i;ascii-numeric\" "
	     "\"3\" { discard; }",
	     ""},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_variables(void **state)
{
	static const struct evcase cases[] = {
	    {"require [\"variables\", \"fileinto\"]; set \"box\" \"Lists\"; "
	     "fileinto \"${box}\";",
	     "fileinto:Lists"},
	    {"require [\"variables\", \"fileinto\"]; "
	     "if header :matches \"from\" \"*<*@*>\" { fileinto \"${2}.${3}\"; }",
	     "fileinto:joe+lists.example.com"},
	    {"require [\"variables\", \"fileinto\"]; "
	     "if header :matches \"subject\" \"M*e *\" { fileinto \"${1}|${2}|${0}\"; }",
	     "fileinto:ak|money fast|Make money fast"},
	    {"require [\"variables\", \"fileinto\"]; set :upper \"a\" \"hello\"; "
	     "set :lowerfirst \"b\" \"HELLO\"; set :upperfirst \"c\" \"hello\"; "
	     "set :length \"d\" \"h\xc3\xa9llo\"; set :quotewildcard \"e\" \"a*b?c\\\\\"; "
	     "fileinto \"${a}-${b}-${c}-${d}-${e}\";",
	     "fileinto:HELLO-hELLO-Hello-5-a\\*b\\?c\\\\"},
	    {"require [\"variables\", \"fileinto\"]; set :upperfirst :lower \"a\" \"hELLO\"; "
	     "fileinto \"${a}\";",
	     "fileinto:Hello"},
	    {"require [\"variables\", \"fileinto\"]; fileinto \"${unset}x${bad-name}\";",
	     "fileinto:x${bad-name}"},
	    {"require [\"variables\", \"fileinto\"]; set \"a\" \"1\"; set \"A\" \"2\"; "
	     "fileinto \"${a}\";",
	     "fileinto:2"},
	    {"require \"fileinto\"; fileinto \"${a}\";", "fileinto:${a}"},
	    {"require \"variables\"; set \"a\" \"xyz\"; if string :is \"${a}\" \"xyz\" "
	     "{ discard; }",
	     ""},
	    {"require [\"variables\", \"relational\"]; set \"a\" \"\"; "
	     "if string :count \"eq\" [\"${a}\", \"b\"] \"1\" { discard; }",
	     ""},
	    {"require [\"variables\", \"regex\", \"fileinto\"]; "
	     "if header :regex \"subject\" \"^Make ([a-z]+) (.*)$\" "
	     "{ fileinto \"${1}/${2}\"; }",
	     "fileinto:money/fast"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_vacation(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"vacation\"; vacation \"I am away\";",
	     "vacation:I am away|Auto: Make money fast|604800 keep"},
	    {"require \"vacation\"; vacation :days 3 :subject \"Away\" :from \"u@example.org\" "
	     "\"I am away\";",
	     "vacation:I am away|Away|259200|from=u@example.org keep"},
	    {"require \"vacation\"; vacation :days 0 \"x\";",
	     "vacation:x|Auto: Make money fast|86400 keep"},
	    {"require [\"vacation\", \"vacation-seconds\"]; vacation :seconds 60 \"x\";",
	     "vacation:x|Auto: Make money fast|60 keep"},
	    {"require \"vacation\"; vacation \"x\"; vacation \"y\";", "error keep"},
	    {"require \"vacation\"; vacation :addresses \"nobody@example.org\" \"x\";",
	     "vacation:x|Auto: Make money fast|604800 keep"},
	    {"require [\"vacation\", \"fileinto\"]; fileinto \"A\"; vacation \"x\";",
	     "fileinto:A vacation:x|Auto: Make money fast|604800"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void vac_check(const char *hdrs, const char *from, const char *to, const char *want)
{
	struct evcase c = {"require \"vacation\"; vacation \"x\";", want};
	run_case(hdrs, "", from, to, &c, NULL);
}

static void test_vacation_skip(void **state)
{
	(void)state;
	vac_check("To: u@example.org\nSubject: s\n", "", "u@example.org",
	          "vacation:x|Auto: s|604800|skip=null sender keep");
	vac_check("To: u@example.org\nSubject: s\nAuto-Submitted: auto-replied\n", "a@b.c",
	          "u@example.org", "vacation:x|Auto: s|604800|skip=auto-submitted message keep");
	vac_check("To: u@example.org\nSubject: s\nAuto-Submitted: no\n", "a@b.c", "u@example.org",
	          "vacation:x|Auto: s|604800 keep");
	vac_check("To: u@example.org\nSubject: s\nList-Id: <l.example.org>\n", "a@b.c",
	          "u@example.org", "vacation:x|Auto: s|604800|skip=list message keep");
	vac_check("To: u@example.org\nSubject: s\nPrecedence: bulk\n", "a@b.c", "u@example.org",
	          "vacation:x|Auto: s|604800|skip=bulk message keep");
	vac_check("To: other@example.org\nSubject: s\n", "a@b.c", "u@example.org",
	          "vacation:x|Auto: s|604800|skip=not addressed to the user keep");
	vac_check("To: u@example.org\nSubject: s\n", "MAILER-DAEMON@b.c", "u@example.org",
	          "vacation:x|Auto: s|604800|skip=sender is a list or a daemon keep");
}

static void setup_seen(struct testmsg *t)
{
	t->vacation_seen = true;
}

static void test_vacation_seen(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"vacation\"; vacation :addresses \"user@example.org\" \"x\";",
	     "vacation:x|Auto: Make money fast|604800|skip=already answered in this period "
	     "keep"},
	};
	(void)state;
	RUN(cases, setup_seen);
}

static void test_relational(void **state)
{
	static const struct evcase cases[] = {
	    {"require [\"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"5\" "
	     "{ discard; }",
	     ""},
	    {"require [\"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"5\" "
	     "{ discard; }",
	     "keep"},
	    {"require \"relational\"; if header :count \"eq\" \"received\" \"2\" { discard; }", ""},
	    {"require \"relational\"; if address :count \"eq\" \"to\" \"2\" { discard; }", ""},
	    {"require \"relational\"; if header :value \"lt\" \"subject\" \"N\" { discard; }", ""},
	    {"require \"relational\"; if header :value \"ne\" \"subject\" \"make money fast\" "
	     "{ discard; }",
	     "keep"},
	    {"require [\"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if header :value \"ge\" :comparator \"i;ascii-numeric\" \"subject\" \"99\" "
	     "{ discard; }",
	     ""},
	    {"require \"comparator-i;ascii-numeric\"; if header :is :comparator "
	     "\"i;ascii-numeric\" \"x-spam-score\" \"007\" { discard; }",
	     ""},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_subaddress(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"subaddress\"; if address :user \"from\" \"joe\" { discard; }", ""},
	    {"require \"subaddress\"; if address :detail \"from\" \"lists\" { discard; }", ""},
	    {"require \"subaddress\"; if address :detail \"cc\" \"\" { discard; }", "keep"},
	    {"require [\"subaddress\", \"envelope\"]; if envelope :detail \"to\" \"tag\" "
	     "{ discard; }",
	     ""},
	    {"require [\"subaddress\", \"envelope\"]; if envelope :user \"to\" \"user\" "
	     "{ discard; }",
	     ""},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_date_index(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"hour\" \"15\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if date :originalzone \"date\" \"hour\" \"10\" { discard; }", ""},
	    {"require \"date\"; if date \"date\" \"hour\" \"16\" { discard; }", ""},
	    {"require \"date\"; if date :originalzone \"date\" \"zone\" \"-0500\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"date\" \"2023-11-14\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"weekday\" \"2\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"julian\" \"60262\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"iso8601\" "
	     "\"2023-11-14T15:30:00Z\" { discard; }",
	     ""},
	    {"require \"date\"; if date :zone \"+0000\" \"date\" \"std11\" "
	     "\"Tue, 14 Nov 2023 15:30:00 +0000\" { discard; }",
	     ""},
	    {"require \"date\"; if currentdate :zone \"+0000\" \"date\" \"2023-11-14\" "
	     "{ discard; }",
	     ""},
	    {"require \"date\"; if currentdate \"hour\" \"23\" { discard; }", ""},
	    {"require [\"date\", \"relational\"]; if currentdate :value \"ge\" \"date\" "
	     "\"2023-01-01\" { discard; }",
	     ""},
	    {"require [\"date\", \"index\"]; if date :index 1 :zone \"+0000\" \"received\" "
	     "\"minute\" \"31\" { discard; }",
	     ""},
	    {"require [\"date\", \"index\"]; if date :index 1 :last :zone \"+0000\" "
	     "\"received\" \"minute\" \"30\" { discard; }",
	     ""},
	    {"require \"index\"; if header :index 2 :contains \"received\" \"c by a\" "
	     "{ discard; }",
	     ""},
	    {"require \"index\"; if address :index 2 :is \"to\" \"other@example.net\" "
	     "{ discard; }",
	     "keep"},
	    {"require \"date\"; if date \"x-none\" \"year\" \"2023\" { discard; }", "keep"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_editheader(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"editheader\"; addheader \"X-Tag\" \"yes\";", "keep add:X-Tag=yes"},
	    {"require \"editheader\"; addheader \"X-Tag\" \"yes\"; "
	     "if header :is \"x-tag\" \"yes\" { discard; }",
	     " add:X-Tag=yes"},
	    {"require \"editheader\"; deleteheader \"subject\"; "
	     "if exists \"subject\" { discard; }",
	     "keep del:subject"},
	    {"require \"editheader\"; deleteheader :contains \"to\" \"other\"; ",
	     "keep del:to=Tern User <user@example.org>, other@example.net"},
	    {"require \"editheader\"; deleteheader :is \"to\" \"nothing\"; ", "keep del:to"},
	    /* Received is never deleted (RFC 5293 section 5) */
	    {"require [\"editheader\", \"index\"]; deleteheader :index 1 \"received\"; "
	     "if header :contains \"received\" \"from a by b\" { discard; }",
	     ""},
	    {"require \"editheader\"; deleteheader \"received\";"
	     "if exists \"received\" { discard; }",
	     ""},
	    {"require [\"editheader\", \"index\"]; addheader \"X-A\" \"1\"; "
	     "addheader \"X-A\" \"2\"; deleteheader :index 1 \"X-A\"; "
	     "if header :is \"x-a\" \"1\" { discard; }",
	     " add:X-A=1 add:X-A=2 del:X-A"},
	    {"require [\"editheader\", \"index\"]; addheader \"X-A\" \"1\"; "
	     "addheader \"X-A\" \"2\"; deleteheader :index 1 :last \"X-A\"; "
	     "if header :is \"x-a\" \"2\" { discard; }",
	     " add:X-A=1 add:X-A=2 del:X-A"},
	    {"require \"editheader\"; addheader :last \"X-A\" \"1\"; addheader \"X-A\" \"0\";"
	     "if header :is \"x-a\" \"0\" { discard; }",
	     " add:X-A=1 add:X-A=0"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_body(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"body\"; if body :contains \"buy now\" { discard; }", ""},
	    {"require \"body\"; if body :raw :contains \"Buy\" { discard; }", ""},
	    {"require \"body\"; if body :content \"text\" :contains \"world\" { discard; }", ""},
	    {"require \"body\"; if body :content \"image\" :contains \"world\" { discard; }",
	     "keep"},
	    {"require \"body\"; if body :matches \"*money*\" { discard; }", "keep"},
	};
	(void)state;
	RUN(cases, NULL);
}

static void test_dup_spam_env(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"duplicate\"; if duplicate { discard; }", ""},
	    {"require \"duplicate\"; if duplicate :uniqueid \"other\" { discard; }", "keep"},
	    {"require \"duplicate\"; if duplicate :uniqueid \"fixed\" { discard; }", ""},
	    {"require \"duplicate\"; if duplicate :header \"subject\" { discard; }", "keep"},
	    {"require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" { discard; }",
	     ""},
	    {"require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"8\" { discard; }",
	     "keep"},
	    {"require [\"virustest\", \"relational\", \"comparator-i;ascii-numeric\"]; "
	     "if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"1\" { discard; }",
	     ""},
	    {"require \"environment\"; if environment \"domain\" \"example.org\" "
	     "{ discard; }",
	     ""},
	    {"require \"environment\"; if environment :contains \"name\" \"tern\" "
	     "{ discard; }",
	     ""},
	    {"require \"environment\"; if environment \"host\" \"\" { discard; }", "keep"},
	};
	(void)state;
	RUN(cases, setup_mailboxes);
}

static void test_body_types(void **state)
{
	const char *const text[] = {"text"}, *const html[] = {"text/html"};
	const char *const all[] = {""}, *const two[] = {"image", "TEXT/Plain"};

	(void)state;
	assert_true(sieve_body_type_selected("text/plain; charset=utf-8", text, 1));
	assert_true(sieve_body_type_selected("Text/HTML", html, 1));
	assert_false(sieve_body_type_selected("text/plain", html, 1));
	assert_false(sieve_body_type_selected("texts/plain", text, 1));
	assert_true(sieve_body_type_selected("application/pdf", all, 1));
	assert_true(sieve_body_type_selected("text/plain", two, 2));
	assert_true(sieve_body_type_selected("image/png", two, 2));
	assert_false(sieve_body_type_selected("text/html", two, 2));
	assert_false(sieve_body_type_selected("text/plain", two, 0));
}

/* More actions than max_actions is a run-time error: the message is kept. */
static void test_action_limit(void **state)
{
	struct buf src = BUF_INIT;
	struct sieve_limits lim = {.max_actions = 10};
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_result res;
	struct testmsg t;

	(void)state;
	buf_append_str(&src, "require \"fileinto\";");
	for (int i = 0; i < 10; i++)
		buf_printf(&src, " fileinto \"F%d\";", i);
	assert_int_equal(sieve_compile(src.data, src.len, &lim, &s, &err), 0);
	testmsg_init(&t, HDRS, "", "a@b.c", "u@d.e");
	assert_int_equal(sieve_run(s, &t.m, &res), 0);
	assert_int_equal(res.nactions, 10);
	sieve_result_free(&res);
	sieve_script_free(&s);
	buf_append_str(&src, " fileinto \"F10\";");
	assert_int_equal(sieve_compile(src.data, src.len, &lim, &s, &err), 0);
	assert_int_equal(sieve_run(s, &t.m, &res), -1);
	assert_string_equal(res.error, "1:171: too many actions (limit 10)");
	assert_int_equal(res.nactions, 1);
	sieve_result_free(&res);
	sieve_script_free(&s);
	testmsg_free(&t);
	buf_free(&src);
}

static void test_duplicate_ids(void **state)
{
	const char *src = "require \"duplicate\"; if duplicate :handle \"h\" :seconds 60 "
	                  "{ discard; }";
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_result res;
	struct testmsg t;

	(void)state;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	testmsg_init(&t, HDRS, "", "a@b.c", "u@d.e");
	assert_int_equal(sieve_run(s, &t.m, &res), 0);
	assert_int_equal(res.nduplicates, 1);
	assert_string_equal(res.duplicate_ids[0], "h:<id1@example.com>");
	assert_int_equal(res.duplicate_seconds[0], 60);
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
}

static const char *inc_src;

static void setup_include(struct testmsg *t)
{
	struct sieve_error err;
	if (sieve_compile(inc_src, strlen(inc_src), NULL, &t->inc_script, &err) < 0)
		fail_msg("include compile: %s", err.message);
}

static void test_include(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"include\"; include \"a\";", "fileinto:Inc"},
	    {"require \"include\"; include :once \"a\"; include :once \"a\";", "fileinto:Inc"},
	    {"require \"include\"; include \"missing\";", "error keep"},
	    {"require \"include\"; include :optional \"missing\";", "keep"},
	    {"require [\"include\", \"variables\"]; global \"v\"; set \"v\" \"G\"; "
	     "include \"a\";",
	     "fileinto:Inc"},
	};
	static const struct evcase globals[] = {
	    {"require [\"include\", \"variables\", \"fileinto\"]; global \"v\"; "
	     "set \"v\" \"Box\"; include \"a\"; fileinto \"${v}2\";",
	     "fileinto:Box fileinto:Box2"},
	};
	static const struct evcase recursive[] = {
	    {"require \"include\"; include \"a\";", "error keep"},
	};
	(void)state;
	inc_src = "require [\"fileinto\", \"include\"]; fileinto \"Inc\"; return; discard;";
	RUN(cases, setup_include);
	inc_src = "require [\"include\", \"variables\", \"fileinto\"]; global \"v\"; "
	          "fileinto \"${v}\";";
	RUN(globals, setup_include);
	inc_src = "require \"include\"; include \"a\";";
	RUN(recursive, setup_include);
	/* fan-out: 3 includes per level would be 3^5 runs; the total is capped */
	static const struct evcase fanout[] = {
	    {"require \"include\"; include \"a\";", "error keep"},
	};
	inc_src = "require [\"include\", \"fileinto\"]; include :optional \"a\"; "
	          "include :optional \"a\"; include :optional \"a\"; fileinto \"x\";";
	RUN(fanout, setup_include);
}

static void test_runtime_errors(void **state)
{
	static const struct evcase cases[] = {
	    {"require \"variables\"; set \"a\" \"not an address\"; redirect \"${a}\";",
	     "error keep"},
	    {"redirect \"a@b.c\"; redirect \"b@b.c\"; redirect \"c@b.c\"; "
	     "redirect \"d@b.c\"; redirect \"e@b.c\";",
	     "error keep"},
	    {"require [\"regex\", \"variables\"]; set \"r\" \"(\"; "
	     "if header :regex \"subject\" \"${r}\" { discard; }",
	     "error keep"},
	};
	(void)state;
	RUN(cases, NULL);
}

/* One string naming a long variable many times expands to at most 256 KiB. */
static void test_expand_limit(void **state)
{
	struct buf src = BUF_INIT;
	(void)state;
	buf_append_str(&src, "require \"variables\"; set \"a\" \"");
	for (int i = 0; i < 4000; i++)
		buf_append_char(&src, 'x');
	buf_append_str(&src, "\"; set :length \"n\" \"");
	for (int i = 0; i < 100; i++)
		buf_append_str(&src, "${a}");
	buf_append_str(&src, "\"; if string :is \"${n}\" \"262144\" { discard; }");
	struct evcase c = {buf_cstr(&src), ""};
	run_case(HDRS, "", "a@b.c", "u@d.e", &c, NULL);
	buf_free(&src);
}

static void test_error_text(void **state)
{
	const char *src = "require \"variables\"; set \"a\" \"bad\";\nredirect \"${a}\";";
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_result res;
	struct testmsg t;

	(void)state;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	testmsg_init(&t, HDRS, "", "a@b.c", "u@d.e");
	assert_int_equal(sieve_run(s, &t.m, &res), -1);
	assert_string_equal(res.error, "2:1: redirect: bad address 'bad'");
	assert_int_equal(res.nactions, 1);
	assert_int_equal(res.actions[0].type, SIEVE_ACT_KEEP);
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
}

/* RFC 5228 section 9 (the complete example), RFC 5229 section 7, RFC
   5230 section 7, RFC 5232 section 7 and RFC 5173 section 6. */
static void test_rfc_examples(void **state)
{
	static const struct evcase rfc5228[] = {
	    {"require \"fileinto\";\r\n"
	     "if header :is \"Sender\" \"owner-ietf-mta-filters@imc.org\"\r\n"
	     "        {\r\n"
	     "        fileinto \"filter\";  # move to \"filter\" mailbox\r\n"
	     "        }\r\n"
	     "#\r\n"
	     "# Keep all messages to or from people in my company\r\n"
	     "#\r\n"
	     "elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\"\r\n"
	     "        {\r\n"
	     "        keep;               # keep in \"In\" mailbox\r\n"
	     "        }\r\n"
	     "elsif anyof (NOT address :all :contains\r\n"
	     "               [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\r\n"
	     "             header :matches \"subject\"\r\n"
	     "               [\"*make*money*fast*\", \"*university*dipl*mas*\"])\r\n"
	     "        {\r\n"
	     "        fileinto \"spam\";   # move to \"spam\" mailbox\r\n"
	     "        }\r\n"
	     "else\r\n"
	     "        {\r\n"
	     "        fileinto \"personal\";\r\n"
	     "        }\r\n",
	     "keep"},
	};
	static const struct evcase rfc5229[] = {
	    {"require [\"fileinto\", \"variables\"];\r\n"
	     "if header :matches \"List-ID\" \"*<*@*\" {\r\n"
	     "    fileinto \"INBOX.lists.${2}\"; stop;\r\n"
	     "}\r\n"
	     "# Imagine the header\r\n"
	     "# Subject: [acme-users] [fwd] version 1.0 is out\r\n"
	     "if header :matches \"Subject\" \"[*] *\" {\r\n"
	     "    # ${1} will hold \"acme-users\",\r\n"
	     "    # ${2} will hold \"[fwd] version 1.0 is out\"\r\n"
	     "    fileinto \"INBOX.lists.${1}\"; stop;\r\n"
	     "}\r\n"
	     "# Imagine the header\r\n"
	     "# To: coyote@ACME.Example.COM\r\n"
	     "if address :matches [\"To\", \"Cc\"] [\"coyote@**.com\",\r\n"
	     "        \"wile@**.com\"] {\r\n"
	     "    # ${0} is the matching address\r\n"
	     "    # ${1} is always the empty string\r\n"
	     "    # ${2} is part of the domain name (\"ACME.Example\")\r\n"
	     "    fileinto \"INBOX.business.${2}\"; stop;\r\n"
	     "} else {\r\n"
	     "    # Control wouldn't reach this block if any match was\r\n"
	     "    # successful, so no match variables are set at this\r\n"
	     "    # point.\r\n"
	     "}\r\n"
	     "if anyof (true, address :domain :matches \"To\" \"*.com\") {\r\n"
	     "    # The second test is never evaluated, so there are\r\n"
	     "    # still no match variables set.\r\n"
	     "    stop;\r\n"
	     "}\r\n",
	     "keep"},
	};
	(void)state;
	RUN(rfc5228, NULL);
	RUN(rfc5229, NULL);
	struct evcase c2 = {rfc5229[0].script, "fileinto:INBOX.lists.acme-users"};
	run_case("Subject: [acme-users] [fwd] version 1.0 is out\n", "", "a@b.c", "u@d.e", &c2,
	         NULL);
	struct evcase c3 = {rfc5229[0].script, "fileinto:INBOX.business.ACME.Example"};
	run_case("To: coyote@ACME.Example.COM\n", "", "a@b.c", "u@d.e", &c3, NULL);
	struct evcase c1 = {rfc5229[0].script, "fileinto:INBOX.lists.acme-users"};
	run_case("List-ID: Acme <acme-users@lists.example>\n", "", "a@b.c", "u@d.e", &c1, NULL);
}

static void test_rfc_examples2(void **state)
{
	/* RFC 5230 section 4.8 (vacation with :days and :addresses) */
	static const struct evcase vac[] = {
	    {"require \"vacation\";\r\n"
	     "vacation :days 23 :addresses [\"tjs@example.edu\",\r\n"
	     "                              \"ts4z@landru.example.edu\"]\r\n"
	     "\"I'm away until October 19.  If it's an emergency, call 911, I guess.\" ;\r\n",
	     "vacation:I'm away until October 19.  If it's an emergency, call 911, I "
	     "guess.|Auto: hi|1987200 keep"},
	    {"require \"vacation\";\r\n"
	     "if header :contains \"subject\" \"cyrus\" {\r\n"
	     "    vacation \"I'm out -- send mail to cyrus-bugs\";\r\n"
	     "} else {\r\n"
	     "    vacation \"I'm out -- call me at +1 304 555 0123\";\r\n"
	     "}\r\n",
	     "vacation:I'm out -- call me at +1 304 555 0123|Auto: hi|604800 keep"},
	    {"require [\"vacation\", \"variables\"];\r\n"
	     "if header :matches \"subject\" \"*\" {\r\n"
	     "    vacation :subject \"Automatic response to: ${1}\"\r\n"
	     "             \"I'm away\";\r\n"
	     "}\r\n",
	     "vacation:I'm away|Automatic response to: hi|604800 keep"},
	    {"require \"vacation\";\r\n"
	     "vacation :mime text:\r\n"
	     "Content-Type: text/plain\r\n"
	     "\r\n"
	     "..away\r\n"
	     ".\r\n"
	     ";\r\n",
	     "vacation:Content-Type: text/plain\r\n\r\n.away\r\n|Auto: hi|604800 keep"},
	};
	/* RFC 5232 section 7 */
	static const struct evcase flags[] = {
	    {"require [\"imap4flags\", \"fileinto\"];\r\n"
	     "if size :over 1K {\r\n"
	     "    setflag \"\\\\Deleted\";\r\n"
	     "}\r\n"
	     "fileinto :flags \"\\\\Deleted\" \"INBOX.From Boss\";\r\n"
	     "if header :contains \"from\" \"boss@frobnitzm.example.edu\" {\r\n"
	     "    setflag \"flagvar\" \"\\\\Flagged\";\r\n"
	     "    fileinto :flags \"${flagvar}\" \"INBOX.From Boss\";\r\n"
	     "}\r\n",
	     "fileinto:INBOX.From Boss[\\Deleted]"},
	};
	/* RFC 5173 section 6 */
	static const struct evcase body[] = {
	    {"require [\"body\", \"fileinto\"];\r\n"
	     "if body :raw :contains \"MAKE MONEY FAST\" {\r\n"
	     "    discard;\r\n"
	     "}\r\n"
	     "if body :content \"text\" :contains \"missile\" {\r\n"
	     "    fileinto \"secrets\";\r\n"
	     "}\r\n"
	     "if body :content \"audio/mp3\" :contains \"\" {\r\n"
	     "    fileinto \"jukebox\";\r\n"
	     "}\r\n"
	     "if body :text :contains \"project schedule\" {\r\n"
	     "    fileinto \"project/schedule\";\r\n"
	     "}\r\n",
	     "fileinto:secrets fileinto:project/schedule"},
	};
	(void)state;
	for (size_t i = 0; i < 4; i++)
		run_case("To: tjs@example.edu, ts4z@landru.example.edu\nSubject: hi\n", "", "a@b.c",
		         "ts4z@landru.example.edu", &vac[i], NULL);
	run_case("From: x@y.z\n", "", "a@b.c", "u@d.e", &flags[0], NULL);
	run_case("From: x@y.z\n", "the missile project schedule", "a@b.c", "u@d.e", &body[0], NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base),           cmocka_unit_test(test_fileinto_copy_mailbox),
	    cmocka_unit_test(test_mailbox_exists), cmocka_unit_test(test_reject),
	    cmocka_unit_test(test_imap4flags),     cmocka_unit_test(test_variables),
	    cmocka_unit_test(test_vacation),       cmocka_unit_test(test_vacation_skip),
	    cmocka_unit_test(test_vacation_seen),  cmocka_unit_test(test_relational),
	    cmocka_unit_test(test_subaddress),     cmocka_unit_test(test_date_index),
	    cmocka_unit_test(test_editheader),     cmocka_unit_test(test_body),
	    cmocka_unit_test(test_dup_spam_env),   cmocka_unit_test(test_duplicate_ids),
	    cmocka_unit_test(test_body_types),     cmocka_unit_test(test_action_limit),
	    cmocka_unit_test(test_include),        cmocka_unit_test(test_runtime_errors),
	    cmocka_unit_test(test_error_text),     cmocka_unit_test(test_expand_limit),
	    cmocka_unit_test(test_rfc_examples),   cmocka_unit_test(test_rfc_examples2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
