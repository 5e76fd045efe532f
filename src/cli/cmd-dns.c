/* tern dns DOMAIN: every DNS record a domain served by this Tern needs,
   in zone file form (docs/dkim.md lists them and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mailauth/dkim-keystore.h"

static const char usage_text[] =
    "usage: tern dns DOMAIN\n"
    "\n"
    "Prints the records to publish for DOMAIN: MX, SPF, the DKIM key(s) stored\n"
    "for it, DMARC, and the SRV (RFC 6186, RFC 8314) and autoconfig names mail\n"
    "clients use, all pointing at the config's hostname.\n";

/* The client SRV records: implicit TLS first (RFC 8314 5.1). */
static const struct {
	const char *service;
	unsigned priority, port;
} srv_records[] = {
    {"_submissions._tcp", 0, 465}, {"_submission._tcp", 10, 587}, {"_imaps._tcp", 0, 993},
    {"_imap._tcp", 10, 143},       {"_pop3s._tcp", 0, 995},       {"_pop3._tcp", 10, 110},
};

static void print_dkim(const char *data_dir, const char *domain)
{
	char **sel;
	size_t count;

	dkim_key_selectors(data_dir, domain, &sel, &count);
	if (count == 0)
		printf("; no DKIM key yet: tern dkim keygen --domain %s\n", domain);
	for (size_t i = 0; i < count; i++) {
		EVP_PKEY *pkey;
		char *selector, *txt, *line;
		const char *error;

		if (dkim_key_find(data_dir, domain, sel[i], &pkey, &selector, &error) < 0) {
			printf("; DKIM key %s: %s\n", sel[i], error);
			continue;
		}
		txt = dkim_key_txt_record(pkey);
		line = txt == NULL ? NULL : dkim_txt_zone_line(domain, selector, txt);
		if (line != NULL)
			printf("%s\n", line);
		free(line);
		free(txt);
		free(selector);
		EVP_PKEY_free(pkey);
	}
	dkim_selectors_free(sel, count);
}

static void print_records(const char *domain, const char *host, const char *data_dir)
{
	printf("; DNS records for %s, served by %s\n", domain, host);
	printf("; %s also needs A/AAAA records (and a PTR for each address)\n", host);
	printf("%s. IN MX 10 %s.\n", domain, host);
	printf("%s. IN TXT \"v=spf1 mx -all\"\n", domain);
	print_dkim(data_dir, domain);
	printf("_dmarc.%s. IN TXT \"v=DMARC1; p=quarantine; adkim=r; aspf=r; "
	       "rua=mailto:postmaster@%s\"\n",
	       domain, domain);
	for (size_t i = 0; i < sizeof(srv_records) / sizeof(srv_records[0]); i++)
		printf("%s.%s. IN SRV %u 1 %u %s.\n", srv_records[i].service, domain,
		       srv_records[i].priority, srv_records[i].port, host);
	printf("autoconfig.%s. IN CNAME %s.\n", domain, host);
	printf("autodiscover.%s. IN CNAME %s.\n", domain, host);
}

int cmd_dns(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!dkim_name_valid(argv[1]) || strchr(argv[1], '.') == NULL) {
		cli_error("dns: %s is not a domain name", argv[1]);
		return 1;
	}
	settings = cli_load_settings(ctx);
	if (settings == NULL)
		return 1;
	print_records(argv[1], settings->hostname, settings->data_dir);
	settings_free(&settings);
	return 0;
}
