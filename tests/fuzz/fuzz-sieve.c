/* Fuzz target for the Sieve compiler (src/sieve: lexer, parser,
   validator): any bytes either compile or give an error with a position;
   a script that compiles is also run against a small fixed message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/sieve/sieve-testmsg.h"
#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim = {.max_script_size = 64 * 1024};
	struct sieve_script *s = NULL;
	struct sieve_error err;

	if (sieve_compile((const char *)data, size, &lim, &s, &err) < 0) {
		if (s != NULL || err.line == 0 || err.column == 0 || err.message[0] == '\0')
			abort();
		return 0;
	}
	struct testmsg t;
	struct sieve_result res;
	testmsg_init(&t, "From: a@example.com\nTo: b+x@example.org\nSubject: hi\n", "body text",
	             "a@example.com", "b@example.org");
	int rc = sieve_run(s, &t.m, &res);
	/* an error always leaves exactly the implicit keep */
	if (rc < 0 && (res.error == NULL || res.nactions != 1))
		abort();
	sieve_result_free(&res);
	testmsg_free(&t);
	sieve_script_free(&s);
	return 0;
}
