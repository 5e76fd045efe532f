/* Fuzz target for evaluating a Sieve script (src/sieve/sieve-eval.c and
   the tests and actions) against a generated message. The input is a
   script, a NUL byte, then the message: header lines "Name: value", an
   empty line, the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/sieve/sieve-testmsg.h"
#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	struct sieve_script *s = NULL;
	struct sieve_error err;

	if (nul == NULL)
		return 0;
	size_t slen = (size_t)(nul - (const char *)data);
	if (sieve_compile((const char *)data, slen, NULL, &s, &err) < 0)
		return 0;
	char *msg = strndup(nul + 1, size - slen - 1);
	char *body = strstr(msg, "\n\n");
	if (body != NULL) {
		*body = '\0';
		body += 2;
	}
	struct testmsg t;
	struct sieve_result res;
	testmsg_init(&t, msg, body ? body : "", "sender@example.com", "user+tag@example.org");
	t.mailboxes = "INBOX Junk";
	t.spam = "5";
	t.seen_ids = "<dup@example.com>";
	/* the script includes itself: exercises the include depth limit */
	sieve_compile((const char *)data, slen, NULL, &t.inc_script, &err);
	int rc = sieve_run(s, &t.m, &res);
	if (rc < 0 &&
	    (res.error == NULL || res.nactions != 1 || res.actions[0].type != SIEVE_ACT_KEEP))
		abort();
	if (rc == 0 && res.error != NULL)
		abort();
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
	free(msg);
	return 0;
}
