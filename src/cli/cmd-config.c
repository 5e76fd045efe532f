#include "cli/cli.h"

/* Placeholder until the config command lands. */
int cmd_config(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("config: not built yet");
	return 1;
}
