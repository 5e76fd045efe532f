/*
 * arc-dump: a driver for tests/e2e/test_arc_conformance.py, not a unit
 * test. Reads a message from a file ("-": standard input) and prints:
 *
 *   arc-dump verify ZONE FILE      "none", "pass" or "fail: reason"
 *   arc-dump seal ZONE KEY DOMAIN SELECTOR AUTHSERV-ID HEADERS T FILE
 *                                  verify, then print the new ARC set's
 *                                  fields (nothing when none may be added)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns-zone.h"
#include "lib/buf.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-keystore.h"

static int usage(void)
{
	fprintf(stderr,
	        "usage: arc-dump verify ZONE FILE\n"
	        "       arc-dump seal ZONE KEY DOMAIN SELECTOR AUTHSERV-ID HEADERS T FILE\n");
	return 2;
}

static int read_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	if (f != stdin)
		fclose(f);
	return 0;
}

static struct dns_zone *load_zone(const char *path)
{
	struct dns_zone *zone;
	char *error;

	if (dns_zone_load(path, &zone, &error) < 0) {
		fprintf(stderr, "arc-dump: %s\n", error);
		exit(1);
	}
	return zone;
}

/* Verify msg, answering key lookups from zone. */
static enum arc_cv verify(const struct dns_zone *zone, const struct buf *msg, unsigned *count_r,
                          const char **reason_r)
{
	struct arc_verifier *v = arc_verifier_new(0);
	const char *name, *error;
	enum arc_cv cv;

	/* byte at a time: the verifier must not care how the message is cut */
	for (size_t i = 0; i < msg->len; i++)
		(void)arc_verifier_feed(v, msg->data + i, 1, &error);
	arc_verifier_finish(v);
	while (arc_verifier_run(v, &name) == 1) {
		struct dns_answer *a = dns_zone_lookup(zone, name, DNS_TYPE_TXT);

		arc_verifier_answer(v, name, a);
		dns_answer_free(&a);
	}
	cv = arc_verifier_result(v, reason_r);
	*count_r = arc_verifier_next_instance(v);
	arc_verifier_free(&v);
	return cv;
}

static int cmd_verify(const char *zone_path, const char *path)
{
	struct dns_zone *zone = load_zone(zone_path);
	struct buf msg = BUF_INIT;
	const char *reason;
	unsigned count;
	enum arc_cv cv;

	if (read_file(path, &msg) < 0) {
		perror(path);
		return 1;
	}
	cv = verify(zone, &msg, &count, &reason);
	if (reason != NULL)
		printf("%s: %s\n", arc_cv_name(cv), reason);
	else
		printf("%s\n", arc_cv_name(cv));
	buf_free(&msg);
	dns_zone_free(&zone);
	return 0;
}

static int seal(struct arc_sealer *sealer, const struct buf *msg, enum arc_cv cv, unsigned instance)
{
	const char *error;
	char *fields;
	int ret;

	if (arc_sealer_feed(sealer, msg->data, msg->len, &error) < 0 ||
	    (ret = arc_sealer_finish(sealer, cv, instance, &fields, &error)) < 0) {
		fprintf(stderr, "arc-dump: %s\n", error);
		return 1;
	}
	if (ret == 1)
		fputs(fields, stdout);
	free(fields);
	return 0;
}

static int cmd_seal(char **argv)
{
	struct dns_zone *zone = load_zone(argv[0]);
	struct arc_seal_params params = {.domain = argv[2],
	                                 .selector = argv[3],
	                                 .authserv_id = argv[4],
	                                 .headers = argv[5],
	                                 .now = (time_t)atoll(argv[6])};
	struct arc_sealer *sealer = NULL;
	struct buf msg = BUF_INIT;
	const char *error, *reason;
	unsigned instance;
	enum arc_cv cv;
	int ret = 1;

	if (dkim_key_load(argv[1], &params.key, &error) < 0 || read_file(argv[7], &msg) < 0 ||
	    arc_sealer_new(&params, &sealer, &error) < 0)
		fprintf(stderr, "arc-dump: %s\n", error);
	else {
		cv = verify(zone, &msg, &instance, &reason);
		ret = seal(sealer, &msg, cv, instance);
	}
	arc_sealer_free(&sealer);
	EVP_PKEY_free(params.key);
	buf_free(&msg);
	dns_zone_free(&zone);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2], argv[3]);
	if (argc == 10 && strcmp(argv[1], "seal") == 0)
		return cmd_seal(argv + 2);
	return usage();
}
