/* tern alias add|del|list: aliases and catch-alls. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/directory.h"

static const char usage_text[] =
    "usage: tern alias add SOURCE DESTINATION\n"
    "       tern alias del SOURCE [DESTINATION]\n"
    "       tern alias list [DOMAIN]\n"
    "\n"
    "SOURCE is an address of a local domain, or @DOMAIN for a catch-all that\n"
    "receives mail for every address of DOMAIN without a user or alias.\n"
    "DESTINATION is a local user or alias, or a remote address to forward to.\n"
    "del without DESTINATION removes every alias of SOURCE.\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int alias_list(struct directory *dir, const char *domain)
{
	struct directory_alias *aliases;
	size_t count;
	const char *error;

	if (directory_alias_list(dir, domain, &aliases, &count, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		printf("%s\t%s\n", aliases[i].source, aliases[i].destination);
	directory_alias_list_free(&aliases, count);
	return 0;
}

/* argc and the subcommand are checked already. */
static int alias_run(struct directory *dir, int argc, char **argv)
{
	const char *error;
	int ret;

	if (strcmp(argv[1], "list") == 0)
		return alias_list(dir, argc == 3 ? argv[2] : NULL);
	if (strcmp(argv[1], "add") == 0)
		ret = directory_alias_add(dir, argv[2], argv[3], &error);
	else
		ret = directory_alias_del(dir, argv[2], argc == 4 ? argv[3] : NULL, &error);
	if (ret < 0) {
		cli_error("%s", error);
		return 1;
	}
	return 0;
}

static bool args_valid(int argc, char **argv)
{
	if (strcmp(argv[1], "add") == 0)
		return argc == 4;
	if (strcmp(argv[1], "del") == 0)
		return argc == 3 || argc == 4;
	if (strcmp(argv[1], "list") == 0)
		return argc == 2 || argc == 3;
	return false;
}

int cmd_alias(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings = NULL;
	struct directory *dir = NULL;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || !args_valid(argc, argv))
		return usage_error();
	if (cli_open_directory(ctx, &settings, &dir) < 0)
		return 1;
	ret = alias_run(dir, argc, argv);
	directory_close(&dir);
	settings_free(&settings);
	return ret;
}
