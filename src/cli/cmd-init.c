#include "cli/cli.h"

/* Placeholder until the init command lands. */
int cmd_init(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("init: not built yet");
	return 1;
}
