/* Fuzz target for src/queue/spool-envelope.c: the spool envelope parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "queue/spool-envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What parses writes out again and parses back to the same bytes. */
static void check_round_trip(const struct spool_envelope *env)
{
	struct spool_envelope again;
	struct buf one = BUF_INIT, two = BUF_INIT;
	const char *error;

	if (spool_envelope_format(env, &one, &error) < 0)
		abort(); /* a parsed envelope has every required field */
	if (spool_envelope_parse(one.data, one.len, &again, &error) < 0)
		abort();
	if (spool_envelope_format(&again, &two, &error) < 0 || one.len != two.len ||
	    memcmp(one.data, two.data, one.len) != 0)
		abort();
	spool_envelope_clear(&again);
	buf_free(&one);
	buf_free(&two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_envelope env;
	const char *error;

	if (spool_envelope_parse((const char *)data, size, &env, &error) == 0) {
		check_round_trip(&env);
		spool_envelope_clear(&env);
	}
	return 0;
}
