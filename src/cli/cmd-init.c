/* tern init: a complete, working instance in one directory. */
#include "cli/cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "directory/password.h"
#include "cli/cli-settings.h"
#include "cli/tls-selfsigned.h"
#include "directory/directory-admin.h"
#include "directory/directory.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "smtp/smtp-settings.h"

#define DEFAULT_DOMAIN    "example.test"
#define DEMO_PASSWORD_LEN 16
/* The config's auth { min_password_length }, which the demo password meets. */
#define INIT_MIN_PASSWORD_LENGTH 12
_Static_assert(DEMO_PASSWORD_LEN >= INIT_MIN_PASSWORD_LENGTH, "demo password too short");
#define DNS_NAME_MAX 253
/* The highest standard port an instance will use (ManageSieve, 4190), so an
   offset that fits now still fits when the later services arrive. */
#define HIGHEST_STD_PORT 4190
#define CHOWN_DEPTH_MAX  8

struct init_opts {
	const char *dir;
	const char *hostname; /* NULL: derived */
	const char *domain;
	long port_offset; /* -1: standard ports on every address */
	bool demo;
};

/* What init decided and made, for the config file and the summary. */
struct init_state {
	char *dir; /* absolute */
	char *hostname;
	char *domain; /* lower-cased --domain */
	char *user;
	char *demo_password;
	char *dkim_selector; /* the key made for the domain, or NULL */
};

static void init_usage(void)
{
	fputs("usage: tern init DIR [--hostname H] [--domain D] [--port-offset N] [--demo]\n\n"
	      "Create a complete instance in DIR: tern.conf, a self-signed TLS\n"
	      "certificate, the mail directory and the user database.\n\n"
	      "  --hostname H     the server's name (default: this machine's FQDN,\n"
	      "                   or mail.DOMAIN)\n"
	      "  --domain D       the first mail domain (default " DEFAULT_DOMAIN ")\n"
	      "  --port-offset N  listen on 127.0.0.1 at N + each standard port\n"
	      "                   (SMTP N+25, IMAP N+143, ...) so no root is needed\n"
	      "  --demo           also create demo@DOMAIN with a random password\n",
	      stdout);
}

static bool valid_dns_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= DNS_NAME_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
	           len &&
	       strstr(s, "..") == NULL;
}

static int parse_offset(const char *s, long *offset_r)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > 65535 - HIGHEST_STD_PORT) {
		cli_error("init: bad port offset %s: it must be 0 to %d so every port stays "
		          "<= 65535",
		          s, 65535 - HIGHEST_STD_PORT);
		return -1;
	}
	*offset_r = n;
	return 0;
}

/* "--name VALUE" or "--name=VALUE". Returns 1 if argv[*i] is that option
   (with *value_r set and *i moved past it), 0 if not, -1 on a missing value. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value_r)
{
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len) != 0)
		return 0;
	if (argv[*i][len] == '=') {
		*value_r = argv[*i] + len + 1;
		return 1;
	}
	if (argv[*i][len] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_error("init: %s needs a value", name);
		return -1;
	}
	*value_r = argv[++*i];
	return 1;
}

static int parse_one(int argc, char **argv, int *i, struct init_opts *opts)
{
	const char *v;
	int r;

	if (strcmp(argv[*i], "--demo") == 0) {
		opts->demo = true;
		return 0;
	}
	if ((r = option_value(argc, argv, i, "--hostname", &opts->hostname)) != 0)
		return r < 0 ? -1 : 0;
	if ((r = option_value(argc, argv, i, "--domain", &opts->domain)) != 0)
		return r < 0 ? -1 : 0;
	if ((r = option_value(argc, argv, i, "--port-offset", &v)) != 0)
		return r < 0 ? -1 : parse_offset(v, &opts->port_offset);
	if (argv[*i][0] == '-' || opts->dir != NULL) {
		cli_error("init: unexpected argument %s (try tern init --help)", argv[*i]);
		return -1;
	}
	opts->dir = argv[*i];
	return 0;
}

static int parse_args(int argc, char **argv, struct init_opts *opts)
{
	for (int i = 1; i < argc; i++) {
		if (parse_one(argc, argv, &i, opts) < 0)
			return -1;
	}
	if (opts->dir == NULL || opts->dir[0] == '\0') {
		cli_error("init: which directory? (tern init DIR)");
		return -1;
	}
	if (!valid_dns_name(opts->domain)) {
		cli_error("init: bad domain %s", opts->domain);
		return -1;
	}
	if (opts->hostname != NULL && !valid_dns_name(opts->hostname)) {
		cli_error("init: bad hostname %s", opts->hostname);
		return -1;
	}
	return 0;
}

/* The machine's name if it is fully qualified, else mail.DOMAIN. */
static char *default_hostname(const char *domain)
{
	char name[HOST_NAME_MAX + 1] = "";

	/* gethostname() need not NUL-terminate a truncated name */
	if (gethostname(name, sizeof(name) - 1) == 0 && strchr(name, '.') != NULL &&
	    valid_dns_name(name))
		return xstrdup(name);
	return xasprintf("mail.%s", domain);
}

/* The account the roles will run as: "tern" if it exists, else whoever runs
   init (root must not be that account). */
static int choose_user(struct init_state *st)
{
	struct passwd *pw;

	if (getpwnam("tern") != NULL) {
		st->user = xstrdup("tern");
		return 0;
	}
	if (geteuid() == 0) {
		cli_error("create the system user first: useradd --system --home-dir /nonexistent "
		          "--shell /usr/sbin/nologin tern");
		return -1;
	}
	pw = getpwuid(geteuid());
	if (pw == NULL) {
		cli_error("init: cannot find the name of user id %ld", (long)geteuid());
		return -1;
	}
	st->user = xstrdup(pw->pw_name);
	return 0;
}

/* Alphanumeric; bytes >= 248 are dropped so each of the 62 characters is
   equally likely. */
static char *random_password(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char *pw = xmalloc(DEMO_PASSWORD_LEN + 1);
	size_t n = 0;

	while (n < DEMO_PASSWORD_LEN) {
		unsigned char bytes[32];
		ssize_t got = getrandom(bytes, sizeof(bytes), 0);
		for (ssize_t i = 0; i < got && n < DEMO_PASSWORD_LEN; i++) {
			if (bytes[i] < 248)
				pw[n++] = alphabet[bytes[i] % 62];
		}
	}
	pw[n] = '\0';
	return pw;
}

/* LMTP is for a front MTA on this machine: loopback and a Unix socket
   (docs/smtp.md), never every address. */
static char *listener_address(const struct init_opts *opts, const struct service_def *service)
{
	unsigned long port =
	    (unsigned long)(opts->port_offset < 0 ? 0 : opts->port_offset) + service->default_port;

	if (service == &smtp_service_lmtp)
		return xasprintf("127.0.0.1:%lu, unix:run/lmtp.sock", port);
	if (opts->port_offset < 0)
		return xasprintf("*:%u", service->default_port);
	return xasprintf("127.0.0.1:%lu", port);
}

static const char *tls_mode_name(enum tls_mode mode)
{
	return mode == TLS_MODE_IMPLICIT   ? "implicit"
	       : mode == TLS_MODE_STARTTLS ? "starttls"
	                                   : "none";
}

/* One listener per service of the schema, in its order. */
static void write_listeners(struct buf *b, const struct init_opts *opts)
{
	long n = opts->port_offset < 0 ? 0 : opts->port_offset;

	buf_printf(b, "# Listeners, one block per service. Later releases add http (%ld).\n",
	           n + 80);
	for (size_t i = 0; i < tern_settings_schema.service_count; i++) {
		const struct service_def *s = tern_settings_schema.services[i];
		char *addr = listener_address(opts, s);
		buf_printf(b, "listener %s {\n\taddress = %s\n\ttls = %s\n}\n\n", s->name, addr,
		           tls_mode_name(s->default_tls));
		free(addr);
	}
}

static char *config_text(const struct init_opts *opts, const struct init_state *st)
{
	struct buf b = BUF_INIT;

	buf_printf(&b,
	           "# Tern configuration, written by tern init. docs/config.md lists every key;\n"
	           "# `tern -c %s/tern.conf config` prints them all with their values.\n"
	           "# Relative paths are relative to this file's directory.\n\n"
	           "# The name in greetings and Received: header fields.\n"
	           "hostname = %s\n\n"
	           "# Where mail (mail/), the user directory (directory.db) and tls/ live.\n"
	           "data_dir = %s\n\n"
	           "# The account the server runs as once it has bound its ports.\n"
	           "user = %s\n\n"
	           "log_level = info\n\n",
	           st->dir, st->hostname, st->dir, st->user);
	buf_append_str(&b,
	               "tls {\n"
	               "\t# Self-signed by tern init: replace with a certificate clients trust.\n"
	               "\tcert = tls/cert.pem\n"
	               "\tkey = tls/key.pem\n"
	               "\tmin_version = 1.2\n"
	               "}\n\n"
	               "auth {\n");
	buf_printf(&b, "\tmin_password_length = %u\n", INIT_MIN_PASSWORD_LENGTH);
	buf_append_str(
	    &b, "\t# yes allows passwords without TLS from 127.0.0.1 and ::1\n"
	        "\tplaintext_on_loopback = no\n"
	        "}\n\n"
	        "smtp {\n"
	        "\tmax_message_size = 25M\n"
	        "\tmax_recipients = 100\n"
	        "\t# networks that may relay without logging in: 192.0.2.0/24, ...\n"
	        "\ttrusted_networks =\n"
	        "\t# who gets postmaster@ of a domain that has no alias for it\n"
	        "\t# (default: the domain's first user)\n"
	        "\t#postmaster = admin@example.org\n"
	        "}\n\n"
	        "# Ports 587 and 465: users log in (AUTH), send as addresses they own;\n"
	        "# mail is DKIM-signed with the key of its From: domain (docs/submission.md).\n"
	        "submission {\n"
	        "\t# yes leaves the client's IP address out of Received:\n"
	        "\thide_client_ip = no\n"
	        "\tmax_recipients = 100\n"
	        "\t# per hour, counted by each smtp process; 0: no limit\n"
	        "\tmax_messages_per_user = 500\n"
	        "\tmax_messages_per_ip = 1000\n"
	        "\tdkim_sign = yes\n"
	        "}\n\n"
	        "lmtp {\n"
	        "\t# networks a front MTA may deliver from by LMTP over TCP\n"
	        "\t# (the Unix socket is always allowed)\n"
	        "\ttrusted_networks = 127.0.0.0/8, ::1/128\n"
	        "}\n\n");
	write_listeners(&b, opts);
	return buf_steal(&b);
}

static int make_dirs(const struct init_state *st)
{
	char *tls = xasprintf("%s/tls", st->dir), *mail = xasprintf("%s/mail", st->dir);

	const char *paths[] = {tls, mail};
	int ret = 0;

	for (size_t i = 0; i < 2 && ret == 0; i++) {
		if (mkdir(paths[i], 0700) < 0 && errno != EEXIST) {
			cli_error("init: cannot create %s: %s", paths[i], strerror(errno));
			ret = -1;
		}
	}
	free(tls);
	free(mail);
	return ret;
}

static int make_certificate(const struct init_state *st)
{
	char *cert = xasprintf("%s/tls/cert.pem", st->dir);
	char *key = xasprintf("%s/tls/key.pem", st->dir);
	const char *error;
	int ret = tls_selfsigned_write(st->hostname, cert, key, &error);

	if (ret < 0)
		cli_error("init: %s (%s)", error, st->dir);
	free(cert);
	free(key);
	return ret;
}

/* A DKIM key for the first domain, so outgoing mail can be signed once
   its TXT record is published (`tern dns DOMAIN` prints it). A key there
   already (an init run again) is kept. */
static int make_dkim_key(struct init_state *st)
{
	char **selectors, selector[32];
	size_t count;
	EVP_PKEY *pkey;
	char *path;
	const char *error;
	int ret;

	if (dkim_key_selectors(st->dir, st->domain, &selectors, &count) == 0 && count > 0) {
		st->dkim_selector = xstrdup(selectors[count - 1]);
		dkim_selectors_free(selectors, count);
		return 0;
	}
	dkim_default_selector(time(NULL), selector, sizeof(selector));
	if (dkim_key_generate(DKIM_KEY_RSA, DKIM_DEFAULT_RSA_BITS, &pkey, &error) < 0) {
		cli_error("init: DKIM key: %s", error);
		return -1;
	}
	ret = dkim_key_store(st->dir, st->domain, selector, pkey, &path, &error);
	EVP_PKEY_free(pkey);
	if (ret < 0) {
		cli_error("init: DKIM key: %s", error);
		return -1;
	}
	free(path);
	st->dkim_selector = xstrdup(selector);
	return 0;
}

/* A domain already there is fine: an init that failed later can be run
   again. */
static int add_domain(struct directory *dir, const char *domain, const char **error_r)
{
	int exists = directory_domain_exists(dir, domain, error_r);

	if (exists < 0)
		return -1;
	return exists == 1 ? 0 : directory_domain_add(dir, domain, error_r);
}

static int add_demo_user(struct directory *dir, const char *domain, struct init_state *st,
                         const char **error_r)
{
	/* The policy of the config init writes (argon2 costs left at their
	   defaults there), applied by the directory library as for tern user. */
	const struct directory_password_policy policy = {
	    .min_length = INIT_MIN_PASSWORD_LENGTH,
	    .argon2_ops = PASSWORD_ARGON2_OPS_DEFAULT,
	    .argon2_mem = PASSWORD_ARGON2_MEM_DEFAULT,
	};
	char *address = xasprintf("demo@%s", domain);
	int ret;

	st->demo_password = random_password();
	ret = directory_admin_user_add(dir, &policy, address, st->demo_password,
	                               DIRECTORY_QUOTA_DEFAULT, error_r);
	free(address);
	return ret;
}

/* The user directory with the first domain and, with --demo, the demo
   account. */
static int make_directory(const struct init_opts *opts, struct init_state *st)
{
	char *path = xasprintf("%s/directory.db", st->dir);
	struct directory *dir = NULL;
	const char *error = NULL;
	int ret = -1;

	if (directory_open(path, &dir, &error) < 0)
		cli_error("init: %s: %s", path, error);
	else if (add_domain(dir, opts->domain, &error) < 0)
		cli_error("init: %s", error);
	else if (opts->demo && add_demo_user(dir, opts->domain, st, &error) < 0)
		cli_error("init: demo account: %s", error);
	else
		ret = 0;
	directory_close(&dir);
	free(path);
	return ret;
}

static int chown_tree(const char *path, uid_t uid, gid_t gid, int depth);

static int chown_entries(const char *path, uid_t uid, gid_t gid, int depth)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int ret = 0;

	if (d == NULL)
		return -1;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *child = xasprintf("%s/%s", path, de->d_name);
		ret = chown_tree(child, uid, gid, depth + 1);
		free(child);
	}
	closedir(d);
	return ret;
}

/* lchown path and everything below it (no symlink is followed). */
static int chown_tree(const char *path, uid_t uid, gid_t gid, int depth)
{
	struct stat st;

	if (depth > CHOWN_DEPTH_MAX || lstat(path, &st) < 0 || lchown(path, uid, gid) < 0)
		return -1;
	return S_ISDIR(st.st_mode) ? chown_entries(path, uid, gid, depth) : 0;
}

static int give_to_user(const struct init_state *st)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(st->user);
	if (pw == NULL || chown_tree(st->dir, pw->pw_uid, pw->pw_gid, 0) < 0) {
		cli_error("init: cannot give %s to user %s: %s", st->dir, st->user,
		          strerror(errno));
		return -1;
	}
	return 0;
}

/* The config goes last, so a failed init can simply be run again. */
static int write_config(const struct init_opts *opts, const struct init_state *st)
{
	char *path = xasprintf("%s/tern.conf", st->dir);
	char *text = config_text(opts, st);
	struct tern_settings *settings;
	char *error;
	int ret = write_file_atomic(path, text, strlen(text), 0644);

	if (ret < 0)
		cli_error("init: cannot write %s: %s", path, strerror(errno));
	else if ((ret = settings_load(&tern_settings_schema, path, &settings, &error)) < 0) {
		/* a bug in config_text(), but say what it is */
		cli_error("init: the new config does not load: %s", error);
		free(error);
	} else {
		settings_free(&settings);
	}
	free(text);
	free(path);
	return ret;
}

static void print_summary(const struct init_opts *opts, const struct init_state *st)
{
	printf("created %s/tern.conf\n", st->dir);
	for (size_t i = 0; i < tern_settings_schema.service_count; i++) {
		char *addr = listener_address(opts, tern_settings_schema.services[i]);
		printf("%s %s\n", tern_settings_schema.services[i]->name, addr);
		free(addr);
	}
	if (st->dkim_selector != NULL)
		printf("dkim key: %s._domainkey.%s (tern dns %s prints its record)\n",
		       st->dkim_selector, opts->domain, opts->domain);
	if (st->demo_password != NULL)
		printf("demo account: demo@%s password: %s\n", opts->domain, st->demo_password);
	printf("start it with: tern -c %s/tern.conf serve\n", st->dir);
}

/* Create DIR unless it holds an instance already; st->dir becomes its
   absolute path. */
static int prepare_dir(const struct init_opts *opts, struct init_state *st)
{
	char *conf = xasprintf("%s/tern.conf", opts->dir);
	struct stat sb;
	int exists = lstat(conf, &sb) == 0;

	free(conf);
	if (exists) {
		cli_error("init: %s/tern.conf already exists", opts->dir);
		return -1;
	}
	if (mkdir_p(opts->dir, 0755) < 0 || (st->dir = realpath(opts->dir, NULL)) == NULL) {
		cli_error("init: cannot create %s: %s", opts->dir, strerror(errno));
		return -1;
	}
	return 0;
}

static char *lower_dup(const char *s)
{
	char *copy = xstrdup(s);

	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static void state_free(struct init_state *st)
{
	free(st->domain);
	free(st->dir);
	free(st->hostname);
	free(st->user);
	free(st->dkim_selector);
	if (st->demo_password != NULL) {
		explicit_bzero(st->demo_password, strlen(st->demo_password));
		free(st->demo_password);
	}
}

int cmd_init(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct init_opts opts = {.domain = DEFAULT_DOMAIN, .port_offset = -1};
	struct init_state st = {0};
	int ret = 1;

	if (cli_wants_help(argc, argv)) {
		init_usage();
		return 0;
	}
	if (parse_args(argc, argv, &opts) < 0)
		return 2;
	if (choose_user(&st) < 0)
		return 1;
	/* DNS names are case-insensitive; lower case is how they are stored */
	st.domain = lower_dup(opts.domain);
	opts.domain = st.domain;
	st.hostname =
	    opts.hostname != NULL ? lower_dup(opts.hostname) : default_hostname(opts.domain);
	if (prepare_dir(&opts, &st) == 0 && make_dirs(&st) == 0 && make_certificate(&st) == 0 &&
	    make_dkim_key(&st) == 0 && make_directory(&opts, &st) == 0 &&
	    write_config(&opts, &st) == 0 && give_to_user(&st) == 0) {
		print_summary(&opts, &st);
		ret = 0;
	}
	state_free(&st);
	return ret;
}
