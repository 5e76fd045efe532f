/* tern serve: run the server in the foreground (src/master/supervisor.c).
   The roles it runs are listed here: each declares its own services. */
#include "cli/cli.h"

#include <stdio.h>

#include "cli/cli-settings.h"
#include "imap/imap-server.h"
#include "master/supervisor.h"
#include "outbound/queue-role.h"
#include "smtp/smtp-server.h"

static const struct role_ops *const serve_roles[] = {
    &smtp_role_ops,
    &imap_role_ops,
    &queue_role_ops,
};

int cmd_serve(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: tern [-c FILE] serve\n\n"
		       "Run the server in the foreground, logging to stderr. SIGTERM or\n"
		       "SIGINT stops it, SIGHUP reloads the config without dropping\n"
		       "sessions.\n");
		return 0;
	}
	if (argc > 1) {
		cli_error("serve: unexpected argument %s", argv[1]);
		return 2;
	}
	return supervisor_run(ctx->config_path, &tern_settings_schema, serve_roles,
	                      sizeof(serve_roles) / sizeof(serve_roles[0]));
}
