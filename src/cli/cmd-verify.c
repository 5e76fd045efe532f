/* tern verify: the mail-authentication checks Tern runs on received mail,
   on the command line: SPF alone (--spf-only), or the whole pipeline of
   port 25 (mailauth.h) on a message read from standard input. */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns-resolver.h"
#include "dns/dns-settings.h"
#include "lib/buf.h"
#include "lib/settings.h"
#include "mailauth/mailauth-settings.h"
#include "mailauth/mailauth.h"
#include "mailauth/psl.h"
#include "dns/dns-driver.h"
#include "mailauth/spf.h"
#include "smtp/smtp-settings.h"

/* The largest message read from standard input. */
#define VERIFY_MAX_MESSAGE (64 * 1024 * 1024)

struct verify_opts {
	const char *ip, *helo, *mail_from, *zone, *hostname, *psl;
	unsigned timeout_msecs;
	bool spf_only;
};

static void usage(FILE *out)
{
	fputs("usage: tern verify [--ip IP] [--helo NAME] [--mail-from ADDR] [--zone FILE]\n"
	      "                   [--dns-timeout MSECS] [--hostname NAME] [--psl FILE]\n"
	      "                   < message\n"
	      "       tern verify --spf-only --ip IP [--helo NAME] [--mail-from ADDR]\n"
	      "                   [--zone FILE] [--dns-timeout MSECS] [--hostname NAME]\n\n"
	      "Reads a message from standard input and prints the Authentication-Results\n"
	      "value (SPF, DKIM, DMARC, ARC) Tern would add to it when received on port\n"
	      "25 from a client at IP that said HELO NAME and MAIL FROM:<ADDR> (no --ip:\n"
	      "SPF is not checked). --hostname is the authserv-id (default: the config's\n"
	      "hostname with -c, else this machine's name).\n\n"
	      "With --spf-only no message is read: prints the SPF result alone. The first\n"
	      "word is the result (pass, fail, softfail, neutral, none, temperror,\n"
	      "permerror); an \"explanation:\" line follows for a fail with exp=.\n\n"
	      "With --zone, DNS answers come from FILE only (see docs/dns.md).\n",
	      out);
}

static int parse_unsigned(const char *s, unsigned *v_r)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 600000)
		return -1;
	*v_r = (unsigned)v;
	return 0;
}

/* The value options, by name. */
static const char **opt_slot(struct verify_opts *o, const char *name)
{
	if (strcmp(name, "--ip") == 0)
		return &o->ip;
	if (strcmp(name, "--helo") == 0)
		return &o->helo;
	if (strcmp(name, "--mail-from") == 0)
		return &o->mail_from;
	if (strcmp(name, "--zone") == 0)
		return &o->zone;
	if (strcmp(name, "--hostname") == 0)
		return &o->hostname;
	if (strcmp(name, "--psl") == 0)
		return &o->psl;
	return NULL;
}

static int parse_args(int argc, char **argv, struct verify_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char **slot = opt_slot(o, argv[i]);

		if (strcmp(argv[i], "--spf-only") == 0) {
			o->spf_only = true;
		} else if (slot != NULL && i + 1 < argc) {
			*slot = argv[++i];
		} else if (strcmp(argv[i], "--dns-timeout") == 0 && i + 1 < argc) {
			if (parse_unsigned(argv[++i], &o->timeout_msecs) < 0) {
				cli_error("verify: bad --dns-timeout %s (milliseconds)", argv[i]);
				return -1;
			}
		} else {
			cli_error("verify: unknown or incomplete option %s (try --help)", argv[i]);
			return -1;
		}
	}
	return 0;
}

struct verify_run {
	bool done;
};

static void spf_done(void *check, void *context)
{
	struct verify_run *run = context;

	run->done = true;
}

static void print_result(const struct spf_check *check, const struct verify_opts *o)
{
	const char *expl = spf_check_explanation(check);
	bool helo = o->mail_from == NULL || o->mail_from[0] == '\0';

	printf("%s smtp.%s=%s (%s)\n", spf_result_name(spf_check_result(check)),
	       helo ? "helo" : "mailfrom", spf_check_domain(check), spf_check_reason(check));
	if (expl != NULL)
		printf("explanation: %s\n", expl);
}

/* Run the check on the event loop; the resolver answers from the zone
   file when one is given. */
static int run_spf(const struct verify_opts *o, struct spf_check *check)
{
	struct dns_resolver_settings set = {.zone_file = o->zone,
	                                    .timeout_msecs = o->timeout_msecs};
	struct event_base *base = event_base_new();
	struct dns_resolver *resolver;
	struct verify_run run = {false};
	char *error;

	if (base == NULL) {
		cli_error("verify: cannot create the event loop");
		return 1;
	}
	if (dns_resolver_new(base, &set, &resolver, &error) < 0) {
		cli_error("verify: %s", error);
		free(error);
		event_base_free(base);
		return 1;
	}
	if (dns_driver_start(resolver, &spf_check_ops, check, spf_done, &run) == NULL)
		run.done = true;
	while (!run.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	dns_resolver_free(&resolver);
	event_base_free(base);
	if (!run.done) {
		cli_error("verify: the event loop stopped before the check finished");
		return 1;
	}
	print_result(check, o);
	return 0;
}

/* ---- the whole pipeline on a message ---- */

/* What the full run takes from the config (-c) or the defaults. */
struct verify_env {
	struct tern_settings *settings; /* NULL without -c */
	struct psl *psl;
	char host[256];
};

static bool config_given(const struct cli_ctx *ctx)
{
	return strcmp(ctx->config_path, "/etc/tern/tern.conf") != 0;
}

/* Settings from -c, the PSL, the authserv-id. Returns 0 or -1 (printed). */
static int env_load(const struct cli_ctx *ctx, struct verify_opts *o, struct verify_env *env)
{
	const char *psl_path = o->psl;
	char *error;

	if (config_given(ctx) && (env->settings = cli_load_settings(ctx)) == NULL)
		return -1;
	if (env->settings != NULL) {
		if (o->hostname == NULL)
			o->hostname = env->settings->hostname;
		if (o->zone == NULL)
			o->zone = dns_settings(env->settings)->zone_file;
		if (o->timeout_msecs == 0)
			o->timeout_msecs = dns_settings(env->settings)->timeout * 1000;
		if (psl_path == NULL)
			psl_path = mailauth_settings(env->settings)->psl_file;
	}
	if (o->hostname == NULL && gethostname(env->host, sizeof(env->host)) == 0) {
		env->host[sizeof(env->host) - 1] = '\0';
		o->hostname = env->host;
	}
	if (psl_path == NULL && access("/usr/share/publicsuffix/public_suffix_list.dat", R_OK) == 0)
		psl_path = "/usr/share/publicsuffix/public_suffix_list.dat";
	if (psl_path == NULL) {
		env->psl = psl_new();
	} else if (psl_load(psl_path, &env->psl, &error) < 0) {
		cli_error("verify: %s", error);
		free(error);
		return -1;
	}
	return 0;
}

static void env_free(struct verify_env *env)
{
	psl_free(&env->psl);
	settings_free(&env->settings);
}

static void full_done(void *context)
{
	struct verify_run *run = context;

	run->done = true;
}

/* Stream standard input into the pipeline. Returns 0 or -1 (printed). */
static int feed_stdin(struct mailauth *ma)
{
	char chunk[65536];
	size_t n, total = 0;
	const char *error;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		total += n;
		if (total > VERIFY_MAX_MESSAGE) {
			cli_error("verify: the message is over %d bytes", VERIFY_MAX_MESSAGE);
			return -1;
		}
		if (mailauth_feed(ma, chunk, n, &error) < 0) {
			cli_error("verify: bad message: %s", error);
			return -1;
		}
	}
	if (ferror(stdin)) {
		cli_error("verify: cannot read the message from standard input");
		return -1;
	}
	return 0;
}

static struct mailauth *pipeline_new(const struct verify_opts *o, const struct verify_env *env,
                                     struct dns_resolver *resolver, struct event_base *base)
{
	const struct mailauth_settings *set =
	    env->settings != NULL ? mailauth_settings(env->settings) : NULL;
	struct mailauth_params params = {
	    .ip = o->ip,
	    .helo = o->helo,
	    .mail_from = o->mail_from,
	    .authserv_id = o->hostname,
	    .psl = env->psl,
	    .spf = set == NULL || set->spf, /* no --ip: spf=none (not checked) */
	    .dkim = set == NULL || set->dkim,
	    .dmarc = set == NULL || set->dmarc,
	    .arc = set == NULL || set->dkim, /* as on port 25 */
	    .max_header_size =
	        set != NULL ? (size_t)smtp_settings(env->settings)->max_header_size : 0,
	    .dmarc_sample = -1,
	};

	return mailauth_new(&params, resolver, base);
}

/* Feed, finish, wait and print. Returns the exit code. */
static int run_pipeline(struct mailauth *ma, struct event_base *base)
{
	struct verify_run run = {false};
	struct buf out = BUF_INIT;

	if (feed_stdin(ma) < 0)
		return 1;
	mailauth_finish(ma, full_done, &run);
	while (!run.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	if (!run.done) {
		cli_error("verify: the event loop stopped before the checks finished");
		return 1;
	}
	mailauth_write_value(ma, &out, false);
	printf("%.*s\n", (int)out.len, out.data);
	buf_free(&out);
	return 0;
}

static int run_full(const struct cli_ctx *ctx, struct verify_opts *o)
{
	struct verify_env env = {0};
	struct event_base *base = NULL;
	struct dns_resolver *resolver = NULL;
	struct dns_resolver_settings set = {0};
	struct mailauth *ma;
	char *error;
	int ret = 1;

	if (env_load(ctx, o, &env) < 0)
		goto out;
	set.zone_file = o->zone;
	set.timeout_msecs = o->timeout_msecs;
	if ((base = event_base_new()) == NULL) {
		cli_error("verify: cannot create the event loop");
		goto out;
	}
	if (dns_resolver_new(base, &set, &resolver, &error) < 0) {
		cli_error("verify: %s", error);
		free(error);
		goto out;
	}
	ma = pipeline_new(o, &env, resolver, base);
	ret = run_pipeline(ma, base);
	mailauth_free(&ma);
out:
	dns_resolver_free(&resolver);
	if (base != NULL)
		event_base_free(base);
	env_free(&env);
	return ret;
}

/* Options that make no sense: one line, exit 1. */
static int check_full_opts(const struct verify_opts *o)
{
	struct spf_check *check = NULL;
	const char *error;
	struct spf_check_params params = {.ip = o->ip, .helo = "", .mail_from = ""};

	if (o->ip != NULL && spf_check_new(&params, &check, &error) < 0) {
		cli_error("verify: --ip %s: %s", o->ip, error);
		return -1;
	}
	spf_check_free(&check);
	if (o->mail_from != NULL && strchr(o->mail_from, '@') == NULL && o->mail_from[0] != '\0') {
		cli_error("verify: --mail-from %s: not an address", o->mail_from);
		return -1;
	}
	return 0;
}

static bool wants_spf_only(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--spf-only") == 0)
			return true;
	}
	return false;
}

static int run_spf_only(struct verify_opts *o)
{
	struct spf_check *check;
	const char *error;
	char host[256];
	int ret;

	if (o->ip == NULL) {
		cli_error("verify: --ip is required");
		return 2;
	}
	if (o->hostname == NULL && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		o->hostname = host;
	}
	struct spf_check_params params = {
	    .ip = o->ip,
	    .helo = o->helo != NULL ? o->helo : "",
	    .mail_from = o->mail_from != NULL ? o->mail_from : "",
	    .receiver = o->hostname,
	};
	if (spf_check_new(&params, &check, &error) < 0) {
		cli_error("verify: --ip %s: %s", o->ip, error);
		return 1;
	}
	ret = run_spf(o, check);
	spf_check_free(&check);
	return ret;
}

int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o = {0};
	bool spf_only = wants_spf_only(argc, argv);

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o) < 0)
		return spf_only ? 2 : 1; /* --spf-only keeps its old exit code */
	if (spf_only)
		return run_spf_only(&o);
	if (check_full_opts(&o) < 0)
		return 1;
	return run_full(ctx, &o);
}
