/* Fuzz target for the config parser (src/lib/config.c) and the typed
   settings on top of it (src/lib/settings.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/cli-settings.h"
#include "lib/config.h"
#include "lib/settings-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_parser *p = config_parser_new("fuzz.conf");
	struct config_entry *root = NULL;
	struct tern_settings *settings = NULL;
	const char *error;
	char *err = NULL;
	/* Split the input in two at a point the input chooses, so feeding in
	   pieces is exercised too. */
	size_t split = size > 0 ? data[0] % (size + 1) : 0;

	if (config_parser_feed(p, data, split, &error) == 0 &&
	    config_parser_feed(p, data + split, size - split, &error) == 0 &&
	    config_parser_finish(p, &root, &error) == 0)
		config_entry_free(&root);
	config_parser_free(&p);

	if (settings_load_buffer(&tern_settings_schema, "/fuzz/tern.conf", data, size, &settings,
	                         &err) == 0) {
		char *dump = settings_dump(settings);
		free(dump);
		settings_free(&settings);
	} else {
		free(err);
	}
	return 0;
}
