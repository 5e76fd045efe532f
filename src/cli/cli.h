#ifndef TERN_CLI_CLI_H
#define TERN_CLI_CLI_H

/*
 * The tern command line: `tern [-c FILE] COMMAND [ARGS...]`.
 * Each command lives in src/cli/cmd-<name>.c and is listed in the table in
 * cli.c. A command returns the process exit status: 0 on success, 1 on an
 * error it has reported as one line on stderr ("tern: <reason>"), 2 on a
 * usage error. Every command answers --help.
 */

#include "lib/settings.h"

struct cli_ctx {
	const char *config_path; /* -c, default /etc/tern/tern.conf */
	const char *argv0;
};

/* Entry point from main(). */
int cli_main(int argc, char **argv);

/* Load the config named in ctx, printing "tern: file:line: reason" on
   failure. Returns NULL on failure. */
struct tern_settings *cli_load_settings(const struct cli_ctx *ctx);

struct directory;

/* Load the config and open its directory database, printing a one-line
   reason on failure. Returns 0 with both set (the caller frees them with
   directory_close() and settings_free()), or -1 with neither. */
int cli_open_directory(const struct cli_ctx *ctx, struct tern_settings **settings_r,
                       struct directory **dir_r);

/* Print "tern: <message>" and a newline on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if argv (after the command name) asks for help (-h or --help). */
int cli_wants_help(int argc, char **argv);

/* Read a password from standard input: one line, without its line end.
   When stdin is a terminal it prompts with prompt on stderr and does not
   echo. Returns a malloc'ed string, or NULL with a reason printed. */
char *cli_read_password(const char *prompt);

/* The commands (argv[0] is the command name). */
int cmd_init(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_config(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_domain(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_ban(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_user(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_alias(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_dkim(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_dns(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_message(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_queue(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_sieve(const struct cli_ctx *ctx, int argc, char **argv);

#endif
