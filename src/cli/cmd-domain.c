#include "cli/cli.h"

/* Placeholder until the domain command lands. */
int cmd_domain(const struct cli_ctx *ctx, int argc, char **argv)
{
	cli_error("domain: not built yet");
	return 1;
}
