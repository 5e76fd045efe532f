#include "cli/cli.h"

/* Placeholder until the alias command lands. */
int cmd_alias(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("alias: not built yet");
	return 1;
}
