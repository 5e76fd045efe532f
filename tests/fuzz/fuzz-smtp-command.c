/* Fuzz target for src/smtp/smtp-command.c: one command line per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp-command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_command cmd;
	struct smtp_reply_error err;

	if (smtp_command_parse((const char *)data, size, &cmd, &err) == 0) {
		if (cmd.verb >= SMTP_VERB_COUNT)
			abort();
		if (cmd.path.local != NULL)
			free(address_normalize(&cmd.path));
		smtp_command_clear(&cmd);
	} else if (err.code < 500 || err.code > 555 || err.enhanced == NULL || err.text == NULL) {
		abort();
	}
	return 0;
}
