/* Fuzz target for src/lib/address.c: mailbox and path parsing, normalization. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normalized(const struct address *addr)
{
	struct address again;
	const char *error;
	char *norm = address_normalize(addr);
	size_t len = strlen(norm);

	/* A normalized address must parse back to the same local part. */
	if (len > 0 && strchr(norm, '@') != NULL &&
	    address_parse_mailbox(norm, len, &again, &error) == 0) {
		if (strcmp(again.local, addr->local) != 0)
			abort();
		address_free(&again);
	}
	free(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address addr;
	const char *error;
	size_t consumed;
	unsigned flags = ADDRESS_ALLOW_NULL | ADDRESS_ALLOW_POSTMASTER;

	if (address_parse_mailbox((const char *)data, size, &addr, &error) == 0) {
		check_normalized(&addr);
		address_free(&addr);
	}
	if (address_parse_path((const char *)data, size, flags, &addr, &consumed, &error) == 0) {
		if (consumed > size || consumed > ADDRESS_PATH_MAX)
			abort();
		check_normalized(&addr);
		address_free(&addr);
	}
	return 0;
}
