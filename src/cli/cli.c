#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli-settings.h"
#include "directory/directory.h"
#include "lib/xalloc.h"

#define DEFAULT_CONFIG "/etc/tern/tern.conf"

struct cli_command {
	const char *name;
	int (*run)(const struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct cli_command commands[] = {
    {"init", cmd_init, "create a working instance in a directory"},
    {"serve", cmd_serve, "run the server in the foreground"},
    {"config", cmd_config, "print the effective configuration"},
    {"domain", cmd_domain, "add, delete and list mail domains"},
    {"user", cmd_user, "manage mail users and their passwords"},
    {"alias", cmd_alias, "manage aliases and catch-alls"},
    {"verify", cmd_verify, "check SPF (and later DKIM, DMARC) as the server would"},
    {"dkim", cmd_dkim, "create DKIM keys and sign messages"},
    {"dns", cmd_dns, "print the DNS records a domain needs"},
    {"message", cmd_message, "show how Tern parses a message"},
    {"queue", cmd_queue, "list and show mail waiting for remote servers"},
    {"sieve", cmd_sieve, "list, show, upload, activate and check users' Sieve scripts"},
    {"ban", cmd_ban, "list, add and lift the guard's bans of client addresses"},
};

static void usage(FILE *out)
{
	fputs("usage: tern [-c FILE] COMMAND [ARGS...]\n\n"
	      "  -c FILE   config file (default " DEFAULT_CONFIG ")\n\ncommands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fputs("\n`tern COMMAND --help` describes a command.\n", out);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

struct tern_settings *cli_load_settings(const struct cli_ctx *ctx)
{
	struct tern_settings *settings;
	char *error;

	if (settings_load(&tern_settings_schema, ctx->config_path, &settings, &error) < 0) {
		cli_error("%s", error);
		free(error);
		return NULL;
	}
	return settings;
}

int cli_open_directory(const struct cli_ctx *ctx, struct tern_settings **settings_r,
                       struct directory **dir_r)
{
	const char *error;

	*settings_r = cli_load_settings(ctx);
	if (*settings_r == NULL)
		return -1;
	if (directory_open((*settings_r)->directory_path, dir_r, &error) < 0) {
		cli_error("%s: %s", (*settings_r)->directory_path, error);
		settings_free(settings_r);
		return -1;
	}
	return 0;
}

static char *read_line_stdin(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

char *cli_read_password(const char *prompt)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	char *pw;

	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
		pw = read_line_stdin();
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	} else {
		pw = read_line_stdin();
	}
	if (pw == NULL)
		cli_error("no password on standard input");
	return pw;
}

int cli_main(int argc, char **argv)
{
	struct cli_ctx ctx = {.config_path = DEFAULT_CONFIG, .argv0 = argv[0]};
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			cli_error("unknown option %s (try tern --help)", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(&ctx, argc - i, argv + i);
	}
	cli_error("unknown command %s (try tern --help)", argv[i]);
	return 2;
}
