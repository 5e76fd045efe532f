/* sieve-dump SCRIPT MESSAGE FROM TO: compile SCRIPT and run it against the
   message file (header lines, folded lines joined, then the body), printing
   the actions one a line in the form tests/e2e/test_sieve_pigeonhole.py
   compares with Pigeonhole's sieve-test:

     store MAILBOX[<TAB>flag ...]  (keep, fileinto, implicit keep; flags lower-cased)
     redirect ADDRESS
     reject
     vacation                   (only when a reply would be sent)
     error TEXT                 (compile or run-time error)

   With SIEVE_DUMP_INCLUDE_DIR set, include resolves NAME to
   DIR/personal/NAME.sieve (or DIR/global/NAME.sieve for :global).

   Not a unit test. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "sieve-testmsg.h"
#include "sieve/sieve.h"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len_r = b.len;
	return buf_steal(&b);
}

/* Scripts compiled for include, freed at exit. */
static struct sieve_script *included[64];
static size_t nincluded;

static int dump_include(void *ctx, bool global, const char *name,
                        const struct sieve_script **script_r, const char **error_r)
{
	const char *dir = getenv("SIEVE_DUMP_INCLUDE_DIR");
	char path[4096];
	size_t len;
	struct sieve_error err;

	(void)ctx;
	if (dir == NULL || strchr(name, '/') != NULL || nincluded == 64) {
		*error_r = "no such script";
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.sieve", dir, global ? "global" : "personal", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*error_r = "no such script";
		return -1;
	}
	fclose(f);
	char *text = slurp(path, &len);
	int rc = sieve_compile(text, len, NULL, &included[nincluded], &err);
	free(text);
	if (rc < 0) {
		*error_r = "included script does not compile";
		return -1;
	}
	*script_r = included[nincluded++];
	return 0;
}

static void print_action(const struct sieve_action *a)
{
	switch (a->type) {
	case SIEVE_ACT_KEEP:
	case SIEVE_ACT_FILEINTO:
		printf("store %s", a->target);
		for (size_t i = 0; i < a->nflags; i++) {
			putchar(i == 0 ? '\t' : ' ');
			for (const char *c = a->flags[i]; *c; c++)
				putchar(tolower((unsigned char)*c));
		}
		putchar('\n');
		break;
	case SIEVE_ACT_REDIRECT:
		printf("redirect %s\n", a->target);
		break;
	case SIEVE_ACT_REJECT:
	case SIEVE_ACT_EREJECT:
		printf("reject\n");
		break;
	case SIEVE_ACT_VACATION:
		if (a->skip == NULL)
			printf("vacation\n");
		break;
	}
}

int main(int argc, char **argv)
{
	size_t slen, mlen;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_result res;
	struct testmsg t;

	if (argc != 5) {
		fprintf(stderr, "usage: sieve-dump SCRIPT MESSAGE FROM TO\n");
		return 2;
	}
	char *script = slurp(argv[1], &slen);
	char *msg = slurp(argv[2], &mlen);
	if (sieve_compile(script, slen, NULL, &s, &err) < 0) {
		printf("error %u:%u: %s\n", err.line, err.column, err.message);
		free(script);
		free(msg);
		return 0;
	}
	const char *body;
	char *headers = testmsg_unfold(msg, &body);
	testmsg_init(&t, headers, body, argv[3], argv[4]);
	t.m.size = mlen;
	t.m.include = dump_include;
	if (sieve_run(s, &t.m, &res) < 0)
		printf("error %s\n", res.error);
	for (size_t i = 0; i < res.nactions; i++)
		print_action(&res.actions[i]);
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
	for (size_t i = 0; i < nincluded; i++)
		sieve_script_free(&included[i]);
	free(headers);
	free(script);
	free(msg);
	return 0;
}
