#include "cli/cli.h"

/* Placeholder until the message command lands. */
int cmd_message(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("message: not built yet");
	return 1;
}
