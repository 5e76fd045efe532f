/* tern dkim keygen|sign|verify|txt: DKIM keys, signing and checking on the
   command line (docs/dkim.md). */
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "dns/dns-resolver.h"
#include "dns/dns-driver.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"
#include "mailauth/dkim-verify.h"

static const char usage_text[] =
    "usage: tern dkim keygen --domain D [--selector S] [--algorithm rsa|ed25519] [--bits N]\n"
    "       tern dkim txt --domain D [--selector S]\n"
    "       tern dkim sign --domain D [--selector S] < message > signed\n"
    "       tern dkim verify [--zone FILE] [--dns-timeout MSECS] [--now UNIXTIME] < message\n"
    "\n"
    "keygen stores a new key as <data_dir>/dkim/D/S.key (0600; default selector\n"
    "tern<YYYYMM>, RSA 2048) and prints the TXT record to publish. txt prints the\n"
    "record of a stored key. sign writes the message with a DKIM-Signature\n"
    "field added (the newest key of D unless --selector). verify prints the\n"
    "message's result, then one line per signature; it exits 0 on pass, 1\n"
    "otherwise. --data-dir DIR overrides the config's data_dir.\n";

struct dkim_opts {
	const char *domain, *selector, *algorithm, *zone, *data_dir;
	unsigned bits, timeout_msecs;
	long long now;
};

static int parse_number(const char *s, long long max, long long *v_r)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > max)
		return -1;
	*v_r = v;
	return 0;
}

static const char **opt_slot(struct dkim_opts *o, const char *name)
{
	static const char *const names[] = {"--domain", "--selector", "--algorithm", "--zone",
	                                    "--data-dir"};
	const char **slots[] = {&o->domain, &o->selector, &o->algorithm, &o->zone, &o->data_dir};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0)
			return slots[i];
	}
	return NULL;
}

static int parse_numeric_opt(struct dkim_opts *o, const char *name, const char *value)
{
	long long v;

	if (strcmp(name, "--bits") == 0 && parse_number(value, 16384, &v) == 0)
		o->bits = (unsigned)v;
	else if (strcmp(name, "--dns-timeout") == 0 && parse_number(value, 600000, &v) == 0)
		o->timeout_msecs = (unsigned)v;
	else if (strcmp(name, "--now") == 0 && parse_number(value, 1LL << 40, &v) == 0)
		o->now = v;
	else
		return -1;
	return 0;
}

static int parse_args(int argc, char **argv, struct dkim_opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char **slot = opt_slot(o, argv[i]);

		if (i + 1 >= argc) {
			cli_error("dkim: option %s needs a value (try --help)", argv[i]);
			return -1;
		}
		if (slot != NULL)
			*slot = argv[++i];
		else if (parse_numeric_opt(o, argv[i], argv[i + 1]) == 0)
			i++;
		else {
			cli_error("dkim: unknown option or bad value: %s (try --help)", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* data_dir from --data-dir or the config; *settings_r to free after. */
static const char *data_dir(const struct cli_ctx *ctx, const struct dkim_opts *o,
                            struct tern_settings **settings_r)
{
	*settings_r = NULL;
	if (o->data_dir != NULL)
		return o->data_dir;
	*settings_r = cli_load_settings(ctx);
	return *settings_r == NULL ? NULL : (*settings_r)->data_dir;
}

static int print_txt(const char *domain, const char *selector, EVP_PKEY *pkey)
{
	char *txt = dkim_key_txt_record(pkey), *line;

	if (txt == NULL) {
		cli_error("dkim: the key is neither RSA nor Ed25519");
		return 1;
	}
	line = dkim_txt_zone_line(domain, selector, txt);
	printf("%s\n", line);
	free(line);
	free(txt);
	return 0;
}

static int keygen_key(const struct dkim_opts *o, EVP_PKEY **pkey_r)
{
	enum dkim_key_type type = DKIM_KEY_RSA;
	const char *error;

	if (o->algorithm != NULL && strcmp(o->algorithm, "ed25519") == 0)
		type = DKIM_KEY_ED25519;
	else if (o->algorithm != NULL && strcmp(o->algorithm, "rsa") != 0) {
		cli_error("dkim: --algorithm must be rsa or ed25519");
		return -1;
	}
	if (dkim_key_generate(type, o->bits != 0 ? o->bits : DKIM_DEFAULT_RSA_BITS, pkey_r,
	                      &error) < 0) {
		cli_error("dkim: %s", error);
		return -1;
	}
	return 0;
}

static int dkim_keygen(const char *dir, const struct dkim_opts *o)
{
	char selbuf[32], *path;
	const char *selector = o->selector, *error;
	EVP_PKEY *pkey;
	int ret;

	if (selector == NULL)
		selector = dkim_default_selector(time(NULL), selbuf, sizeof(selbuf));
	if (!dkim_name_valid(o->domain) || !dkim_name_valid(selector)) {
		cli_error("dkim: bad domain or selector");
		return 1;
	}
	if (keygen_key(o, &pkey) < 0)
		return 1;
	if (dkim_key_store(dir, o->domain, selector, pkey, &path, &error) < 0) {
		cli_error("dkim: %s/dkim/%s/%s.key: %s", dir, o->domain, selector, error);
		EVP_PKEY_free(pkey);
		return 1;
	}
	fprintf(stderr, "tern: key stored in %s; publish this record:\n", path);
	ret = print_txt(o->domain, selector, pkey);
	free(path);
	EVP_PKEY_free(pkey);
	return ret;
}

static int dkim_txt(const char *dir, const struct dkim_opts *o)
{
	EVP_PKEY *pkey;
	char *selector;
	const char *error;
	int ret;

	if (dkim_key_find(dir, o->domain, o->selector, &pkey, &selector, &error) < 0) {
		cli_error("dkim: %s: %s", o->domain, error);
		return 1;
	}
	ret = print_txt(o->domain, selector, pkey);
	free(selector);
	EVP_PKEY_free(pkey);
	return ret;
}

/* Copy stdin to a temporary file while the signer hashes it, so the body
   is never held in memory. */
static int sign_stream(struct dkim_signer *signer, FILE *copy, bool *lf_r)
{
	char chunk[65536];
	size_t n;
	bool first = true;
	const char *error;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (first) {
			char *nl = memchr(chunk, '\n', n);

			*lf_r = nl != NULL && (nl == chunk || nl[-1] != '\r');
			first = false;
		}
		if (dkim_signer_feed(signer, chunk, n, &error) < 0) {
			cli_error("dkim: %s", error);
			return -1;
		}
		if (fwrite(chunk, 1, n, copy) != n) {
			cli_error("dkim: cannot write a temporary file");
			return -1;
		}
	}
	if (ferror(stdin)) {
		cli_error("dkim: cannot read standard input");
		return -1;
	}
	return 0;
}

static void put_field(const char *field, bool lf)
{
	for (; *field != '\0'; field++) {
		if (!(lf && *field == '\r'))
			putchar(*field);
	}
}

static int sign_output(struct dkim_signer *signer, FILE *copy, bool lf)
{
	char chunk[65536], *field;
	const char *error;
	size_t n;

	if (dkim_signer_finish(signer, &field, &error) < 0) {
		cli_error("dkim: %s", error);
		return 1;
	}
	put_field(field, lf);
	free(field);
	rewind(copy);
	while ((n = fread(chunk, 1, sizeof(chunk), copy)) > 0)
		fwrite(chunk, 1, n, stdout);
	if (fflush(stdout) != 0) {
		cli_error("dkim: cannot write standard output");
		return 1;
	}
	return 0;
}

static int dkim_sign(const char *dir, const struct dkim_opts *o)
{
	struct dkim_sign_params params = {.domain = o->domain, .now = (time_t)o->now};
	struct dkim_signer *signer = NULL;
	char *selector = NULL;
	const char *error;
	FILE *copy = tmpfile();
	bool lf = false;
	int ret = 1;

	if (copy == NULL) {
		cli_error("dkim: cannot create a temporary file");
		return 1;
	}
	if (dkim_key_find(dir, o->domain, o->selector, &params.key, &selector, &error) < 0) {
		cli_error("dkim: %s: %s", o->domain, error);
		fclose(copy);
		return 1;
	}
	params.selector = selector;
	if (dkim_signer_new(&params, &signer, &error) < 0)
		cli_error("dkim: %s", error);
	else if (sign_stream(signer, copy, &lf) == 0)
		ret = sign_output(signer, copy, lf);
	dkim_signer_free(&signer);
	EVP_PKEY_free(params.key);
	free(selector);
	fclose(copy);
	return ret;
}

static void verify_done(void *verifier, void *context)
{
	*(bool *)context = true;
}

/* The key lookups, on the event loop (from the zone file with --zone). */
static int verify_lookups(const struct dkim_opts *o, struct dkim_verifier *v)
{
	struct dns_resolver_settings set = {.zone_file = o->zone,
	                                    .timeout_msecs = o->timeout_msecs};
	struct event_base *base = event_base_new();
	struct dns_resolver *resolver;
	bool done = false;
	char *error;

	if (base == NULL || dns_resolver_new(base, &set, &resolver, &error) < 0) {
		cli_error("dkim: %s", base == NULL ? "cannot create the event loop" : error);
		if (base != NULL) {
			free(error);
			event_base_free(base);
		}
		return -1;
	}
	if (dns_driver_start(resolver, &dkim_verifier_ops, v, verify_done, &done) == NULL)
		done = true;
	while (!done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	dns_resolver_free(&resolver);
	event_base_free(base);
	return done ? 0 : -1;
}

static void print_verdicts(const struct dkim_verifier *v)
{
	const char *reason;
	enum dkim_result summary = dkim_verifier_summary(v, &reason);

	printf("dkim=%s%s%s%s\n", dkim_result_name(summary), reason != NULL ? " (" : "",
	       reason != NULL ? reason : "", reason != NULL ? ")" : "");
	for (size_t i = 0; i < dkim_verifier_count(v); i++) {
		const struct dkim_verdict *d = dkim_verifier_verdict(v, i);

		printf("signature %zu: %s header.d=%s header.s=%s header.a=%s header.b=%s", i,
		       dkim_result_name(d->result), d->domain, d->selector, d->algorithm,
		       d->header_b);
		if (d->length_limited)
			printf(" l=yes unsigned-bytes=%llu", (unsigned long long)d->unsigned_bytes);
		if (d->testing)
			printf(" testing=yes");
		if (d->reason != NULL)
			printf(" (%s)", d->reason);
		putchar('\n');
	}
}

static int dkim_verify(const struct dkim_opts *o)
{
	struct dkim_verifier *v = dkim_verifier_new(o->now != 0 ? (time_t)o->now : time(NULL));
	char chunk[65536];
	const char *error;
	size_t n;
	int ret = 1;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (dkim_verifier_feed(v, chunk, n, &error) < 0)
			break;
	}
	dkim_verifier_finish(v);
	if (verify_lookups(o, v) == 0) {
		print_verdicts(v);
		ret = dkim_verifier_summary(v, NULL) == DKIM_RESULT_PASS ? 0 : 1;
	}
	dkim_verifier_free(&v);
	return ret;
}

static int dkim_run(const struct cli_ctx *ctx, const char *sub, const struct dkim_opts *o)
{
	struct tern_settings *settings;
	const char *dir;
	int ret;

	if (strcmp(sub, "verify") == 0)
		return dkim_verify(o);
	if (o->domain == NULL) {
		cli_error("dkim: %s needs --domain", sub);
		return 2;
	}
	dir = data_dir(ctx, o, &settings);
	if (dir == NULL)
		return 1;
	if (strcmp(sub, "keygen") == 0)
		ret = dkim_keygen(dir, o);
	else if (strcmp(sub, "txt") == 0)
		ret = dkim_txt(dir, o);
	else
		ret = dkim_sign(dir, o);
	settings_free(&settings);
	return ret;
}

int cmd_dkim(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = {"keygen", "txt", "sign", "verify"};
	struct dkim_opts o = {0};
	bool known = false;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++)
		known = known || strcmp(argv[1], subs[i]) == 0;
	if (!known) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	return dkim_run(ctx, argv[1], &o);
}
