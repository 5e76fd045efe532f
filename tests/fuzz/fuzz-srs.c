/* Fuzz target for src/queue/srs.c: the reverse parser (an RCPT address
   from anybody), and forward then reverse giving the address back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "queue/srs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECRET[] = "fuzz secret of 16+ bytes";
#define NOW ((time_t)20000 * 86400)

/* A decoded SRS0 sender forwarded again decodes to itself. */
static void check_round_trip(const struct srs *srs, const char *address)
{
	char *fwd, *back;
	const char *error;
	enum srs_error kind;

	if (srs_is_srs(address) || srs_forward(srs, address, "example.test", NOW, &fwd, &error) < 0)
		return;
	if (srs_reverse(srs, fwd, NOW, &back, &kind) < 0 || strcmp(back, address) != 0)
		abort();
	free(back);
	free(fwd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srs *srs = srs_new(SECRET, strlen(SECRET));
	char *address = xstrndup((const char *)data, size), *out;
	enum srs_error kind;

	if (srs_reverse(srs, address, NOW, &out, &kind) == 0)
		free(out);
	if (strchr(address, '=') == NULL)
		check_round_trip(srs, address);
	free(address);
	srs_free(&srs);
	return 0;
}
