/* tern sieve list|get|put|activate|deactivate|check USER [NAME] [FILE]:
   the admin's view of a user's Sieve scripts, through the store that
   ManageSieve uses (managesieve/managesieve-store.h). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "managesieve/managesieve-settings.h"
#include "managesieve/managesieve-store.h"
#include "sieve/sieve.h"
#include "store/maildir.h"

#define SCRIPT_READ_MAX (64u * 1024 * 1024)

static void usage(FILE *out)
{
	fputs("usage: tern sieve list USER\n"
	      "       tern sieve get USER NAME\n"
	      "       tern sieve put USER NAME [FILE]\n"
	      "       tern sieve activate USER NAME\n"
	      "       tern sieve deactivate USER\n"
	      "       tern sieve check USER [FILE]\n\n"
	      "Manages USER's Sieve scripts as ManageSieve does: list marks the active\n"
	      "one with \" ACTIVE\"; put stores FILE (standard input when absent or \"-\")\n"
	      "under NAME, refusing a script that does not compile or is over the\n"
	      "managesieve { } quotas; check only compiles it.\n",
	      out);
}

static int read_input(const char *path, struct buf *out)
{
	char chunk[65536];
	char *data;
	size_t len;

	if (path != NULL && strcmp(path, "-") != 0) {
		if (read_file(path, SCRIPT_READ_MAX, &data, &len) < 0) {
			cli_error("%s: %s", path, strerror(errno));
			return -1;
		}
		buf_append(out, data, len);
		free(data);
		return 0;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("standard input: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > SCRIPT_READ_MAX) {
			cli_error("script larger than 64 MiB");
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
}

/* Compile: 0, or -1 with "tern: line:col: message". */
static int compile(const struct tern_settings *set, const struct buf *script)
{
	struct sieve_limits limits = sieve_limits_default();
	struct sieve_script *compiled = NULL;
	struct sieve_error err;

	limits.max_script_size = managesieve_settings(set)->max_script_size;
	if (sieve_compile(script->data != NULL ? script->data : "", script->len, &limits, &compiled,
	                  &err) < 0) {
		cli_error("%u:%u: %s", err.line, err.column, err.message);
		return -1;
	}
	sieve_script_free(&compiled);
	return 0;
}

/* chown path to uid:gid if root owns it. */
static void chown_if_root(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_uid == 0 && !S_ISLNK(st.st_mode))
		(void)chown(path, uid, gid);
}

/* When root runs this, what it made (the Maildir and its parent if they
   were missing, the sieve directory and its files) belongs to the owner
   of mail_dir, the account the server runs as. */
static void fix_owner(const char *mail_dir, const char *maildir, const char *dir)
{
	struct stat st;
	char **names, *active, *parent, *slash;
	size_t count;
	const char *error;

	if (geteuid() != 0 || stat(mail_dir, &st) < 0 || st.st_uid == 0)
		return;
	parent = xstrdup(maildir);
	slash = strrchr(parent, '/');
	if (slash != NULL) {
		*slash = '\0';
		chown_if_root(parent, st.st_uid, st.st_gid);
	}
	free(parent);
	chown_if_root(maildir, st.st_uid, st.st_gid);
	chown_if_root(dir, st.st_uid, st.st_gid);
	if (msieve_store_list(dir, &names, &count, &active, &error) != MSIEVE_OK)
		return;
	for (size_t i = 0; i < count; i++) {
		char *p = xasprintf("%s/%s.sieve", dir, names[i]);

		chown_if_root(p, st.st_uid, st.st_gid);
		free(p);
	}
	char *p = xasprintf("%s/active", dir);
	chown_if_root(p, st.st_uid, st.st_gid);
	free(p);
	msieve_names_free(names, count);
	free(active);
}

static const char *status_text(enum msieve_status st, const char *error)
{
	switch (st) {
	case MSIEVE_OK:
		return "ok";
	case MSIEVE_NONEXISTENT:
		return "no such script";
	case MSIEVE_ACTIVE:
		return "the script is active";
	case MSIEVE_ALREADYEXISTS:
		return "a script of that name exists";
	case MSIEVE_MAXSCRIPTS:
		return "quota: too many scripts (managesieve { max_scripts })";
	case MSIEVE_MAXSIZE:
		return "quota: script too large (managesieve { max_script_size })";
	case MSIEVE_BADNAME:
		return "invalid script name";
	case MSIEVE_ERROR:
		return error != NULL ? error : "error";
	}
	return "error";
}

static int do_list(const char *dir)
{
	char **names, *active;
	size_t count;
	const char *error = NULL;
	enum msieve_status st = msieve_store_list(dir, &names, &count, &active, &error);

	if (st != MSIEVE_OK) {
		cli_error("%s", status_text(st, error));
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		printf("%s%s\n", names[i],
		       active != NULL && strcmp(active, names[i]) == 0 ? " ACTIVE" : "");
	msieve_names_free(names, count);
	free(active);
	return 0;
}

static int do_get(const char *dir, const char *name)
{
	char *data;
	size_t len;
	const char *error = NULL;
	enum msieve_status st = msieve_store_get(dir, name, &data, &len, &error);

	if (st != MSIEVE_OK) {
		cli_error("%s: %s", name, status_text(st, error));
		return 1;
	}
	fwrite(data, 1, len, stdout);
	free(data);
	return 0;
}

/* Run one subcommand on the user's sieve directory. */
static int run(const struct tern_settings *set, const char *sub, const char *maildir, int argc,
               char **argv)
{
	char *dir = msieve_store_dir(maildir);
	struct msieve_quota quota = managesieve_quota(set);
	struct buf script = BUF_INIT;
	const char *error = NULL, *name = argc > 3 ? argv[3] : NULL;
	enum msieve_status st = MSIEVE_OK;
	int ret = 0;

	if (strcmp(sub, "list") == 0 && argc == 3)
		ret = do_list(dir);
	else if (strcmp(sub, "get") == 0 && argc == 4)
		ret = do_get(dir, name);
	else if (strcmp(sub, "check") == 0 && argc <= 4)
		ret = read_input(name, &script) < 0 || compile(set, &script) < 0 ? 1 : 0;
	else if (strcmp(sub, "put") == 0 && (argc == 4 || argc == 5)) {
		if (read_input(argc == 5 ? argv[4] : NULL, &script) < 0 ||
		    compile(set, &script) < 0)
			ret = 1;
		else if (mkdir_p(maildir, 0700) < 0) {
			cli_error("%s: %s", maildir, strerror(errno));
			ret = 1;
		} else
			st = msieve_store_put(dir, name, script.data != NULL ? script.data : "",
			                      script.len, &quota, &error);
	} else if (strcmp(sub, "activate") == 0 && argc == 4)
		st = msieve_store_setactive(dir, name, &error);
	else if (strcmp(sub, "deactivate") == 0 && argc == 3)
		st = msieve_store_setactive(dir, NULL, &error);
	else {
		usage(stderr);
		ret = 2;
	}
	if (st != MSIEVE_OK) {
		cli_error("%s: %s", name != NULL ? name : sub, status_text(st, error));
		ret = 1;
	} else if (ret == 0 && (strcmp(sub, "put") == 0 || strcmp(sub, "activate") == 0))
		fix_owner(set->mail_dir, maildir, dir);
	buf_free(&script);
	free(dir);
	return ret;
}

int cmd_sieve(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct tern_settings *set;
	char *maildir;
	const char *error;
	int ret;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	set = cli_load_settings(ctx);
	if (set == NULL)
		return 1;
	if (maildir_user_path(set->mail_dir, argv[2], &maildir, &error) < 0) {
		cli_error("%s: %s", argv[2], error);
		settings_free(&set);
		return 1;
	}
	ret = run(set, argv[1], maildir, argc, argv);
	free(maildir);
	settings_free(&set);
	return ret;
}
