/* tern domain add|del|list: the mail domains of the directory. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/directory.h"

static const char usage_text[] = "usage: tern domain add DOMAIN\n"
                                 "       tern domain del DOMAIN [--force]\n"
                                 "       tern domain list\n"
                                 "\n"
                                 "del refuses while the domain has users or aliases;\n"
                                 "--force deletes them with it.\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int domain_list(struct directory *dir)
{
	char **names;
	size_t count;
	const char *error;

	if (directory_domain_list(dir, &names, &count, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		printf("%s\n", names[i]);
	directory_names_free(&names, count);
	return 0;
}

static int domain_run(struct directory *dir, const char *sub, const char *name, bool force)
{
	const char *error;
	int ret;

	if (strcmp(sub, "list") == 0)
		return domain_list(dir);
	if (strcmp(sub, "add") == 0)
		ret = directory_domain_add(dir, name, &error);
	else
		ret = directory_domain_del(dir, name, force, &error);
	if (ret < 0) {
		cli_error("%s%s", error,
		          directory_error_kind(dir) == DIRECTORY_ERR_IN_USE
		              ? " (--force deletes them too)"
		              : "");
		return 1;
	}
	return 0;
}

/* Check the arguments before touching the config: usage errors exit 2. */
static int parse_args(int argc, char **argv, const char **name_r, bool *force_r)
{
	const char *sub = argv[1];

	*name_r = NULL;
	*force_r = false;
	if (strcmp(sub, "list") == 0)
		return argc == 2 ? 0 : -1;
	if (strcmp(sub, "add") == 0 && argc == 3) {
		*name_r = argv[2];
		return 0;
	}
	if (strcmp(sub, "del") != 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			*force_r = true;
		else if (*name_r == NULL && argv[i][0] != '-')
			*name_r = argv[i];
		else
			return -1;
	}
	return *name_r != NULL ? 0 : -1;
}

int cmd_domain(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings = NULL;
	struct directory *dir = NULL;
	const char *name;
	bool force;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || parse_args(argc, argv, &name, &force) < 0)
		return usage_error();
	if (cli_open_directory(ctx, &settings, &dir) < 0)
		return 1;
	ret = domain_run(dir, argv[1], name, force);
	directory_close(&dir);
	settings_free(&settings);
	return ret;
}
