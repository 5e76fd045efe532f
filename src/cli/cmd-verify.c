#include "cli/cli.h"

/* Placeholder until the verify command lands. */
int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("verify: not built yet");
	return 1;
}
