#include "cli/cli.h"

/* Placeholder until the dkim command lands. */
int cmd_dkim(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("dkim: not built yet");
	return 1;
}
