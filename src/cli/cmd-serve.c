/* tern serve: run the server in the foreground (src/master/supervisor.c).
   The roles it runs are listed here: each declares its own services. */
#include "cli/cli.h"

#include <stdio.h>

#include "auth/auth-penalty.h"
#include "cli/cli-settings.h"
#include "guard/guard.h"
#include "imap/imap-server.h"
#include "master/supervisor.h"
#include "outbound/queue-role.h"
#include "smtp/smtp-rate.h"
#include "smtp/smtp-server.h"

static const struct role_ops *const serve_roles[] = {
    &smtp_role_ops,
    &imap_role_ops,
    &queue_role_ops,
};

/* The counters every role process shares, made before the first fork. */
static int shared_new(struct role_shared *shared)
{
	const char *error = NULL;

	shared->auth_failures = auth_penalty_table_new(&error);
	if (shared->auth_failures != NULL)
		shared->submission_user = smtp_rate_table_new(&error);
	if (shared->submission_user != NULL)
		shared->submission_ip = smtp_rate_table_new(&error);
	if (shared->submission_ip != NULL)
		shared->guard = guard_table_new(&error);
	if (shared->guard != NULL)
		return 0;
	cli_error("serve: shared counters: %s", error);
	return -1;
}

static void shared_free(struct role_shared *shared)
{
	shm_table_free(&shared->auth_failures);
	shm_table_free(&shared->submission_user);
	shm_table_free(&shared->submission_ip);
	shm_table_free(&shared->guard);
}

int cmd_serve(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct role_shared shared = {0};
	int ret;

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
	if (shared_new(&shared) < 0) {
		shared_free(&shared);
		return 1;
	}
	ret = supervisor_run(ctx->config_path, &tern_settings_schema, serve_roles,
	                     sizeof(serve_roles) / sizeof(serve_roles[0]), &shared);
	shared_free(&shared);
	return ret;
}
