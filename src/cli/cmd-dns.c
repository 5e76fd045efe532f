#include "cli/cli.h"

/* Placeholder until the dns command lands. */
int cmd_dns(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("dns: not built yet");
	return 1;
}
