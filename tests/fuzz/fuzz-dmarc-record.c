/* libFuzzer target: the DMARC record parser and From domain extraction
   (src/mailauth/dmarc-record.c), and alignment of the input with itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void from_domains(const char *text, size_t len)
{
	char *domains[DMARC_MAX_FROM_DOMAINS];
	size_t count = 0;

	dmarc_from_domains(text, len, domains, &count, DMARC_MAX_FROM_DOMAINS);
	for (size_t i = 0; i < count; i++)
		dmarc_aligned(NULL, domains[i], domains[0], DMARC_ALIGN_RELAXED);
	for (size_t i = 0; i < count; i++)
		free(domains[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record *rec = NULL;
	const char *error;
	char *text = malloc(size + 11);

	/* Half the inputs get the version tag so the parser goes deep. */
	size_t off = size > 0 && (data[0] & 1) ? 10 : 0;
	memcpy(text, "v=DMARC1; ", off);
	memcpy(text + off, data, size);
	text[size + off] = '\0';
	if (dmarc_is_record(text, size + off) &&
	    dmarc_record_parse(text, size + off, &rec, &error) == 0)
		dmarc_record_free(&rec);
	from_domains(text + off, size);
	free(text);
	return 0;
}
