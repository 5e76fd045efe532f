#include "cli/cli.h"

/* Placeholder until the serve command lands. */
int cmd_serve(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("serve: not built yet");
	return 1;
}
