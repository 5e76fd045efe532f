#include "cli/cli.h"

/* Placeholder until the user command lands. */
int cmd_user(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("user: not built yet");
	return 1;
}
