/* tern verify: the mail-authentication checks Tern runs on received mail,
   on the command line. Only SPF exists so far (--spf-only). */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns-resolver.h"
#include "mailauth/spf-async.h"
#include "mailauth/spf.h"

struct verify_opts {
	const char *ip, *helo, *mail_from, *zone, *hostname;
	unsigned timeout_msecs;
	bool spf_only;
};

static void usage(FILE *out)
{
	fputs("usage: tern verify --spf-only --ip IP [--helo NAME] [--mail-from ADDR]\n"
	      "                   [--zone FILE] [--dns-timeout MSECS] [--hostname NAME]\n\n"
	      "Prints the SPF result Tern would give a client at IP that said HELO NAME\n"
	      "and MAIL FROM:<ADDR> (the HELO identity is checked when ADDR is empty).\n"
	      "The first word is the result (pass, fail, softfail, neutral, none,\n"
	      "temperror, permerror); an \"explanation:\" line follows for a fail with\n"
	      "exp=. With --zone, DNS answers come from FILE only (see docs/dns.md).\n"
	      "Without --spf-only the message on standard input would be checked with\n"
	      "DKIM and DMARC too: that is not built yet.\n",
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

static void spf_done(struct spf_check *check, void *context)
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
	if (spf_async_start(resolver, check, spf_done, &run) == NULL)
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

int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o = {0};
	struct spf_check *check;
	const char *error;
	char host[256];
	int ret;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (!o.spf_only) {
		cli_error("verify: DKIM and DMARC verification is not built yet; use --spf-only");
		return 1;
	}
	if (o.ip == NULL) {
		cli_error("verify: --ip is required");
		return 2;
	}
	if (o.hostname == NULL && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		o.hostname = host;
	}
	struct spf_check_params params = {
	    .ip = o.ip,
	    .helo = o.helo != NULL ? o.helo : "",
	    .mail_from = o.mail_from != NULL ? o.mail_from : "",
	    .receiver = o.hostname,
	};
	if (spf_check_new(&params, &check, &error) < 0) {
		cli_error("verify: --ip %s: %s", o.ip, error);
		return 1;
	}
	ret = run_spf(&o, check);
	spf_check_free(&check);
	return ret;
}
