/* tern config: load the config file and print the effective settings. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

static void config_usage(void)
{
	fputs("usage: tern [-c FILE] config\n\n"
	      "Check the config file and print the effective configuration: every key\n"
	      "with its value, defaults included, in the config file syntax. Exits 1\n"
	      "with \"file:line: reason\" when the file is not valid.\n",
	      stdout);
}

int cmd_config(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings;
	char *dump;
	int ret = 0;

	if (cli_wants_help(argc, argv)) {
		config_usage();
		return 0;
	}
	if (argc > 1) {
		cli_error("config: unexpected argument %s (try tern config --help)", argv[1]);
		return 2;
	}
	settings = cli_load_settings(ctx);
	if (settings == NULL)
		return 1;
	dump = settings_dump(settings);
	if (fputs(dump, stdout) == EOF || fflush(stdout) == EOF) {
		cli_error("config: cannot write to standard output");
		ret = 1;
	}
	free(dump);
	settings_free(&settings);
	return ret;
}
