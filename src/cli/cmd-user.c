/* tern user add|del|list|passwd|disable|enable: mail users. Passwords are
   read from standard input, never taken from the command line. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/password.h"
#include "auth/sasl.h"
#include "cli/cli.h"
#include "directory/directory.h"
#include "lib/address.h"

static const char usage_text[] =
    "usage: tern user add ADDRESS [--quota SIZE]\n"
    "       tern user del ADDRESS\n"
    "       tern user list [DOMAIN]\n"
    "       tern user passwd ADDRESS\n"
    "       tern user disable ADDRESS\n"
    "       tern user enable ADDRESS\n"
    "\n"
    "The password is read from standard input (one line; not echoed on a\n"
    "terminal). SIZE is bytes, or a number with K, M, G or T (powers of 1024);\n"
    "0 is unlimited; the default is 1G. A disabled user cannot log in but\n"
    "still receives mail. list prints address, quota and state, tab-separated.\n";

struct user_args {
	const char *sub;
	const char *arg; /* the address, or the domain for list (may be NULL) */
	uint64_t quota;
};

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* "1024", "500M", "2G"; powers of 1024. */
static int parse_size(const char *s, uint64_t *size_r)
{
	static const char units[] = "KMGT";
	char *end;
	uint64_t v;
	const char *u;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, end[0] & ~0x20)) == NULL || *u == '\0')
			return -1;
		for (const char *p = units; p <= u; p++) {
			if (v > (UINT64_MAX >> 1) / 1024)
				return -1;
			v *= 1024;
		}
	}
	*size_r = v;
	return 0;
}

static void print_size(uint64_t v)
{
	static const char units[] = "KMGT";
	int unit = -1;

	if (v == 0) {
		fputs("unlimited", stdout);
		return;
	}
	while (unit < 3 && v % 1024 == 0) {
		v /= 1024;
		unit++;
	}
	printf("%" PRIu64 "%s", v, unit < 0 ? "" : (char[]){units[unit], '\0'});
}

/* The number of characters (UTF-8 code points) of a password. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int check_password(const struct tern_settings *settings, const char *pw)
{
	unsigned min =
	    settings->auth.min_password_length > 0 ? settings->auth.min_password_length : 1;

	if (utf8_length(pw) < min) {
		cli_error("password too short (minimum %u characters)", min);
		return -1;
	}
	if (strlen(pw) > PASSWORD_MAX_LEN) {
		cli_error("password too long (maximum %d bytes)", PASSWORD_MAX_LEN);
		return -1;
	}
	if (!sasl_utf8_valid((const unsigned char *)pw, strlen(pw))) {
		cli_error("password is not valid UTF-8");
		return -1;
	}
	return 0;
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

/* Read, check and hash a new password. */
static int new_password_hash(const struct tern_settings *settings, char **hash_r)
{
	char *pw = read_new_password();
	const char *error;
	int ret;

	if (pw == NULL)
		return -1;
	ret = check_password(settings, pw);
	if (ret == 0 && (ret = password_hash(pw, hash_r, &error)) < 0)
		cli_error("%s", error);
	sasl_secret_free(&pw);
	return ret;
}

/* Report what would make the add fail before asking for a password: a
   malformed address, an unknown domain, an existing user. */
static int user_add_precheck(struct directory *dir, const char *address)
{
	struct directory_user *user = NULL;
	struct address addr;
	const char *error;
	int ret;

	if (address_parse_mailbox(address, strlen(address), &addr, &error) < 0) {
		cli_error("malformed address \"%s\": %s", address, error);
		return -1;
	}
	ret = directory_domain_exists(dir, addr.domain, &error);
	if (ret == 0)
		cli_error("unknown domain %s", addr.domain);
	else if (ret < 0)
		cli_error("%s", error);
	address_free(&addr);
	if (ret != 1)
		return -1;
	ret = directory_user_lookup(dir, address, &user, &error);
	if (ret != 0) {
		if (ret > 0)
			cli_error("user %s already exists", user->address);
		else
			cli_error("%s", error);
		directory_user_free(&user);
		return -1;
	}
	return 0;
}

static int user_add(const struct tern_settings *settings, struct directory *dir,
                    const struct user_args *args)
{
	char *hash = NULL;
	const char *error;
	int ret = -1;

	if (user_add_precheck(dir, args->arg) < 0 || new_password_hash(settings, &hash) < 0)
		return 1;
	ret = directory_user_add(dir, args->arg, hash, args->quota, &error);
	if (ret < 0)
		cli_error("%s", error);
	sodium_memzero(hash, strlen(hash));
	free(hash);
	return ret < 0 ? 1 : 0;
}

static int user_passwd(const struct tern_settings *settings, struct directory *dir,
                       const char *address)
{
	struct directory_user *user = NULL;
	char *hash = NULL;
	const char *error;
	int ret = directory_user_lookup(dir, address, &user, &error);

	if (ret <= 0) {
		if (ret == 0)
			cli_error("unknown user %s", address);
		else
			cli_error("%s", error);
		return 1;
	}
	directory_user_free(&user);
	if (new_password_hash(settings, &hash) < 0)
		return 1;
	ret = directory_user_set_password(dir, address, hash, &error);
	if (ret < 0)
		cli_error("%s", error);
	free(hash);
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
	if (strcmp(sub, "del") == 0)
		ret = directory_user_del(dir, args->arg, &error);
	else
		ret =
		    directory_user_set_enabled(dir, args->arg, strcmp(sub, "enable") == 0, &error);
	if (ret < 0)
		cli_error("%s", error);
	return ret < 0 ? 1 : 0;
}

static int parse_add_args(int argc, char **argv, struct user_args *args)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--quota") == 0 && i + 1 < argc) {
			if (parse_size(argv[++i], &args->quota) < 0) {
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
	static const char *const one_arg[] = {"del", "passwd", "disable", "enable"};

	args->sub = argv[1];
	args->arg = NULL;
	args->quota = DIRECTORY_QUOTA_DEFAULT;
	if (strcmp(args->sub, "add") == 0)
		return parse_add_args(argc, argv, args);
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
