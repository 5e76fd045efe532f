/* Unit tests for Sieve at local delivery (smtp-sieve*.c) and the script
   storage (sieve-store.c): real deliveries into a temporary mail_dir with
   the user's active script and a global after script, the compiled cache,
   the vacation/duplicate state files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli-settings.h"
#include "lib/settings-private.h"
#include "lib/xalloc.h"
#include "sieve/sieve-store.h"
#include "smtp/smtp-sieve-private.h"
#include "smtp/smtp-sieve.h"
#include "store/delivery.h"

#define USER "alice@example.test"

static char dir[64];
static struct tern_settings *settings;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Make text the user's active script "main". */
static void put_script(const char *text)
{
	char *sdir = xasprintf("%s/mail/example.test/alice/sieve", dir);
	char *path = xasprintf("%s/main.sieve", sdir);
	char *active = xasprintf("%s/active", sdir);

	const char *const parts[] = {"mail", "mail/example.test", "mail/example.test/alice"};

	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, parts[i]);

		(void)mkdir(p, 0700);
		free(p);
	}
	(void)mkdir(sdir, 0700);
	write_file(path, text);
	write_file(active, "main\n");
	free(sdir);
	free(path);
	free(active);
}

/* Files in the user's folder sub ("" INBOX, ".Junk") new/ or cur/. */
static int count(const char *folder, const char *sub)
{
	char *path = xasprintf("%s/mail/example.test/alice/%s/%s", dir, folder, sub);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	free(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int stored(const char *folder)
{
	return count(folder, "new") + count(folder, "cur");
}

static int queued(void)
{
	char *path = xasprintf("%s/queue", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	free(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		n += len > 4 && strcmp(e->d_name + len - 4, ".env") == 0;
	}
	closedir(d);
	return n;
}

/* Deliver msg to USER; returns smtp_sieve_commit()'s result, *r set. */
static int deliver(const char *msg, bool can_refuse, struct smtp_sieve_rcpt *r)
{
	struct delivery *d;
	const char *error;
	char *mail_dir = xasprintf("%s/mail", dir);
	char *reject;
	int ret;

	assert_int_equal(delivery_begin(mail_dir, &d, &error), 0);
	assert_int_equal(delivery_write(d, msg, strlen(msg), &error), 0);
	memset(r, 0, sizeof(*r));
	r->user = USER;
	r->can_refuse = can_refuse;
	ret = smtp_sieve_commit(settings, d, "sender@elsewhere.test", r, 1, DELIVERY_PER_TARGET,
	                        &error);
	free(mail_dir);
	reject = r->reject; /* the tests look at it; the rest goes */
	r->reject = NULL;
	assert_true(r->path_count <= 2);
	smtp_sieve_rcpt_clear(r, 1);
	r->reject = reject;
	return ret;
}

#define MSG(subject, extra)                                                                        \
	"Return-Path: <sender@elsewhere.test>\r\nFrom: <sender@elsewhere.test>\r\n"                \
	"To: <" USER ">\r\nSubject: " subject "\r\nMessage-ID: <" subject "@x>\r\n" extra          \
	"\r\nbody text\r\n"

static void test_keep_and_flags(void **state)
{
	struct smtp_sieve_rcpt r;

	(void)state;
	put_script("require \"imap4flags\";\naddflag \"\\\\Flagged\";\n");
	assert_int_equal(deliver(MSG("a", ""), false, &r), 0);
	assert_int_equal(r.ret, 0);
	assert_int_equal(count("", "cur"), 1); /* flagged: into cur/ */
	assert_int_equal(count("", "new"), 0);
}

static void test_fileinto(void **state)
{
	struct smtp_sieve_rcpt r;

	(void)state;
	put_script("require [\"fileinto\", \"mailbox\"];\n"
	           "if header :is \"Subject\" \"bill\" { fileinto :create \"Bills\"; }\n"
	           "elsif header :is \"Subject\" \"none\" { fileinto \"Missing\"; }\n");
	assert_int_equal(deliver(MSG("bill", ""), false, &r), 0);
	assert_int_equal(stored(".Bills"), 1);
	assert_int_equal(deliver(MSG("none", ""), false, &r), 0);
	assert_int_equal(stored(".Missing"), 0);
	assert_int_equal(stored(""), 2); /* the earlier test's and this one */
}

static void test_discard_and_reject(void **state)
{
	struct smtp_sieve_rcpt r;
	int before = stored(""), q = queued();

	(void)state;
	put_script("discard;\n");
	assert_int_equal(deliver(MSG("gone", ""), false, &r), 0);
	assert_int_equal(stored(""), before);
	put_script("require \"reject\";\nreject \"go\naway\";\n");
	assert_int_equal(deliver(MSG("refused", ""), true, &r), 0);
	assert_string_equal(r.reject, "go away"); /* one reply line */
	free(r.reject);
	assert_int_equal(queued(), q);
	/* cannot refuse: a rejection message to the sender instead */
	assert_int_equal(deliver(MSG("refused2", ""), false, &r), 0);
	assert_null(r.reject);
	assert_int_equal(queued(), q + 1);
	assert_int_equal(stored(""), before);
}

static void test_runtime_error_keeps(void **state)
{
	struct smtp_sieve_rcpt r;
	int before = stored(""), q = queued();

	(void)state;
	put_script("require [\"reject\", \"fileinto\"];\nfileinto \"X\";\nreject \"no\";\n");
	assert_int_equal(deliver(MSG("err", ""), true, &r), 0);
	assert_null(r.reject);
	assert_int_equal(stored(""), before + 1);
	assert_int_equal(stored(".X"), 0);
	assert_int_equal(queued(), q);
}

static void test_include_personal(void **state)
{
	struct smtp_sieve_rcpt r;
	char *lib = xasprintf("%s/mail/example.test/alice/sieve/lib.sieve", dir);
	int before;

	(void)state;
	put_script("require \"include\";\ninclude :personal \"lib\";\n");
	write_file(lib, "require [\"fileinto\", \"mailbox\"];\nfileinto :create \"Inc\";\n");
	assert_int_equal(deliver(MSG("inc", ""), false, &r), 0);
	assert_int_equal(stored(".Inc"), 1);
	/* a missing include is a run-time error: kept */
	unlink(lib);
	put_script("require \"include\";\ninclude :personal \"lib\";\ndiscard;\n");
	before = stored("");
	assert_int_equal(deliver(MSG("inc2", ""), false, &r), 0);
	assert_int_equal(stored(".Inc"), 1);
	assert_int_equal(stored(""), before + 1);
	free(lib);
}

static void test_redirect_limit(void **state)
{
	struct smtp_sieve_rcpt r;
	int before = stored(""), q = queued();

	(void)state;
	/* sieve.max_redirects (4): the fifth is a run-time error, kept */
	put_script("redirect \"a@x.test\";\nredirect \"b@x.test\";\nredirect \"c@x.test\";\n"
	           "redirect \"d@x.test\";\nredirect \"e@x.test\";\n");
	assert_int_equal(deliver(MSG("many", ""), false, &r), 0);
	assert_int_equal(stored(""), before + 1);
	assert_int_equal(queued(), q);
	/* four: all four leave, nothing kept */
	put_script("redirect \"a@x.test\";\nredirect \"b@x.test\";\nredirect \"c@x.test\";\n"
	           "redirect \"d@x.test\";\n");
	assert_int_equal(deliver(MSG("four", ""), false, &r), 0);
	assert_int_equal(stored(""), before + 1);
	assert_int_equal(queued(), q + 4);
}

static void test_after_script_and_cache(void **state)
{
	struct smtp_sieve_rcpt r;
	unsigned long compiled, reused, compiled2, reused2;
	int before = stored("");

	(void)state;
	put_script("keep;\n");
	assert_int_equal(deliver(MSG("spam", "X-Spam: yes\r\n"), false, &r), 0);
	assert_int_equal(stored(".Junk"), 1);
	/* a lone keep; cannot be told from the implicit one, which the after
	   script's fileinto cancels (docs/sieve.md, "Delivery") */
	assert_int_equal(stored(""), before);
	smtp_sieve_cache_stats(&compiled, &reused);
	assert_int_equal(deliver(MSG("ham", ""), false, &r), 0);
	smtp_sieve_cache_stats(&compiled2, &reused2);
	assert_int_equal(compiled2, compiled); /* both scripts came from the cache */
	assert_int_equal(reused2, reused + 2);
	put_script("keep;  \n"); /* another size: compiled again */
	assert_int_equal(deliver(MSG("ham2", ""), false, &r), 0);
	smtp_sieve_cache_stats(&compiled, &reused);
	assert_int_equal(compiled, compiled2 + 1);
}

static void test_vacation_once(void **state)
{
	struct smtp_sieve_rcpt r;
	int q = queued();

	(void)state;
	put_script("require \"vacation\";\nvacation :days 1 :subject \"Away\" \"away\";\n");
	assert_int_equal(deliver(MSG("v1", ""), false, &r), 0);
	assert_int_equal(queued(), q + 1);
	assert_int_equal(deliver(MSG("v2", ""), false, &r), 0);
	assert_int_equal(queued(), q + 1);
	assert_int_equal(deliver(MSG("v3", "Auto-Submitted: auto-replied\r\n"), false, &r), 0);
	assert_int_equal(queued(), q + 1);
}

static void test_state(void **state)
{
	char *sdir = xasprintf("%s/state", dir);

	(void)state;
	assert_false(smtp_sieve_state_seen(sdir, ".vacation", "h:a@b"));
	smtp_sieve_state_record(sdir, ".vacation", "h:a@b", 3600);
	smtp_sieve_state_record(sdir, ".vacation", "h:gone@b", 0); /* expires now */
	assert_true(smtp_sieve_state_seen(sdir, ".vacation", "h:a@b"));
	assert_false(smtp_sieve_state_seen(sdir, ".vacation", "h:a@"));
	assert_false(smtp_sieve_state_seen(sdir, ".vacation", "h:gone@b"));
	assert_false(smtp_sieve_state_seen(sdir, ".duplicate", "h:a@b"));
	free(sdir);
}

static void test_store(void **state)
{
	char *sdir = xasprintf("%s/store", dir), *name, *path, *p2;
	const char *error;

	(void)state;
	assert_true(sieve_store_name_valid("main"));
	assert_false(sieve_store_name_valid(""));
	assert_false(sieve_store_name_valid(".hidden"));
	assert_false(sieve_store_name_valid("a/b"));
	assert_false(sieve_store_name_valid("a\nb"));
	assert_int_equal(sieve_store_script_path("/m", "Bob@Example.test", "x", &path, &error), 0);
	assert_string_equal(path, "/m/example.test/bob/sieve/x.sieve");
	free(path);
	assert_int_equal(sieve_store_script_path("/m", "bob", "x", &path, &error), -1);
	assert_int_equal(mkdir(sdir, 0700), 0);
	assert_int_equal(sieve_store_active_name(sdir, &name, &error), 0);
	p2 = xasprintf("%s/active", sdir);
	write_file(p2, "work\r\n");
	assert_int_equal(sieve_store_active_name(sdir, &name, &error), 1);
	assert_string_equal(name, "work");
	free(name);
	write_file(p2, "../x\n");
	assert_int_equal(sieve_store_active_name(sdir, &name, &error), 0);
	unlink(p2);
	assert_int_equal(symlink("home.sieve", p2), 0);
	assert_int_equal(sieve_store_active_name(sdir, &name, &error), 1);
	assert_string_equal(name, "home");
	free(name);
	free(p2);
	/* the active path needs the script to exist */
	assert_int_equal(sieve_store_active_path(dir, "nobody@example.test", &path, &error), 0);
	free(sdir);
}

static int setup(void **state)
{
	char *text, *error = NULL, *after;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tern-test-sieve-XXXXXX");
	assert_non_null(mkdtemp(dir));
	after = xasprintf("%s/after.sieve", dir);
	write_file(after, "require [\"fileinto\", \"mailbox\"];\n"
	                  "if header :is \"X-Spam\" \"yes\" { fileinto :create \"Junk\"; }\n");
	text = xasprintf("hostname = mail.example.test\ndata_dir = %s\nsieve {\n\tafter = %s\n}\n",
	                 dir, after);
	if (settings_load_buffer(&tern_settings_schema, "/t/tern.conf", text, strlen(text),
	                         &settings, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	free(text);
	free(after);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	settings_free(&settings);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keep_and_flags),
	    cmocka_unit_test(test_fileinto),
	    cmocka_unit_test(test_discard_and_reject),
	    cmocka_unit_test(test_runtime_error_keeps),
	    cmocka_unit_test(test_redirect_limit),
	    cmocka_unit_test(test_include_personal),
	    cmocka_unit_test(test_after_script_and_cache),
	    cmocka_unit_test(test_vacation_once),
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
