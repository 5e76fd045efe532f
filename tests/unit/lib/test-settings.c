/* Unit tests for src/lib/settings.c: typed settings over the config parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth-settings.h"
#include "cli/cli-settings.h"
#include "dns/dns-settings.h"
#include "imap/imap-settings.h"
#include "pop3/pop3-settings.h"
#include "lib/fsutil.h"
#include "lib/settings-private.h"
#include "lib/xalloc.h"
#include "mailauth/mailauth-settings.h"
#include "managesieve/managesieve-settings.h"
#include "smtp/smtp-settings.h"

#define PATH "/etc/tern/tern.conf"

static struct tern_settings *load_ok(const char *text)
{
	struct tern_settings *set = NULL;
	char *error = NULL;

	if (settings_load_buffer(&tern_settings_schema, PATH, text, strlen(text), &set, &error) < 0)
		fail_msg("unexpected error: %s", error);
	return set;
}

static void expect_error(const char *text, const char *expected)
{
	struct tern_settings *set = NULL;
	char *error = NULL;

	assert_int_equal(
	    settings_load_buffer(&tern_settings_schema, PATH, text, strlen(text), &set, &error),
	    -1);
	assert_null(set);
	assert_string_equal(error, expected);
	free(error);
}

static void test_defaults(void **state)
{
	struct tern_settings *set = load_ok("hostname = mail.example.test\n");

	assert_string_equal(set->config_path, PATH);
	assert_string_equal(set->hostname, "mail.example.test");
	assert_string_equal(set->data_dir, "/etc/tern");
	assert_string_equal(set->mail_dir, "/etc/tern/mail");
	assert_string_equal(set->directory_path, "/etc/tern/directory.db");
	assert_string_equal(set->run_user, "tern");
	assert_int_equal(set->log_level, LOG_INFO);
	assert_string_equal(set->tls.cert, "/etc/tern/tls/cert.pem");
	assert_string_equal(set->tls.key, "/etc/tern/tls/key.pem");
	assert_int_equal(set->tls.min_version, 12);
	assert_int_equal(auth_settings(set)->min_password_length, 12);
	assert_false(auth_settings(set)->plaintext_on_loopback);
	assert_int_equal(smtp_settings(set)->max_message_size, 25 * 1024 * 1024);
	assert_int_equal(smtp_settings(set)->max_recipients, 100);
	assert_int_equal(smtp_settings(set)->bare_lf, BARE_LF_REJECT);
	assert_int_equal(smtp_settings(set)->trusted_network_count, 0);
	assert_int_equal(imap_settings(set)->max_literal_size, 64 * 1024 * 1024);
	assert_int_equal(set->limits.line_length, 8192);
	assert_int_equal(set->limits.login_timeout, 60);
	assert_int_equal(set->limits.idle_timeout, 1800);
	assert_int_equal(set->limits.max_errors, 10);
	assert_int_equal(set->limits.max_errors_prelogin, 5);
	assert_int_equal(set->limits.session_timeout, 300);
	assert_int_equal(set->listener_count, 0);
	assert_int_equal(smtp_settings(set)->max_header_size, 256 * 1024);
	assert_null(dns_settings(set)->zone_file);
	assert_int_equal(dns_settings(set)->forwarder_count, 0);
	assert_int_equal(dns_settings(set)->timeout, 5);
	assert_true(mailauth_settings(set)->spf);
	assert_true(mailauth_settings(set)->dkim);
	assert_true(mailauth_settings(set)->dmarc);
	assert_int_equal(mailauth_settings(set)->dmarc_reject, DMARC_REJECT_REJECT);
	assert_int_equal(mailauth_settings(set)->dmarc_quarantine, DMARC_QUARANTINE_JUNK);
	assert_string_equal(mailauth_settings(set)->psl_file,
	                    "/usr/share/publicsuffix/public_suffix_list.dat");
	settings_free(&set);
	assert_null(set);
	settings_free(&set);
}

static void test_every_type(void **state)
{
	struct tern_settings *set = load_ok(
	    "hostname = h.test\ndata_dir = /srv/tern/\nmail_dir = ./m\ndirectory = db/d.db\n"
	    "user = \"vmail\"\nlog_level = debug\n"
	    "tls {\n cert = /c.pem\n min_version = 1.3\n}\n"
	    "auth {\n min_password_length = 8\n plaintext_on_loopback = yes\n}\n"
	    "smtp {\n max_message_size = 1g\n max_recipients = 50\n bare_lf = reject\n"
	    " trusted_networks = 10.0.0.0/8 , 2001:db8::/32,192.0.2.1/32\n}\n"
	    "imap {\n max_literal_size = 512K\n}\n"
	    "limits {\n line_length = 1000\n login_timeout = 2m\n idle_timeout = 2h\n"
	    " max_errors = 3\n max_errors_prelogin = 2\n session_timeout = 45s\n}\n"
	    "limits {\n}\n");

	assert_string_equal(set->data_dir, "/srv/tern");
	assert_string_equal(set->mail_dir, "/etc/tern/m");
	assert_string_equal(set->directory_path, "/etc/tern/db/d.db");
	assert_string_equal(set->run_user, "vmail");
	assert_int_equal(set->log_level, LOG_DEBUG);
	assert_string_equal(set->tls.cert, "/c.pem");
	assert_string_equal(set->tls.key, "/srv/tern/tls/key.pem");
	assert_int_equal(set->tls.min_version, 13);
	assert_int_equal(auth_settings(set)->min_password_length, 8);
	assert_true(auth_settings(set)->plaintext_on_loopback);
	assert_int_equal(smtp_settings(set)->max_message_size, 1024ULL * 1024 * 1024);
	assert_int_equal(smtp_settings(set)->max_recipients, 50);
	assert_int_equal(smtp_settings(set)->trusted_network_count, 3);
	assert_string_equal(smtp_settings(set)->trusted_networks[0], "10.0.0.0/8");
	assert_string_equal(smtp_settings(set)->trusted_networks[1], "2001:db8::/32");
	assert_string_equal(smtp_settings(set)->trusted_networks[2], "192.0.2.1/32");
	assert_int_equal(imap_settings(set)->max_literal_size, 512 * 1024);
	assert_int_equal(set->limits.line_length, 1000);
	assert_int_equal(set->limits.login_timeout, 120);
	assert_int_equal(set->limits.idle_timeout, 7200);
	assert_int_equal(set->limits.max_errors, 3);
	assert_int_equal(set->limits.max_errors_prelogin, 2);
	assert_int_equal(set->limits.session_timeout, 45);
	settings_free(&set);

	set = load_ok("hostname = h\nsmtp {\nmax_header_size = 64K\n}\n"
	              "dns {\n zone_file = zone.txt\n forwarders = 192.0.2.53, ::1@5353\n"
	              " timeout = 2s\n}\n"
	              "mailauth {\n spf = no\n dkim = no\n dmarc = no\n dmarc_reject = quarantine\n"
	              " dmarc_quarantine = none\n psl_file = /p.dat\n}\n");
	assert_int_equal(smtp_settings(set)->max_header_size, 64 * 1024);
	assert_string_equal(dns_settings(set)->zone_file, "/etc/tern/zone.txt");
	assert_int_equal(dns_settings(set)->forwarder_count, 2);
	assert_string_equal(dns_settings(set)->forwarders[1], "::1@5353");
	assert_int_equal(dns_settings(set)->timeout, 2);
	assert_false(mailauth_settings(set)->spf);
	assert_false(mailauth_settings(set)->dkim);
	assert_false(mailauth_settings(set)->dmarc);
	assert_int_equal(mailauth_settings(set)->dmarc_reject, DMARC_REJECT_QUARANTINE);
	assert_int_equal(mailauth_settings(set)->dmarc_quarantine, DMARC_QUARANTINE_NONE);
	assert_string_equal(mailauth_settings(set)->psl_file, "/p.dat");
	settings_free(&set);
	set =
	    load_ok("hostname = h\ndns {\n zone_file =\n}\nmailauth {\n dmarc_reject = none\n}\n");
	assert_null(dns_settings(set)->zone_file);
	assert_int_equal(mailauth_settings(set)->dmarc_reject, DMARC_REJECT_NONE);
	settings_free(&set);

	set = load_ok("hostname = h\nsmtp {\nmax_message_size = 2048\n}\n"
	              "limits {\nidle_timeout = 90\n}\nauth {\nplaintext_on_loopback = FALSE\n}\n");
	assert_int_equal(smtp_settings(set)->max_message_size, 2048);
	assert_int_equal(set->limits.idle_timeout, 90);
	assert_false(auth_settings(set)->plaintext_on_loopback);
	settings_free(&set);
}

static void test_listeners(void **state)
{
	struct tern_settings *set =
	    load_ok("hostname = h\n"
	            "listener smtp {\n address = 127.0.0.1:25, [::1]:25\n}\n"
	            "listener submission {\n address = *:587\n}\n"
	            "listener submissions {\n address = *:465\n}\n"
	            "listener imap {\n address = 0.0.0.0:143\n tls = none\n}\n"
	            "listener imaps {\n address = [::]:993\n}\n");
	static const enum tls_mode expected[] = {TLS_MODE_STARTTLS, TLS_MODE_STARTTLS,
	                                         TLS_MODE_IMPLICIT, TLS_MODE_NONE,
	                                         TLS_MODE_IMPLICIT};

	assert_int_equal(set->listener_count, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_ptr_equal(set->listeners[i].service, tern_settings_schema.services[i]);
		assert_int_equal(set->listeners[i].tls, expected[i]);
	}
	assert_int_equal(set->listeners[0].address_count, 2);
	assert_string_equal(set->listeners[0].addresses[1], "[::1]:25");
	settings_free(&set);
}

static void test_errors(void **state)
{
	static const struct {
		const char *in;
		const char *error;
	} cases[] = {
	    {"hostname = h\n\nfoo = 1\n", PATH ":3: unknown key \"foo\""},
	    {"log_level = info\n", PATH ": hostname is required (hostname = mail.example.com)"},
	    {"hostname =\n", PATH ":1: hostname must not be empty"},
	    {"hostname = a\nhostname = b\n",
	     PATH ":2: duplicate key \"hostname\" (already set on line 1)"},
	    {"hostname = a\nsmtp {\nmax_recipients = 5\n}\nsmtp {\nmax_recipients = 6\n}\n",
	     PATH ":6: duplicate key \"max_recipients\" (already set on line 3)"},
	    {"hostname = h\nsmtp {\n\tmax_message_size = 12X\n}\n",
	     PATH ":3: bad value for max_message_size: \"12X\" (expected a size like 25M)"},
	    {"hostname = h\nsmtp {\nmax_message_size = 12\n}\n",
	     PATH ":3: bad value for max_message_size: \"12\" (expected a size like 25M from "
	          "1024 to 1099511627776)"},
	    {"hostname = h\nsmtp {\nmax_message_size = 99999999999999999999\n}\n",
	     PATH ":3: bad value for max_message_size: \"99999999999999999999\" (expected a "
	          "size like 25M)"},
	    {"hostname = h\nsmtp {\nmax_message_size = 20000000000G\n}\n",
	     PATH ":3: bad value for max_message_size: \"20000000000G\" (expected a size like "
	          "25M)"},
	    {"hostname = h\nlimits {\nlogin_timeout = 5x\n}\n",
	     PATH ":3: bad value for login_timeout: \"5x\" (expected a duration like 30s, 5m, "
	          "2h or 1d)"},
	    {"hostname = h\nlimits {\nmax_errors = -1\n}\n",
	     PATH ":3: bad value for max_errors: \"-1\" (expected a number)"},
	    {"hostname = h\nauth {\nplaintext_on_loopback = maybe\n}\n",
	     PATH ":3: bad value for plaintext_on_loopback: \"maybe\" (expected yes or no)"},
	    {"hostname = h\nlog_level = loud\n",
	     PATH ":2: bad value for log_level: \"loud\" (expected debug, info, warn or error)"},
	    {"hostname = h\ntls {\nmin_version = 1.1\n}\n",
	     PATH ":3: bad value for min_version: \"1.1\" (expected 1.2 or 1.3)"},
	    {"hostname = h\nsmtp {\nbare_lf = accept\n}\n",
	     PATH ":3: bad value for bare_lf: \"accept\" (expected reject)"},
	    {"hostname = h\nsmtp {\ntrusted_networks = 10.0.0.0/8, 10.0.0.0/33\n}\n",
	     PATH ":3: bad value for trusted_networks: \"10.0.0.0/33\" (expected networks like "
	          "192.0.2.0/24, 2001:db8::/32)"},
	    {"hostname = h\nsmtp {\ntrusted_networks = 10.0.0.1\n}\n",
	     PATH ":3: bad value for trusted_networks: \"10.0.0.1\" (expected networks like "
	          "192.0.2.0/24, 2001:db8::/32)"},
	    {"hostname = h\nsmtp {\ntrusted_networks = 10.0.0.0/8,\n}\n",
	     PATH ":3: bad value for trusted_networks: \"\" (expected networks like "
	          "192.0.2.0/24, 2001:db8::/32)"},
	    {"hostname = h\nlistener smtp {\naddress = 127.0.0.1\n}\n",
	     PATH ":3: bad value for address: \"127.0.0.1\" (expected addresses like "
	          "127.0.0.1:25, [::1]:25, *:25, unix:PATH)"},
	    {"hostname = h\nlistener smtp {\naddress = ::1:25\n}\n",
	     PATH ":3: bad value for address: \"::1:25\" (expected addresses like "
	          "127.0.0.1:25, [::1]:25, *:25, unix:PATH)"},
	    {"hostname = h\nlistener smtp {\naddress = *:65536\n}\n",
	     PATH ":3: bad value for address: \"*:65536\" (expected addresses like "
	          "127.0.0.1:25, [::1]:25, *:25, unix:PATH)"},
	    {"hostname = h\nlistener smtp {\naddress = unix:\n}\n",
	     PATH ":3: bad value for address: \"unix:\" (expected addresses like "
	          "127.0.0.1:25, [::1]:25, *:25, unix:PATH)"},
	    {"hostname = h\nlistener smtp {\naddress = *:25\ntls = maybe\n}\n",
	     PATH ":4: bad value for tls: \"maybe\" (expected none, starttls or implicit)"},
	    {"hostname = h\nlistener smtp {\n}\n",
	     PATH ":2: listener smtp has no address (address = *:25)"},
	    {"hostname = h\nlistener http {\n}\n",
	     PATH ":2: unknown service \"http\" (expected smtp, submission, submissions, imap, "
	          "imaps, pop3, pop3s, lmtp or sieve)"},
	    {"hostname = h\nlistener {\n}\n",
	     PATH ":2: listener needs a service: listener smtp { ... } (one of smtp, "
	          "submission, submissions, imap, imaps, pop3, pop3s, lmtp, sieve)"},
	    {"hostname = h\nbogus {\n}\n", PATH ":2: unknown block \"bogus\""},
	    {"hostname = h\ndns {\nforwarders = 192.0.2.1:53\n}\n",
	     PATH ":3: bad value for forwarders: \"192.0.2.1:53\" (expected IP addresses like "
	          "192.0.2.53, ::1@5353)"},
	    {"hostname = h\ndns {\nforwarders = ::1@0\n}\n",
	     PATH ":3: bad value for forwarders: \"::1@0\" (expected IP addresses like "
	          "192.0.2.53, ::1@5353)"},
	    {"hostname = h\nmailauth {\ndmarc_reject = bounce\n}\n",
	     PATH ":3: bad value for dmarc_reject: \"bounce\" (expected reject, quarantine or "
	          "none)"},
	    {"hostname = h\nmailauth {\ndmarc_quarantine = spam\n}\n",
	     PATH ":3: bad value for dmarc_quarantine: \"spam\" (expected junk or none)"},
	    {"hostname = h\nmailauth {\npsl_file =\n}\n", PATH ":3: psl_file must not be empty"},
	    {"hostname = h\ndns {\ntimeout = 0\n}\n",
	     PATH ":3: bad value for timeout: \"0\" (expected a duration like 30s, 5m, 2h or "
	          "1d from 1 to 300)"},
	    {"hostname = h\ntls x {\n}\n", PATH ":2: block tls takes no label"},
	    {"hostname = h\ntls {\nsub {\n}\n}\n", PATH ":3: unknown block \"sub\" in tls { }"},
	    {"hostname = h\ntls {\nhostname = x\n}\n",
	     PATH ":3: unknown key \"hostname\" in tls { }"},
	    {"hostname = h\ntls = x\n", PATH ":2: tls is a block: write tls { ... }"},
	    {"hostname = h\n}\n", PATH ":2: \"}\" without an open block"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].in, cases[i].error);
}

static char *dump_body(const struct tern_settings *set)
{
	char *dump = settings_dump(set);
	/* the first line names the file, which differs between the two */
	char *body = xstrdup(strchr(dump, '\n'));

	free(dump);
	return body;
}

static void test_dump_round_trip(void **state)
{
	char dir[] = "/tmp/tern-test-settings-XXXXXX";
	struct tern_settings *set, *again = NULL;
	char *path, *dump, *body1, *body2, *error = NULL;

	set = load_ok("hostname = h.test\nuser = \"odd # name \\\\ \"\n"
	              "smtp {\n trusted_networks = 10.0.0.0/8, ::1/128\n max_message_size = 1500\n}"
	              "\nlimits {\n idle_timeout = 61\n login_timeout = 120\n}\n"
	              "dns {\n forwarders = 192.0.2.53, ::1@5353\n}\n"
	              "mailauth {\n dmarc_reject = quarantine\n}\n"
	              "listener imaps {\n address = *:993, [::1]:10993\n tls = none\n}\n");
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/tern.conf", dir);
	dump = settings_dump(set);
	assert_non_null(strstr(dump, "\tidle_timeout = 61s\n"));
	assert_non_null(strstr(dump, "\tlogin_timeout = 2m\n"));
	assert_non_null(strstr(dump, "\tmax_message_size = 1500\n"));
	assert_non_null(strstr(dump, "\tzone_file =\n"));
	assert_non_null(strstr(dump, "\tdmarc_reject = quarantine\n"));
	assert_non_null(strstr(dump, "user = \"odd # name \\\\ \"\n"));
	assert_int_equal(write_file_atomic(path, dump, strlen(dump), 0600), 0);
	if (settings_load(&tern_settings_schema, path, &again, &error) < 0)
		fail_msg("reload: %s", error);
	body1 = dump_body(set);
	body2 = dump_body(again);
	assert_string_equal(body1, body2);
	assert_string_equal(again->run_user, "odd # name \\ ");
	assert_int_equal(again->listeners[0].tls, TLS_MODE_NONE);
	free(body1);
	free(body2);
	free(dump);
	settings_free(&again);
	settings_free(&set);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_load_file_errors(void **state)
{
	struct tern_settings *set = NULL;
	char *error = NULL;

	assert_int_equal(
	    settings_load(&tern_settings_schema, "/nonexistent/tern.conf", &set, &error), -1);
	assert_string_equal(error, "/nonexistent/tern.conf: No such file or directory");
	free(error);
	assert_int_equal(settings_load(&tern_settings_schema, "/tmp", &set, &error), -1);
	assert_string_equal(error, "/tmp: not a regular file");
	free(error);
	assert_null(set);
}

static void test_services(void **state)
{
	const struct settings_schema *schema = &tern_settings_schema;

	assert_ptr_equal(settings_find_service(schema, "submissions"), &smtp_service_submissions);
	assert_ptr_equal(settings_find_service(schema, "sieve"), &managesieve_service_sieve);
	assert_int_equal(managesieve_service_sieve.default_port, 4190);
	assert_ptr_equal(settings_find_service(schema, "pop3s"), &pop3_service_pop3s);
	assert_int_equal(pop3_service_pop3.default_port, 110);
	assert_int_equal(pop3_service_pop3s.default_port, 995);
	assert_int_equal(pop3_service_pop3.default_tls, TLS_MODE_STARTTLS);
	assert_int_equal(pop3_service_pop3s.default_tls, TLS_MODE_IMPLICIT);
	assert_string_equal(imap_service_imaps.name, "imaps");
	assert_int_equal(smtp_service_smtp.default_port, 25);
	assert_int_equal(smtp_service_submission.default_port, 587);
	assert_int_equal(smtp_service_submissions.default_port, 465);
	assert_int_equal(imap_service_imap.default_port, 143);
	assert_int_equal(imap_service_imaps.default_port, 993);
	assert_int_equal(imap_service_imap.default_tls, TLS_MODE_STARTTLS);
	assert_int_equal(imap_service_imaps.default_tls, TLS_MODE_IMPLICIT);
}

/* ---- the mechanism with a schema of its own, as a new role would add ---- */

struct toy_settings {
	unsigned count;
	uint64_t size;
	bool flag;
	int mode;
	char *file;
	char *spool;
	char **peers;
	size_t peer_count;
};

static const char *const toy_mode_names[] = {"slow", "fast"};
static const struct setting_names toy_modes = {toy_mode_names, 2, "slow or fast", 0};

static const struct setting_def toy_keys[] = {
    SETTING(struct toy_settings, "count", SETTING_UINT, count, 1, 9, "4"),
    SETTING(struct toy_settings, "size", SETTING_SIZE, size, 0, SETTINGS_GIB, "2M"),
    SETTING(struct toy_settings, "flag", SETTING_BOOL, flag, 0, 0, "yes"),
    SETTING_ENUM_OF(struct toy_settings, "mode", mode, toy_modes, "fast"),
    SETTING_FILE(struct toy_settings, "file", SETTING_PATH, file, "toy/file.txt", SETTING_F_READ),
    SETTING_FILE(struct toy_settings, "spool", SETTING_OPT_PATH, spool, NULL, 0),
    SETTING_LIST(struct toy_settings, "peers", SETTING_IP_LIST, peers, peer_count),
};
static const struct settings_section toy_section = {"toy", sizeof(struct toy_settings), toy_keys,
                                                    7};
static const struct settings_section *const toy_sections[] = {&toy_section};
static const struct service_def toy_service = {"toy", 7000, TLS_MODE_IMPLICIT};
static const struct service_def *const toy_services[] = {&toy_service};
static const struct settings_schema toy_schema = {toy_sections, 1, toy_services, 1};

static struct tern_settings *toy_load(const struct settings_schema *schema, const char *text,
                                      char **error_r)
{
	struct tern_settings *set = NULL;

	*error_r = NULL;
	(void)settings_load_buffer(schema, PATH, text, strlen(text), &set, error_r);
	return set;
}

static void test_schema_of_its_own(void **state)
{
	char *error, *dump;
	struct tern_settings *set = toy_load(&toy_schema, "hostname = h\n", &error);
	const struct toy_settings *toy = settings_section(set, &toy_section);
	const char *path;
	size_t pos = 0;

	assert_int_equal(toy->count, 4);
	assert_int_equal(toy->size, 2 * 1024 * 1024);
	assert_true(toy->flag);
	assert_int_equal(toy->mode, 1);
	assert_string_equal(toy->file, "/etc/tern/toy/file.txt");
	assert_null(toy->spool);
	assert_int_equal(toy->peer_count, 0);
	/* the read paths: the toy's file only (zone and PSL are not in it) */
	path = settings_next_read_path(set, &pos);
	assert_non_null(path);
	assert_string_equal(path, "/etc/tern/toy/file.txt");
	assert_null(settings_next_read_path(set, &pos));
	settings_free(&set);

	set = toy_load(&toy_schema,
	               "hostname = h\ndata_dir = /d\ntoy {\n count = 9\n mode = slow\n"
	               " peers = 192.0.2.1, ::1@53\n spool = s\n}\n"
	               "listener toy {\n address = *:7000\n}\n",
	               &error);
	toy = settings_section(set, &toy_section);
	assert_int_equal(toy->count, 9);
	assert_int_equal(toy->mode, 0);
	assert_string_equal(toy->file, "/d/toy/file.txt");
	assert_string_equal(toy->spool, "/etc/tern/s");
	assert_int_equal(toy->peer_count, 2);
	assert_ptr_equal(set->listeners[0].service, &toy_service);
	assert_int_equal(set->listeners[0].tls, TLS_MODE_IMPLICIT);
	dump = settings_dump(set);
	assert_non_null(strstr(dump,
	                       "\ntoy {\n\tcount = 9\n\tsize = 2M\n\tflag = yes\n\tmode = slow\n"
	                       "\tfile = /d/toy/file.txt\n\tspool = /etc/tern/s\n"
	                       "\tpeers = 192.0.2.1, ::1@53\n}\n"));
	assert_non_null(strstr(dump, "\nlistener toy {\n\taddress = *:7000\n\ttls = implicit\n"
	                             "\tproxy_protocol =\n}\n"));
	assert_null(strstr(dump, "smtp"));
	free(dump);
	settings_free(&set);

	assert_null(toy_load(&toy_schema, "hostname = h\ntoy {\n mode = medium\n}\n", &error));
	assert_string_equal(error,
	                    PATH ":3: bad value for mode: \"medium\" (expected slow or fast)");
	free(error);
	assert_null(toy_load(&toy_schema, "hostname = h\ntoy {\n count = 10\n}\n", &error));
	assert_string_equal(error, PATH ":3: bad value for count: \"10\" (expected a number from "
	                                "1 to 9)");
	free(error);
	assert_null(toy_load(&toy_schema, "hostname = h\nsmtp {\n}\n", &error));
	assert_string_equal(error, PATH ":2: unknown block \"smtp\"");
	free(error);
	assert_null(toy_load(&toy_schema, "hostname = h\nlistener smtp {\n}\n", &error));
	assert_string_equal(error, PATH ":2: unknown service \"smtp\" (expected toy)");
	free(error);
	assert_null(toy_load(&toy_schema, "hostname = h\nlistener {\n}\n", &error));
	assert_string_equal(error,
	                    PATH ":2: listener needs a service: listener toy { ... } (one of toy)");
	free(error);
	assert_null(toy_load(&toy_schema, "hostname = h\ntoy = 1\n", &error));
	assert_string_equal(error, PATH ":2: toy is a block: write toy { ... }");
	free(error);
}

static void test_no_schema(void **state)
{
	char *error;
	struct tern_settings *set =
	    toy_load(NULL, "hostname = h\nlimits {\n max_errors = 2\n}\n", &error);
	size_t pos = 0;
	char *dump;

	assert_int_equal(set->limits.max_errors, 2);
	assert_null(settings_next_read_path(set, &pos));
	dump = settings_dump(set);
	assert_non_null(strstr(dump, "\nlimits {\n"));
	assert_null(strstr(dump, "\ntoy {\n"));
	free(dump);
	settings_free(&set);
	assert_null(toy_load(NULL, "hostname = h\nlistener toy {\n}\n", &error));
	assert_string_equal(error, PATH ":2: unknown service \"toy\" (expected none configured)");
	free(error);
	assert_null(settings_find_service(NULL, "toy"));
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t out;
	} cases[] = {
	    {"30", 0, 30},    {"30s", 0, 30},         {"5m", 0, 300}, {"2H", 0, 7200},
	    {"1d", 0, 86400}, {"35d", 0, 35 * 86400}, {"", -1, 0},    {"1w", -1, 0},
	    {"m", -1, 0},     {"1dd", -1, 0},         {"-1", -1, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t n = 0;

		if (settings_parse_duration(cases[i].in, &n) != cases[i].ret)
			fail_msg("\"%s\": wrong result", cases[i].in);
		if (cases[i].ret == 0 && n != cases[i].out)
			fail_msg("\"%s\" gave %llu", cases[i].in, (unsigned long long)n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),        cmocka_unit_test(test_every_type),
	    cmocka_unit_test(test_listeners),       cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_dump_round_trip), cmocka_unit_test(test_load_file_errors),
	    cmocka_unit_test(test_services),        cmocka_unit_test(test_schema_of_its_own),
	    cmocka_unit_test(test_no_schema),       cmocka_unit_test(test_parse_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
