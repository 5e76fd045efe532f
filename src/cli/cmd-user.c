/* tern user add|del|list|passwd|disable|enable|show|quota: mail users. Passwords are
   read from standard input, never taken from the command line. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth-settings.h"
#include "auth/sasl.h"
#include "cli/cli.h"
#include "directory/directory-admin.h"
#include "directory/directory-sender.h"
#include "directory/directory.h"
#include "lib/size.h"
#include "store/maildir.h"
#include "store/mailbox.h"
#include "store/quota.h"

static const char usage_text[] =
    "usage: tern user add ADDRESS [--quota SIZE] [--messages N]\n"
    "       tern user quota ADDRESS [SIZE] [--messages N] [--recalc]\n"
    "       tern user del ADDRESS\n"
    "       tern user list [DOMAIN]\n"
    "       tern user passwd ADDRESS\n"
    "       tern user disable ADDRESS\n"
    "       tern user enable ADDRESS\n"
    "       tern user show ADDRESS\n"
    "       tern user allow-sender ADDRESS SENDER\n"
    "       tern user deny-sender ADDRESS SENDER\n"
    "\n"
    "The password is read from standard input (one line; not echoed on a\n"
    "terminal). SIZE is bytes, or a number with K, M, G or T (powers of 1024);\n"
    "0 is unlimited; the default is the domain's (tern domain quota) or 1G.\n"
    "--messages N limits the number of messages (0: unlimited, the default).\n"
    "quota sets the limits given and prints the limits and the usage;\n"
    "--recalc first recomputes the usage from the files (docs/quota.md).\n"
    "A disabled user cannot log in but\n"
    "still receives mail. list prints address, quota and state, tab-separated.\n"
    "allow-sender lets the user send (on submission) as SENDER, an address or\n"
    "@domain for every address of a domain; the user's own address and the\n"
    "aliases that deliver to it need no entry (docs/submission.md). show\n"
    "prints the user's fields and allowed senders, one \"key: value\" a line.\n";

struct user_args {
	const char *sub;
	const char *arg;    /* the address, or the domain for list (may be NULL) */
	const char *sender; /* allow-sender, deny-sender */
	uint64_t quota;
	uint64_t messages; /* --messages */
	bool messages_set; /* --messages given */
	bool quota_set;    /* quota: SIZE given */
	bool recalc;       /* quota --recalc */
};

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static void print_size(uint64_t v)
{
	char buf[SIZE_STR_MAX];

	fputs(v == 0 ? "unlimited" : size_format(v, buf), stdout);
}

static struct directory_password_policy policy_of(const struct tern_settings *settings)
{
	const struct auth_settings *auth = auth_settings(settings);
	struct directory_password_policy p = {
	    .min_length = auth->min_password_length,
	    .argon2_ops = auth->argon2_ops,
	    .argon2_mem = (size_t)auth->argon2_mem,
	};

	return p;
}

/* On a terminal, ask twice so a typo does not lock the user out. */
static char *read_new_password(void)
{
	char *pw = cli_read_password("New password: "), *again;
	bool same;

	if (pw == NULL || !isatty(STDIN_FILENO))
		return pw;
	again = cli_read_password("Retype new password: ");
	same = again != NULL && strcmp(pw, again) == 0;
	sasl_secret_free(&again);
	if (!same) {
		cli_error("passwords do not match");
		sasl_secret_free(&pw);
	}
	return pw;
}

/* What would make the add fail is reported before asking for a password. */
static int user_add(const struct tern_settings *settings, struct directory *dir,
                    const struct user_args *args)
{
	struct directory_password_policy policy = policy_of(settings);
	const char *error;
	char *pw;
	int ret;

	if (directory_admin_user_add_check(dir, args->arg, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	if ((pw = read_new_password()) == NULL)
		return 1;
	ret = directory_admin_user_add(dir, &policy, args->arg, pw, args->quota, &error);
	sasl_secret_free(&pw);
	if (ret == 0 && args->messages_set)
		ret = directory_user_set_quota_messages(dir, args->arg, args->messages, &error);
	if (ret < 0)
		cli_error("%s", error);
	return ret < 0 ? 1 : 0;
}

static int user_passwd(const struct tern_settings *settings, struct directory *dir,
                       const char *address)
{
	struct directory_password_policy policy = policy_of(settings);
	const char *error;
	char *pw;
	int ret;

	if (directory_admin_passwd_check(dir, address, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	if ((pw = read_new_password()) == NULL)
		return 1;
	ret = directory_admin_set_password(dir, &policy, address, pw, &error);
	sasl_secret_free(&pw);
	if (ret < 0)
		cli_error("%s", error);
	return ret < 0 ? 1 : 0;
}

static int user_list(struct directory *dir, const char *domain)
{
	struct directory_user *users;
	size_t count;
	const char *error;

	if (directory_user_list(dir, domain, &users, &count, &error) < 0) {
		cli_error("%s", error);
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		printf("%s\t", users[i].address);
		print_size(users[i].quota_bytes);
		printf("\t%s\n", users[i].enabled ? "enabled" : "disabled");
	}
	directory_user_list_free(&users, count);
	return 0;
}

/* The "usage:" lines of a user (its index; the Maildir may not exist). */
static int print_usage(const struct tern_settings *settings, const struct directory_user *user,
                       const struct quota_usage *known)
{
	struct quota_limit limit = {user->quota_bytes, user->quota_messages, NULL};
	struct quota_usage usage;
	const char *error;
	char *path;

	if (known != NULL) {
		usage = *known;
	} else {
		if (maildir_user_path(settings->mail_dir, user->address, &path, &error) < 0) {
			cli_error("%s", error);
			return -1;
		}
		if (quota_usage_read(path, &usage, &error) < 0) {
			cli_error("%s", error);
			free(path);
			return -1;
		}
		free(path);
	}
	printf("usage: %llu", (unsigned long long)usage.bytes);
	if (limit.bytes != 0)
		printf(" (%llu%%)",
		       (unsigned long long)((unsigned __int128)usage.bytes * 100 / limit.bytes));
	printf("\nusage-messages: %llu\n", (unsigned long long)usage.messages);
	return 0;
}

static void print_limits(const struct directory_user *user)
{
	printf("quota: ");
	print_size(user->quota_bytes);
	printf("\nquota-messages: ");
	if (user->quota_messages == 0)
		fputs("unlimited", stdout);
	else
		printf("%llu", (unsigned long long)user->quota_messages);
	putchar('\n');
}

/* tern user quota: set what was given, recompute with --recalc, print. */
static int user_quota(const struct tern_settings *settings, struct directory *dir,
                      const struct user_args *args)
{
	struct directory_user *user = NULL;
	struct quota_usage usage;
	struct mail_user *mu = NULL;
	const char *error;
	int ret = 0;

	if (args->quota_set)
		ret = directory_user_set_quota(dir, args->arg, args->quota, &error);
	if (ret == 0 && args->messages_set)
		ret = directory_user_set_quota_messages(dir, args->arg, args->messages, &error);
	if (ret == 0 && (ret = directory_user_lookup(dir, args->arg, &user, &error)) == 0)
		error = "unknown user";
	if (ret <= 0) {
		cli_error("%s", error);
		return 1;
	}
	if (args->recalc) {
		ret = mail_user_open(settings->mail_dir, user->address, &mu, &error);
		if (ret == 0)
			ret = quota_recalc(mu, &usage, &error);
		mail_user_close(&mu);
		if (ret < 0) {
			cli_error("%s", error);
			directory_user_free(&user);
			return 1;
		}
	}
	printf("address: %s\n", user->address);
	print_limits(user);
	ret = print_usage(settings, user, args->recalc ? &usage : NULL);
	directory_user_free(&user);
	return ret < 0 ? 1 : 0;
}

static int user_show(const struct tern_settings *settings, struct directory *dir,
                     const char *address)
{
	struct directory_user *user = NULL;
	const char *error;
	char **senders;
	size_t count;
	int ret = directory_user_lookup(dir, address, &user, &error);

	if (ret <= 0) {
		cli_error("%s", ret < 0 ? error : "unknown user");
		return 1;
	}
	if (directory_sender_list(dir, address, &senders, &count, &error) < 0) {
		cli_error("%s", error);
		directory_user_free(&user);
		return 1;
	}
	printf("address: %s\n", user->address);
	print_limits(user);
	if (print_usage(settings, user, NULL) < 0) {
		directory_names_free(&senders, count);
		directory_user_free(&user);
		return 1;
	}
	printf("state: %s\n", user->enabled ? "enabled" : "disabled");
	for (size_t i = 0; i < count; i++)
		printf("allowed-sender: %s\n", senders[i]);
	directory_names_free(&senders, count);
	directory_user_free(&user);
	return 0;
}

static int user_sender(struct directory *dir, const struct user_args *args)
{
	const char *error;
	int ret = strcmp(args->sub, "allow-sender") == 0
	              ? directory_sender_allow(dir, args->arg, args->sender, &error)
	              : directory_sender_deny(dir, args->arg, args->sender, &error);

	if (ret < 0)
		cli_error("%s", error);
	return ret < 0 ? 1 : 0;
}

static int user_run(const struct tern_settings *settings, struct directory *dir,
                    const struct user_args *args)
{
	const char *sub = args->sub, *error;
	int ret;

	if (strcmp(sub, "add") == 0)
		return user_add(settings, dir, args);
	if (strcmp(sub, "passwd") == 0)
		return user_passwd(settings, dir, args->arg);
	if (strcmp(sub, "list") == 0)
		return user_list(dir, args->arg);
	if (strcmp(sub, "show") == 0)
		return user_show(settings, dir, args->arg);
	if (strcmp(sub, "quota") == 0)
		return user_quota(settings, dir, args);
	if (args->sender != NULL)
		return user_sender(dir, args);
	if (strcmp(sub, "del") == 0)
		ret = directory_user_del(dir, args->arg, &error);
	else
		ret =
		    directory_user_set_enabled(dir, args->arg, strcmp(sub, "enable") == 0, &error);
	if (ret < 0)
		cli_error("%s", error);
	return ret < 0 ? 1 : 0;
}

/* --messages N: 0, or -1 (reported). */
static int parse_messages(const char *text, struct user_args *args)
{
	char *end;

	args->messages = strtoull(text, &end, 10);
	if (end == text || *end != '\0' || text[0] == '-') {
		cli_error("invalid message count %s", text);
		return -1;
	}
	args->messages_set = true;
	return 0;
}

/* quota ADDRESS [SIZE] [--messages N] [--recalc] */
static int parse_quota_args(int argc, char **argv, struct user_args *args)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
			if (parse_messages(argv[++i], args) < 0)
				return -1;
		} else if (strcmp(argv[i], "--recalc") == 0) {
			args->recalc = true;
		} else if (args->arg == NULL && argv[i][0] != '-') {
			args->arg = argv[i];
		} else if (!args->quota_set && argv[i][0] != '-') {
			if (size_parse(argv[i], &args->quota) < 0) {
				cli_error("invalid size %s (bytes, or a number with K, M, G, T)",
				          argv[i]);
				return -1;
			}
			args->quota_set = true;
		} else {
			return -1;
		}
	}
	return args->arg != NULL ? 0 : -1;
}

static int parse_add_args(int argc, char **argv, struct user_args *args)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
			if (parse_messages(argv[++i], args) < 0)
				return -1;
		} else if (strcmp(argv[i], "--quota") == 0 && i + 1 < argc) {
			if (size_parse(argv[++i], &args->quota) < 0) {
				cli_error("invalid size %s (bytes, or a number with K, M, G, T)",
				          argv[i]);
				return -1;
			}
		} else if (args->arg == NULL && argv[i][0] != '-') {
			args->arg = argv[i];
		} else {
			return -1;
		}
	}
	return args->arg != NULL ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct user_args *args)
{
	static const char *const one_arg[] = {"del", "passwd", "disable", "enable", "show"};

	args->sub = argv[1];
	args->arg = NULL;
	args->sender = NULL;
	if ((strcmp(args->sub, "allow-sender") == 0 || strcmp(args->sub, "deny-sender") == 0) &&
	    argc == 4) {
		args->arg = argv[2];
		args->sender = argv[3];
		return 0;
	}
	args->quota = DIRECTORY_QUOTA_DEFAULT;
	args->messages = 0;
	args->messages_set = args->quota_set = args->recalc = false;
	if (strcmp(args->sub, "add") == 0)
		return parse_add_args(argc, argv, args);
	if (strcmp(args->sub, "quota") == 0)
		return parse_quota_args(argc, argv, args);
	if (strcmp(args->sub, "list") == 0 && argc <= 3) {
		args->arg = argc == 3 ? argv[2] : NULL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(one_arg) / sizeof(one_arg[0]); i++) {
		if (strcmp(args->sub, one_arg[i]) == 0 && argc == 3) {
			args->arg = argv[2];
			return 0;
		}
	}
	return -1;
}

int cmd_user(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *settings = NULL;
	struct directory *dir = NULL;
	struct user_args args;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || parse_args(argc, argv, &args) < 0)
		return usage_error();
	if (cli_open_directory(ctx, &settings, &dir) < 0)
		return 1;
	ret = user_run(settings, dir, &args);
	directory_close(&dir);
	settings_free(&settings);
	return ret;
}
