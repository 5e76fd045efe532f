/* tern domain add|del|list|quota: the mail domains of the directory. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/directory.h"
#include "lib/size.h"

static const char usage_text[] = "usage: tern domain add DOMAIN\n"
                                 "       tern domain del DOMAIN [--force]\n"
                                 "       tern domain list\n"
                                 "       tern domain quota DOMAIN [SIZE|default]\n"
                                 "\n"
                                 "del refuses while the domain has users or aliases;\n"
                                 "--force deletes them with it. quota sets (or with\n"
                                 "default removes) the quota users added to the domain\n"
                                 "without --quota get (0: unlimited), and prints it\n"
                                 "(docs/quota.md).\n";

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

/* quota DOMAIN [SIZE|default]: set (argc 4), then print. */
static int domain_quota(struct directory *dir, int argc, char **argv)
{
	char buf[SIZE_STR_MAX];
	const char *error;
	uint64_t bytes = DIRECTORY_QUOTA_DEFAULT;
	int ret = 0;

	if (argc == 4 && strcmp(argv[3], "default") != 0 && size_parse(argv[3], &bytes) < 0) {
		cli_error("invalid size %s (bytes, or a number with K, M, G, T)", argv[3]);
		return 1;
	}
	if (argc == 4)
		ret = directory_domain_set_quota(dir, argv[2], bytes, &error);
	if (ret == 0)
		ret = directory_domain_quota(dir, argv[2], &bytes, &error);
	if (ret < 0) {
		cli_error("%s", error);
		return 1;
	}
	printf("default-quota: %s\n", ret == 0     ? "none (1G)"
	                              : bytes == 0 ? "unlimited"
	                                           : size_format(bytes, buf));
	return 0;
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
	bool quota = argc >= 3 && argc <= 4 && strcmp(argv[1], "quota") == 0;

	if (!quota && (argc < 2 || parse_args(argc, argv, &name, &force) < 0))
		return usage_error();
	if (cli_open_directory(ctx, &settings, &dir) < 0)
		return 1;
	ret = quota ? domain_quota(dir, argc, argv) : domain_run(dir, argv[1], name, force);
	directory_close(&dir);
	settings_free(&settings);
	return ret;
}
