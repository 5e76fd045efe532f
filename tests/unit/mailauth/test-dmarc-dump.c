/*
 * dmarc-dump: a driver for tests/e2e/test_dmarc_conformance.py, not a unit
 * test. It runs one piece of src/mailauth/dmarc*, psl or auth-results on
 * its arguments and prints the outcome on one line:
 *
 *   dmarc-dump record TXT               ok p=.. sp=.. ... | none | permerror: why
 *   dmarc-dump from VALUE               the From domains, space-separated
 *   dmarc-dump org PSL DOMAIN           the Organizational Domain or "null"
 *   dmarc-dump align PSL A B MODE       "aligned" or "not aligned"
 *   dmarc-dump check [options]          an Authentication-Results header
 *     --psl FILE --zone FILE --id AUTHSERV-ID --sample N
 *     --from VALUE (repeat)  --spf RESULT:DOMAIN  --dkim RESULT:DOMAIN (repeat)
 *     --prev AR-VALUE (DKIM/SPF results already computed, as a header value)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns-zone.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mailauth/auth-results.h"
#include "mailauth/dmarc.h"

#define MAX_DKIM 16

static int usage(void)
{
	fprintf(stderr, "usage: dmarc-dump record|from|org|align|check ...\n");
	return 2;
}

static struct psl *load_psl(const char *path)
{
	struct psl *psl;
	char *error;

	if (psl_load(path, &psl, &error) < 0) {
		fprintf(stderr, "dmarc-dump: %s\n", error);
		exit(1);
	}
	return psl;
}

static int cmd_record(const char *txt)
{
	struct dmarc_record *r = NULL;
	const char *error;
	int ret = dmarc_record_parse(txt, strlen(txt), &r, &error);

	if (ret < 0)
		printf("permerror: %s\n", error);
	else if (ret == 1)
		printf("none\n");
	else
		printf("ok p=%s sp=%s np=%s adkim=%c aspf=%c pct=%u fo=%s rf=%s ri=%u\n",
		       dmarc_policy_name(r->p), dmarc_policy_name(r->sp), dmarc_policy_name(r->np),
		       r->adkim == DMARC_ALIGN_STRICT ? 's' : 'r',
		       r->aspf == DMARC_ALIGN_STRICT ? 's' : 'r', r->pct, r->fo, r->rf, r->ri);
	dmarc_record_free(&r);
	return 0;
}

static int cmd_from(const char *value)
{
	char *domains[DMARC_MAX_FROM_DOMAINS];
	size_t count = 0;

	dmarc_from_domains(value, strlen(value), domains, &count, DMARC_MAX_FROM_DOMAINS);
	for (size_t i = 0; i < count; i++) {
		printf("%s%s", i > 0 ? " " : "", domains[i]);
		free(domains[i]);
	}
	printf("\n");
	return 0;
}

static int cmd_org(const char *psl_path, const char *domain)
{
	struct psl *psl = load_psl(psl_path);
	const char *org;

	printf("%s\n", psl_org_domain(psl, domain, &org) == 1 ? org : "null");
	psl_free(&psl);
	return 0;
}

static int cmd_align(const char *psl_path, const char *a, const char *b, const char *mode)
{
	struct psl *psl = load_psl(psl_path);
	bool strict = strcmp(mode, "strict") == 0;

	printf("%s\n", dmarc_aligned(psl, a, b, strict ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED)
	                   ? "aligned"
	                   : "not aligned");
	psl_free(&psl);
	return 0;
}

struct check_args {
	const char *psl, *zone, *id, *spf, *prev;
	unsigned sample;
	char *from[DMARC_MAX_FROM_DOMAINS];
	size_t from_count;
	const char *dkim[MAX_DKIM];
	size_t dkim_count;
};

static int parse_check_args(int argc, char **argv, struct check_args *a)
{
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *opt = argv[i], *v = argv[i + 1];

		if (strcmp(opt, "--psl") == 0)
			a->psl = v;
		else if (strcmp(opt, "--zone") == 0)
			a->zone = v;
		else if (strcmp(opt, "--id") == 0)
			a->id = v;
		else if (strcmp(opt, "--spf") == 0)
			a->spf = v;
		else if (strcmp(opt, "--prev") == 0)
			a->prev = v;
		else if (strcmp(opt, "--sample") == 0)
			a->sample = (unsigned)atoi(v);
		else if (strcmp(opt, "--from") == 0)
			dmarc_from_domains(v, strlen(v), a->from, &a->from_count,
			                   DMARC_MAX_FROM_DOMAINS);
		else if (strcmp(opt, "--dkim") == 0 && a->dkim_count < MAX_DKIM)
			a->dkim[a->dkim_count++] = v;
		else
			return -1;
	}
	return argc % 2 == 0 && a->zone != NULL && a->id != NULL ? 0 : -1;
}

static enum spf_result spf_result_parse(const char *name)
{
	for (int r = SPF_RESULT_NONE; r <= SPF_RESULT_PERMERROR; r++)
		if (strncasecmp(name, spf_result_name(r), strlen(spf_result_name(r))) == 0 &&
		    name[strlen(spf_result_name(r))] == ':')
			return (enum spf_result)r;
	return SPF_RESULT_NONE;
}

/* Copy the entries of --prev into the new header and collect the d= of the
   passing DKIM signatures. */
static void replay_prev(const char *prev, struct auth_results_writer *w, const char **dkim,
                        size_t *dkim_count)
{
	struct auth_results *ar;
	const char *error;

	if (auth_results_parse(prev, strlen(prev), &ar, &error) < 0) {
		fprintf(stderr, "dmarc-dump: --prev: %s\n", error);
		exit(1);
	}
	for (size_t i = 0; i < ar->entries.count; i++) {
		const struct auth_results_entry *e = &ar->entries.items[i];
		const char *d = auth_results_prop_value(e, "header", "d");

		auth_results_add(w, e->method, e->result, NULL, "header.d", d, "header.i",
		                 auth_results_prop_value(e, "header", "i"), NULL);
		if (strcmp(e->method, "dkim") == 0 && strcmp(e->result, "pass") == 0 && d != NULL &&
		    *dkim_count < MAX_DKIM)
			dkim[(*dkim_count)++] = xstrdup(d);
	}
	auth_results_free(&ar);
}

static struct dmarc_check *run_check(const struct check_args *a, const struct psl *psl,
                                     const struct dns_zone *zone, const char **dkim,
                                     size_t dkim_count)
{
	const char *spf_domain = a->spf == NULL ? NULL : strchr(a->spf, ':');
	struct dmarc_check_params p = {
	    .psl = psl,
	    .from_domains = (const char *const *)a->from,
	    .from_count = a->from_count,
	    .spf_result = a->spf == NULL ? SPF_RESULT_NONE : spf_result_parse(a->spf),
	    .spf_domain = spf_domain == NULL ? NULL : spf_domain + 1,
	    .dkim_domains = dkim,
	    .dkim_count = dkim_count,
	    .sample = a->sample,
	};
	struct dmarc_check *check = dmarc_check_new(&p);
	const char *name;
	enum dns_type type;

	while (dmarc_check_run(check, &name, &type) == 1) {
		struct dns_answer *answer = dns_zone_lookup(zone, name, type);

		dmarc_check_answer(check, name, type, answer);
		dns_answer_free(&answer);
	}
	return check;
}

static void write_dmarc(struct auth_results_writer *w, const struct dmarc_check *c)
{
	enum dmarc_result result = dmarc_check_result(c);

	auth_results_add(w, "dmarc", dmarc_result_name(result), dmarc_check_reason(c),
	                 "header.from", dmarc_check_from_domain(c), "policy.dmarc",
	                 dmarc_policy_name(dmarc_check_policy(c)), NULL);
}

static int cmd_check(int argc, char **argv)
{
	struct check_args a = {.psl = PSL_DEFAULT_PATH};
	struct dns_zone *zone;
	struct psl *psl;
	struct buf out = BUF_INIT;
	struct auth_results_writer w;
	const char *dkim[MAX_DKIM];
	size_t dkim_count = 0;
	struct dmarc_check *check;
	char *error;

	if (parse_check_args(argc, argv, &a) < 0)
		return usage();
	if (dns_zone_load(a.zone, &zone, &error) < 0) {
		fprintf(stderr, "dmarc-dump: %s\n", error);
		return 1;
	}
	psl = load_psl(a.psl);
	auth_results_writer_init(&w, &out, a.id, false);
	for (size_t i = 0; i < a.dkim_count; i++) {
		const char *colon = strchr(a.dkim[i], ':');
		char *result = xstrndup(a.dkim[i], colon == NULL ? 0 : (size_t)(colon - a.dkim[i]));

		auth_results_add(&w, "dkim", result, NULL, "header.d", colon ? colon + 1 : NULL,
		                 NULL);
		if (strcmp(result, "pass") == 0)
			dkim[dkim_count++] = xstrdup(colon + 1);
		free(result);
	}
	if (a.prev != NULL)
		replay_prev(a.prev, &w, dkim, &dkim_count);
	check = run_check(&a, psl, zone, dkim, dkim_count);
	write_dmarc(&w, check);
	auth_results_writer_finish(&w);
	printf("Authentication-Results: %s\n", out.data);
	printf("disposition=%s\n", dmarc_policy_name(dmarc_check_disposition(check)));
	dmarc_check_free(&check);
	for (size_t i = 0; i < dkim_count; i++)
		free((char *)dkim[i]);
	for (size_t i = 0; i < a.from_count; i++)
		free(a.from[i]);
	buf_free(&out);
	psl_free(&psl);
	dns_zone_free(&zone);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "record") == 0)
		return cmd_record(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "from") == 0)
		return cmd_from(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "org") == 0)
		return cmd_org(argv[2], argv[3]);
	if (argc >= 6 && strcmp(argv[1], "align") == 0)
		return cmd_align(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	return usage();
}
