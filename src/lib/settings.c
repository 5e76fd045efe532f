/* The typed layer over config.c: one table of keys drives loading, defaults
   and dumping (docs/config.md describes every key). */
#include "lib/settings-private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/size.h"
#include "lib/xalloc.h"

/* A config file is small; anything bigger is a mistake (a log, a binary). */
#define CONFIG_MAX_FILE (4 * 1024 * 1024)

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

enum value_type {
	V_STRING,       /* char *, not empty */
	V_PATH,         /* char *, made absolute */
	V_OPT_PATH,     /* char *, made absolute; empty: NULL (unset) */
	V_SIZE,         /* bytes: 25M, 512K, 1G, 1000 */
	V_DURATION,     /* seconds: 30s, 5m, 2h, 60 */
	V_UINT,         /* a plain number */
	V_BOOL,         /* yes/no/true/false */
	V_LOG_LEVEL,    /* enum log_level */
	V_TLS_VERSION,  /* int: 12 or 13 */
	V_BARE_LF,      /* enum bare_lf_policy */
	V_TLS_MODE,     /* enum tls_mode */
	V_CIDR_LIST,    /* char **, size_t count */
	V_ADDRESS_LIST, /* char **, size_t count */
	V_IP_LIST,      /* char **, size_t count: "192.0.2.53", "::1@5353" */
	V_DMARC_REJECT, /* enum dmarc_reject_action */
	V_DMARC_QUAR,   /* enum dmarc_quarantine_action */
};

struct key_def {
	const char *name;
	enum value_type type;
	size_t offset;       /* of the field in the section's struct */
	size_t size;         /* of the field (numbers are unsigned or uint64_t) */
	size_t count_offset; /* lists: of the size_t count */
	uint64_t min, max;   /* numbers: the allowed range */
};

struct section_def {
	const char *name; /* block name; NULL for the top level */
	const struct key_def *keys;
	size_t key_count;
};

#define FIELD_SIZE(type, member) sizeof(((type *)0)->member)
#define KEY(name, vtype, member, min, max)                                                         \
	{                                                                                          \
		name, vtype, offsetof(struct tern_settings, member),                               \
		    FIELD_SIZE(struct tern_settings, member), 0, min, max                          \
	}
#define LIST(name, vtype, member, count)                                                           \
	{                                                                                          \
		name, vtype, offsetof(struct tern_settings, member), 0,                            \
		    offsetof(struct tern_settings, count), 0, 0                                    \
	}

static const struct key_def top_keys[] = {
    KEY("hostname", V_STRING, hostname, 0, 0),   KEY("data_dir", V_PATH, data_dir, 0, 0),
    KEY("mail_dir", V_PATH, mail_dir, 0, 0),     KEY("directory", V_PATH, directory_path, 0, 0),
    KEY("user", V_STRING, run_user, 0, 0),       KEY("log_level", V_LOG_LEVEL, log_level, 0, 0),
    KEY("processes", V_UINT, processes, 0, 256),
};

static const struct key_def tls_keys[] = {
    KEY("cert", V_PATH, tls.cert, 0, 0),
    KEY("key", V_PATH, tls.key, 0, 0),
    KEY("min_version", V_TLS_VERSION, tls.min_version, 0, 0),
};

static const struct key_def auth_keys[] = {
    KEY("min_password_length", V_UINT, auth.min_password_length, 1, 1024),
    KEY("plaintext_on_loopback", V_BOOL, auth.plaintext_on_loopback, 0, 0),
    KEY("cache_ttl", V_DURATION, auth.cache_ttl, 0, 86400),
    KEY("argon2_ops", V_UINT, auth.argon2_ops, 1, 100),
    KEY("argon2_mem", V_SIZE, auth.argon2_mem, 8 * KIB, 4 * GIB),
};

static const struct key_def smtp_keys[] = {
    KEY("max_message_size", V_SIZE, smtp.max_message_size, KIB, 1024 * GIB),
    KEY("max_recipients", V_UINT, smtp.max_recipients, 1, 100000),
    KEY("bare_lf", V_BARE_LF, smtp.bare_lf, 0, 0),
    LIST("trusted_networks", V_CIDR_LIST, smtp.trusted_networks, smtp.trusted_network_count),
    KEY("max_header_size", V_SIZE, smtp.max_header_size, 8 * KIB, 64 * MIB),
};

static const struct key_def dns_keys[] = {
    KEY("zone_file", V_OPT_PATH, dns.zone_file, 0, 0),
    LIST("forwarders", V_IP_LIST, dns.forwarders, dns.forwarder_count),
    KEY("timeout", V_DURATION, dns.timeout, 1, 300),
};

static const struct key_def mailauth_keys[] = {
    KEY("spf", V_BOOL, mailauth.spf, 0, 0),
    KEY("dkim", V_BOOL, mailauth.dkim, 0, 0),
    KEY("dmarc", V_BOOL, mailauth.dmarc, 0, 0),
    KEY("dmarc_reject", V_DMARC_REJECT, mailauth.dmarc_reject, 0, 0),
    KEY("dmarc_quarantine", V_DMARC_QUAR, mailauth.dmarc_quarantine, 0, 0),
    KEY("psl_file", V_PATH, mailauth.psl_file, 0, 0),
};

static const struct key_def imap_keys[] = {
    KEY("max_literal_size", V_SIZE, imap.max_literal_size, KIB, 1024 * GIB),
};

/* RFC 5321 4.5.3.1.4: a command line of 512 octets must be accepted. */
static const struct key_def limits_keys[] = {
    KEY("line_length", V_SIZE, limits.line_length, 512, 1 * MIB),
    KEY("login_timeout", V_DURATION, limits.login_timeout, 1, 86400),
    KEY("idle_timeout", V_DURATION, limits.idle_timeout, 1, 7 * 86400),
    KEY("max_errors", V_UINT, limits.max_errors, 1, 1000),
    KEY("max_errors_prelogin", V_UINT, limits.max_errors_prelogin, 1, 1000),
    KEY("session_timeout", V_DURATION, limits.session_timeout, 1, 7 * 86400),
};

static const struct key_def listener_keys[] = {
    {"address", V_ADDRESS_LIST, offsetof(struct listener_settings, addresses), 0,
     offsetof(struct listener_settings, address_count), 0, 0},
    {"tls", V_TLS_MODE, offsetof(struct listener_settings, tls),
     FIELD_SIZE(struct listener_settings, tls), 0, 0, 0},
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define SECTION(name, keys)                                                                        \
	{                                                                                          \
		name, keys, N_ELEMENTS(keys)                                                       \
	}

/* In dump order. The top level comes first. */
static const struct section_def sections[] = {
    SECTION(NULL, top_keys),    SECTION("tls", tls_keys),           SECTION("auth", auth_keys),
    SECTION("smtp", smtp_keys), SECTION("imap", imap_keys),         SECTION("limits", limits_keys),
    SECTION("dns", dns_keys),   SECTION("mailauth", mailauth_keys),
};

#define MAX_SECTION_KEYS 8
_Static_assert(N_ELEMENTS(top_keys) <= MAX_SECTION_KEYS, "top_keys");
_Static_assert(N_ELEMENTS(smtp_keys) <= MAX_SECTION_KEYS, "smtp_keys");
_Static_assert(N_ELEMENTS(limits_keys) <= MAX_SECTION_KEYS, "limits_keys");
_Static_assert(N_ELEMENTS(mailauth_keys) <= MAX_SECTION_KEYS, "mailauth_keys");

static const char *const service_names[SERVICE_COUNT] = {
    [SERVICE_SMTP] = "smtp",
    [SERVICE_SUBMISSION] = "submission",
    [SERVICE_SUBMISSIONS] = "submissions",
    [SERVICE_IMAP] = "imap",
    [SERVICE_IMAPS] = "imaps",
};

static const unsigned service_ports[SERVICE_COUNT] = {
    [SERVICE_SMTP] = 25,  [SERVICE_SUBMISSION] = 587, [SERVICE_SUBMISSIONS] = 465,
    [SERVICE_IMAP] = 143, [SERVICE_IMAPS] = 993,
};

static const char *const tls_mode_names[] = {
    [TLS_MODE_NONE] = "none",
    [TLS_MODE_STARTTLS] = "starttls",
    [TLS_MODE_IMPLICIT] = "implicit",
};

static const char *const bare_lf_names[] = {[BARE_LF_REJECT] = "reject"};
static const char *const dmarc_reject_names[] = {
    [DMARC_REJECT_REJECT] = "reject",
    [DMARC_REJECT_QUARANTINE] = "quarantine",
    [DMARC_REJECT_NONE] = "none",
};
static const char *const dmarc_quarantine_names[] = {
    [DMARC_QUARANTINE_JUNK] = "junk",
    [DMARC_QUARANTINE_NONE] = "none",
};

const char *service_name(enum service service)
{
	return service_names[service];
}

int service_parse(const char *name, enum service *service_r)
{
	for (int i = 0; i < SERVICE_COUNT; i++) {
		if (strcmp(name, service_names[i]) == 0) {
			*service_r = (enum service)i;
			return 0;
		}
	}
	return -1;
}

unsigned service_default_port(enum service service)
{
	return service_ports[service];
}

enum tls_mode service_default_tls(enum service service)
{
	/* RFC 8314: submissions and imaps are TLS from the first byte. */
	if (service == SERVICE_SUBMISSIONS || service == SERVICE_IMAPS)
		return TLS_MODE_IMPLICIT;
	return TLS_MODE_STARTTLS;
}

/* ---- loading ---- */

struct load_ctx {
	const char *name; /* the file name in messages */
	char *dir;        /* its absolute directory, for relative paths */
	struct tern_settings *set;
	char *error; /* malloc'ed "name:line: reason" */
};

static int fail(struct load_ctx *ctx, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct load_ctx *ctx, unsigned line, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (line > 0)
		buf_printf(&b, "%s:%u: ", ctx->name, line);
	else
		buf_printf(&b, "%s: ", ctx->name);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(ctx->error);
	ctx->error = buf_steal(&b);
	return -1;
}

/* "bad value for KEY: "TEXT" (expected EXPECTED)" */
static int bad_value(struct load_ctx *ctx, const struct config_entry *e, const char *text,
                     const char *expected)
{
	char *q = config_quote(text);

	fail(ctx, e->line, "bad value for %s: %s (expected %s)", e->key, q, expected);
	free(q);
	return -1;
}

static void *field_at(void *base, size_t offset)
{
	return (char *)base + offset;
}

/* Digits only, no sign, no overflow. Returns the end of the digits or NULL. */
static const char *parse_digits(const char *s, uint64_t *n_r)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return NULL;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*n_r = n;
	return s;
}

/* A number with an optional one-letter unit from units (upper or lower
   case), multiplied by the matching factor. */
static int parse_scaled(const char *s, const char *units, const uint64_t *factors, uint64_t *n_r)
{
	const char *end = parse_digits(s, n_r);
	const char *unit;

	if (end == NULL)
		return -1;
	if (*end == '\0')
		return 0;
	unit = strchr(units, tolower((unsigned char)*end));
	if (unit == NULL || end[1] != '\0')
		return -1;
	if (*n_r > UINT64_MAX / factors[unit - units])
		return -1;
	*n_r *= factors[unit - units];
	return 0;
}

static const uint64_t size_factors[] = {KIB, MIB, GIB};
static const uint64_t duration_factors[] = {1, 60, 3600};

static void store_number(void *field, size_t size, uint64_t n)
{
	if (size == sizeof(uint64_t))
		*(uint64_t *)field = n;
	else
		*(unsigned *)field = (unsigned)n;
}

static int apply_number(struct load_ctx *ctx, const struct key_def *def,
                        const struct config_entry *e, void *field)
{
	static const char *const expected[] = {
	    [V_SIZE] = "a size like 25M",
	    [V_DURATION] = "a duration like 30s, 5m or 2h",
	    [V_UINT] = "a number",
	};
	uint64_t n;
	int ret;

	if (def->type == V_SIZE)
		ret = size_parse(e->value, &n);
	else if (def->type == V_DURATION)
		ret = parse_scaled(e->value, "smh", duration_factors, &n);
	else {
		const char *end = parse_digits(e->value, &n);
		ret = end != NULL && *end == '\0' ? 0 : -1;
	}
	if (ret < 0)
		return bad_value(ctx, e, e->value, expected[def->type]);
	if (n < def->min || n > def->max) {
		char *range = xasprintf("%s from %llu to %llu", expected[def->type],
		                        (unsigned long long)def->min, (unsigned long long)def->max);
		bad_value(ctx, e, e->value, range);
		free(range);
		return -1;
	}
	store_number(field, def->size, n);
	return 0;
}

/* value relative to the config file's directory, "./" and trailing slashes
   dropped so messages and the dump read naturally. */
static char *make_absolute(const char *dir, const char *value)
{
	size_t len = strlen(value);

	while (len > 1 && value[len - 1] == '/')
		len--;
	if (value[0] == '/')
		return xstrndup(value, len);
	while (len >= 2 && value[0] == '.' && value[1] == '/') {
		value += 2;
		len -= 2;
		while (len > 0 && value[0] == '/') {
			value++;
			len--;
		}
	}
	if (len == 0 || (len == 1 && value[0] == '.'))
		return xstrdup(dir);
	return xasprintf("%s%s%.*s", dir, strcmp(dir, "/") == 0 ? "" : "/", (int)len, value);
}

static int apply_string(struct load_ctx *ctx, const struct key_def *def,
                        const struct config_entry *e, void *field)
{
	char **s = field;

	free(*s);
	*s = NULL;
	if (e->value[0] == '\0' && def->type == V_OPT_PATH)
		return 0; /* unset, which is also how the dump writes it */
	if (e->value[0] == '\0')
		return fail(ctx, e->line, "%s must not be empty", e->key);
	*s = def->type == V_STRING ? xstrdup(e->value) : make_absolute(ctx->dir, e->value);
	return 0;
}

/* The index of value in names[], or -1. */
static int lookup_name(const char *const *names, size_t count, const char *value)
{
	for (size_t i = 0; i < count; i++) {
		if (names[i] != NULL && strcasecmp(names[i], value) == 0)
			return (int)i;
	}
	return -1;
}

static const char *const bool_names[] = {"no", "yes", "false", "true"};
static const char *const log_level_names[] = {"debug", "info", "warn", "error"};
static const char *const tls_version_names[] = {"1.2", "1.3"};

static int apply_enum(struct load_ctx *ctx, const struct key_def *def, const struct config_entry *e,
                      void *field)
{
	int i;

	switch (def->type) {
	case V_BOOL:
		if ((i = lookup_name(bool_names, N_ELEMENTS(bool_names), e->value)) < 0)
			return bad_value(ctx, e, e->value, "yes or no");
		*(bool *)field = (i % 2) == 1;
		return 0;
	case V_LOG_LEVEL:
		if ((i = lookup_name(log_level_names, N_ELEMENTS(log_level_names), e->value)) < 0)
			return bad_value(ctx, e, e->value, "debug, info, warn or error");
		*(enum log_level *)field = (enum log_level)i;
		return 0;
	case V_TLS_VERSION:
		if ((i = lookup_name(tls_version_names, N_ELEMENTS(tls_version_names), e->value)) <
		    0)
			return bad_value(ctx, e, e->value, "1.2 or 1.3");
		*(int *)field = 12 + i;
		return 0;
	case V_BARE_LF:
		if ((i = lookup_name(bare_lf_names, N_ELEMENTS(bare_lf_names), e->value)) < 0)
			return bad_value(ctx, e, e->value, "reject");
		*(enum bare_lf_policy *)field = (enum bare_lf_policy)i;
		return 0;
	case V_DMARC_REJECT:
		if ((i = lookup_name(dmarc_reject_names, N_ELEMENTS(dmarc_reject_names),
		                     e->value)) < 0)
			return bad_value(ctx, e, e->value, "reject, quarantine or none");
		*(enum dmarc_reject_action *)field = (enum dmarc_reject_action)i;
		return 0;
	case V_DMARC_QUAR:
		if ((i = lookup_name(dmarc_quarantine_names, N_ELEMENTS(dmarc_quarantine_names),
		                     e->value)) < 0)
			return bad_value(ctx, e, e->value, "junk or none");
		*(enum dmarc_quarantine_action *)field = (enum dmarc_quarantine_action)i;
		return 0;
	default:
		if ((i = lookup_name(tls_mode_names, N_ELEMENTS(tls_mode_names), e->value)) < 0)
			return bad_value(ctx, e, e->value, "none, starttls or implicit");
		*(enum tls_mode *)field = (enum tls_mode)i;
		return 0;
	}
}

/* 1 to 65535, digits only. */
static bool valid_port(const char *s)
{
	uint64_t n;
	const char *end = parse_digits(s, &n);

	return end != NULL && *end == '\0' && n >= 1 && n <= 65535 && end - s <= 5;
}

/* "IPv4:port", "[IPv6]:port" or "*:port". */
static bool valid_address(const char *s)
{
	const char *colon;
	char host[INET6_ADDRSTRLEN + 2];
	struct in6_addr a6;
	struct in_addr a4;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return false;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		return inet_pton(AF_INET6, host, &a6) == 1 && valid_port(close + 2);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strcmp(host, "*") != 0 && inet_pton(AF_INET, host, &a4) != 1)
		return false;
	return valid_port(colon + 1);
}

/* A DNS server: "192.0.2.53", "2001:db8::53", either with "@port". */
static bool valid_ip_port(const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = at != NULL ? (size_t)(at - s) : strlen(s);
	char host[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;

	if (len >= sizeof(host))
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(strchr(host, ':') != NULL ? AF_INET6 : AF_INET, host, &a6) != 1)
		return false;
	return at == NULL || valid_port(at + 1);
}

/* "192.0.2.0/24" or "2001:db8::/32": the prefix is required. */
static bool valid_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	char host[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	uint64_t prefix;
	const char *end;
	int family;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	family = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(family, host, &a6) != 1)
		return false;
	end = parse_digits(slash + 1, &prefix);
	return end != NULL && *end == '\0' && end - slash <= 4 &&
	       prefix <= (family == AF_INET6 ? 128u : 32u);
}

static void free_list(char ***items, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*count = 0;
}

static void list_add(char ***items, size_t *count, const char *s, size_t len)
{
	*items = xreallocarray(*items, *count + 1, sizeof(**items));
	(*items)[(*count)++] = xstrndup(s, len);
}

/* A comma-separated list, items trimmed; an empty value is an empty list. */
static int apply_list(struct load_ctx *ctx, const struct key_def *def, const struct config_entry *e,
                      void *base)
{
	char ***items = field_at(base, def->offset);
	size_t *count = field_at(base, def->count_offset);
	bool (*valid)(const char *) = def->type == V_CIDR_LIST ? valid_cidr
	                              : def->type == V_IP_LIST ? valid_ip_port
	                                                       : valid_address;
	const char *expected =
	    def->type == V_CIDR_LIST ? "networks like 192.0.2.0/24, 2001:db8::/32"
	    : def->type == V_IP_LIST ? "IP addresses like 192.0.2.53, ::1@5353"
	                             : "addresses like 127.0.0.1:25, [::1]:25, *:25";
	char *copy = xstrdup(e->value), *rest = copy, *item;
	int ret = 0;

	free_list(items, count);
	if (copy[strspn(copy, " \t")] == '\0')
		rest = NULL; /* an empty list */
	while (ret == 0 && (item = strsep(&rest, ",")) != NULL) {
		size_t len;
		item += strspn(item, " \t");
		len = strlen(item);
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			item[--len] = '\0';
		if (valid(item))
			list_add(items, count, item, len);
		else
			ret = bad_value(ctx, e, item, expected);
	}
	free(copy);
	return ret;
}

static int apply_value(struct load_ctx *ctx, const struct key_def *def,
                       const struct config_entry *e, void *base)
{
	void *field = field_at(base, def->offset);

	switch (def->type) {
	case V_STRING:
	case V_PATH:
	case V_OPT_PATH:
		return apply_string(ctx, def, e, field);
	case V_SIZE:
	case V_DURATION:
	case V_UINT:
		return apply_number(ctx, def, e, field);
	case V_CIDR_LIST:
	case V_ADDRESS_LIST:
	case V_IP_LIST:
		return apply_list(ctx, def, e, base);
	default:
		return apply_enum(ctx, def, e, field);
	}
}

static const struct section_def *find_section(const char *name)
{
	for (size_t i = 1; i < N_ELEMENTS(sections); i++) {
		if (strcmp(sections[i].name, name) == 0)
			return &sections[i];
	}
	return NULL;
}

static int unknown(struct load_ctx *ctx, const struct config_entry *e, const char *what,
                   const char *where)
{
	char *q = config_quote(e->key);

	if (where != NULL)
		fail(ctx, e->line, "unknown %s %s in %s { }", what, q, where);
	else
		fail(ctx, e->line, "unknown %s %s", what, q);
	free(q);
	return -1;
}

/* The entries of one block (or the top level's values) against keys.
   seen[i] holds the line where keys[i] was set, for duplicate errors. */
static int apply_entries(struct load_ctx *ctx, const struct config_entry *block,
                         const struct key_def *keys, size_t key_count, void *base, unsigned *seen)
{
	for (size_t i = 0; i < block->child_count; i++) {
		const struct config_entry *e = block->children[i];
		size_t k;

		if (e->type == CONFIG_ENTRY_BLOCK) {
			if (block->key != NULL)
				return unknown(ctx, e, "block", block->key);
			continue; /* the top level's blocks are handled by the caller */
		}
		for (k = 0; k < key_count && strcmp(keys[k].name, e->key) != 0; k++)
			;
		if (k == key_count) {
			if (block->key == NULL &&
			    (find_section(e->key) != NULL || strcmp(e->key, "listener") == 0))
				return fail(ctx, e->line, "%s is a block: write %s { ... }", e->key,
				            e->key);
			return unknown(ctx, e, "key", block->key);
		}
		if (seen[k] != 0)
			return fail(ctx, e->line, "duplicate key \"%s\" (already set on line %u)",
			            e->key, seen[k]);
		seen[k] = e->line;
		if (apply_value(ctx, &keys[k], e, base) < 0)
			return -1;
	}
	return 0;
}

static int apply_listener(struct load_ctx *ctx, const struct config_entry *block)
{
	struct tern_settings *set = ctx->set;
	unsigned seen[N_ELEMENTS(listener_keys)] = {0};
	struct listener_settings *l;
	enum service service;

	if (block->value == NULL)
		return fail(ctx, block->line,
		            "listener needs a service: listener smtp { ... } (one of smtp, "
		            "submission, submissions, imap, imaps)");
	if (service_parse(block->value, &service) < 0) {
		char *q = config_quote(block->value);
		fail(ctx, block->line,
		     "unknown service %s (expected smtp, submission, submissions, imap or imaps)",
		     q);
		free(q);
		return -1;
	}
	set->listeners =
	    xreallocarray(set->listeners, set->listener_count + 1, sizeof(*set->listeners));
	l = &set->listeners[set->listener_count++];
	memset(l, 0, sizeof(*l));
	l->service = service;
	l->tls = service_default_tls(service);
	if (apply_entries(ctx, block, listener_keys, N_ELEMENTS(listener_keys), l, seen) < 0)
		return -1;
	if (l->address_count == 0)
		return fail(ctx, block->line, "listener %s has no address (address = *:%u)",
		            service_name(service), service_default_port(service));
	return 0;
}

static int apply_tree(struct load_ctx *ctx, const struct config_entry *root)
{
	unsigned seen[N_ELEMENTS(sections)][MAX_SECTION_KEYS] = {{0}};

	if (apply_entries(ctx, root, top_keys, N_ELEMENTS(top_keys), ctx->set, seen[0]) < 0)
		return -1;
	for (size_t i = 0; i < root->child_count; i++) {
		const struct config_entry *e = root->children[i];
		const struct section_def *sec;

		if (e->type != CONFIG_ENTRY_BLOCK)
			continue;
		if (strcmp(e->key, "listener") == 0) {
			if (apply_listener(ctx, e) < 0)
				return -1;
			continue;
		}
		if ((sec = find_section(e->key)) == NULL)
			return unknown(ctx, e, "block", NULL);
		if (e->value != NULL)
			return fail(ctx, e->line, "block %s takes no label", e->key);
		/* A section may be split over several blocks; a key still only
		   once. */
		if (apply_entries(ctx, e, sec->keys, sec->key_count, ctx->set,
		                  seen[sec - sections]) < 0)
			return -1;
	}
	return 0;
}

static void set_defaults(struct tern_settings *set)
{
	set->log_level = LOG_INFO;
	set->tls.min_version = 12;
	set->auth.min_password_length = 12;
	set->auth.plaintext_on_loopback = false;
	set->auth.cache_ttl = 300;
	set->auth.argon2_ops = 2;        /* libsodium's OPSLIMIT_INTERACTIVE */
	set->auth.argon2_mem = 64 * MIB; /* and MEMLIMIT_INTERACTIVE */
	set->smtp.max_message_size = 25 * MIB;
	set->smtp.max_recipients = 100;
	set->smtp.bare_lf = BARE_LF_REJECT;
	set->imap.max_literal_size = 64 * MIB;
	set->limits.line_length = 8192;
	set->limits.login_timeout = 60;
	set->limits.idle_timeout = 1800;
	set->limits.max_errors = 10;
	set->limits.max_errors_prelogin = 5;
	set->limits.session_timeout = 300;
	set->smtp.max_header_size = 256 * KIB;
	set->dns.timeout = 5;
	set->mailauth.spf = true;
	set->mailauth.dkim = true;
	set->mailauth.dmarc = true;
	/* RFC 7489 6.3 and 6.6.4: honour the domain owner's policy. */
	set->mailauth.dmarc_reject = DMARC_REJECT_REJECT;
	set->mailauth.dmarc_quarantine = DMARC_QUARANTINE_JUNK;
}

static void default_path(char **field, const char *data_dir, const char *rel)
{
	if (*field == NULL)
		*field = xasprintf("%s/%s", strcmp(data_dir, "/") == 0 ? "" : data_dir, rel);
}

/* Defaults that depend on other keys, once every key is read. */
static int finish_settings(struct load_ctx *ctx)
{
	struct tern_settings *set = ctx->set;

	if (set->hostname == NULL)
		return fail(ctx, 0, "hostname is required (hostname = mail.example.com)");
	if (set->data_dir == NULL)
		set->data_dir = xstrdup(ctx->dir);
	if (set->run_user == NULL)
		set->run_user = xstrdup("tern");
	default_path(&set->mail_dir, set->data_dir, "mail");
	default_path(&set->directory_path, set->data_dir, "directory.db");
	default_path(&set->tls.cert, set->data_dir, "tls/cert.pem");
	default_path(&set->tls.key, set->data_dir, "tls/key.pem");
	if (set->mailauth.psl_file == NULL)
		set->mailauth.psl_file = xstrdup("/usr/share/publicsuffix/public_suffix_list.dat");
	return 0;
}

/* The absolute directory of an absolute file path. */
static char *dir_of(const char *abs_path)
{
	const char *slash = strrchr(abs_path, '/');

	return xstrndup(abs_path, slash == abs_path ? 1 : (size_t)(slash - abs_path));
}

static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path[0] == '/' ? path : "/");
	return make_absolute(cwd, path);
}

/* name: for messages; abs_path: the file's absolute path. */
static int load_buffer(const char *name, const char *abs_path, const void *data, size_t len,
                       struct tern_settings **settings_r, char **error_r)
{
	struct load_ctx ctx = {.name = name};
	struct config_entry *root;
	int ret;

	if (config_parse_buffer(name, data, len, &root, error_r) < 0)
		return -1;
	ctx.dir = dir_of(abs_path);
	ctx.set = xcalloc(1, sizeof(*ctx.set));
	ctx.set->config_path = xstrdup(abs_path);
	set_defaults(ctx.set);
	ret = apply_tree(&ctx, root);
	if (ret == 0)
		ret = finish_settings(&ctx);
	config_entry_free(&root);
	free(ctx.dir);
	if (ret < 0) {
		settings_free(&ctx.set);
		*error_r = ctx.error;
		return -1;
	}
	*settings_r = ctx.set;
	return 0;
}

int settings_load_buffer(const char *path, const void *data, size_t len,
                         struct tern_settings **settings_r, char **error_r)
{
	char *abs_path = absolute_path(path);
	int ret = load_buffer(path, abs_path, data, len, settings_r, error_r);

	free(abs_path);
	return ret;
}

int settings_load(const char *path, struct tern_settings **settings_r, char **error_r)
{
	char *data, *abs_path;
	struct stat st;
	size_t len;
	int ret;

	/* read_file() would read a directory as an empty file */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		*error_r = xasprintf("%s: not a regular file", path);
		return -1;
	}
	if (read_file(path, CONFIG_MAX_FILE, &data, &len) < 0) {
		*error_r = xasprintf("%s: %s", path,
		                     errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
		return -1;
	}
	/* Symlinks resolved, so relative paths follow the real file. */
	abs_path = realpath(path, NULL);
	if (abs_path == NULL)
		abs_path = absolute_path(path);
	ret = load_buffer(path, abs_path, data, len, settings_r, error_r);
	free(abs_path);
	free(data);
	return ret;
}

/* ---- dumping ---- */

/* Quoted only when the plain form would not read back the same. */
static void dump_string(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	if (strpbrk(s, "#\"\\") == NULL && len > 0 && s[0] != ' ' && s[0] != '\t' &&
	    s[len - 1] != ' ' && s[len - 1] != '\t') {
		buf_append_str(b, s);
		return;
	}
	buf_append_char(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, *s);
	}
	buf_append_char(b, '"');
}

/* The largest unit that divides n exactly. */
static void dump_scaled(struct buf *b, uint64_t n, const char *units, const uint64_t *factors,
                        int count)
{
	for (int i = count - 1; i >= 0; i--) {
		if (n != 0 && n % factors[i] == 0) {
			buf_printf(b, "%llu%c", (unsigned long long)(n / factors[i]), units[i]);
			return;
		}
	}
	buf_printf(b, "%llu", (unsigned long long)n);
}

static uint64_t load_number(const void *field, size_t size)
{
	return size == sizeof(uint64_t) ? *(const uint64_t *)field : *(const unsigned *)field;
}

static void dump_list(struct buf *b, const struct key_def *def, const void *base)
{
	char *const *items = *(char *const *const *)field_at((void *)base, def->offset);
	size_t count = *(const size_t *)field_at((void *)base, def->count_offset);

	for (size_t i = 0; i < count; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "", items[i]);
}

static void dump_value(struct buf *b, const struct key_def *def, const void *base)
{
	const void *field = field_at((void *)base, def->offset);

	switch (def->type) {
	case V_STRING:
	case V_PATH:
	case V_OPT_PATH:
		if (*(char *const *)field != NULL)
			dump_string(b, *(char *const *)field);
		break;
	case V_SIZE:
		dump_scaled(b, load_number(field, def->size), "KMG", size_factors, 3);
		break;
	case V_DURATION:
		dump_scaled(b, load_number(field, def->size), "smh", duration_factors, 3);
		break;
	case V_UINT:
		buf_printf(b, "%llu", (unsigned long long)load_number(field, def->size));
		break;
	case V_BOOL:
		buf_append_str(b, *(const bool *)field ? "yes" : "no");
		break;
	case V_LOG_LEVEL:
		buf_append_str(b, log_level_names[*(const enum log_level *)field]);
		break;
	case V_TLS_VERSION:
		buf_append_str(b, *(const int *)field == 13 ? "1.3" : "1.2");
		break;
	case V_BARE_LF:
		buf_append_str(b, bare_lf_names[*(const enum bare_lf_policy *)field]);
		break;
	case V_TLS_MODE:
		buf_append_str(b, tls_mode_names[*(const enum tls_mode *)field]);
		break;
	case V_DMARC_REJECT:
		buf_append_str(b, dmarc_reject_names[*(const enum dmarc_reject_action *)field]);
		break;
	case V_DMARC_QUAR:
		buf_append_str(
		    b, dmarc_quarantine_names[*(const enum dmarc_quarantine_action *)field]);
		break;
	case V_CIDR_LIST:
	case V_ADDRESS_LIST:
	case V_IP_LIST:
		dump_list(b, def, base);
		break;
	}
}

static void dump_keys(struct buf *b, const struct key_def *keys, size_t count, const void *base,
                      const char *indent)
{
	for (size_t i = 0; i < count; i++) {
		size_t before;
		buf_printf(b, "%s%s = ", indent, keys[i].name);
		before = b->len;
		dump_value(b, &keys[i], base);
		if (b->len == before) /* an empty list: no trailing space */
			b->data[--b->len] = '\0';
		buf_append_char(b, '\n');
	}
}

char *settings_dump(const struct tern_settings *settings)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, "# effective configuration of ");
	/* a comment ends at a line end, so none may come from the path */
	for (const char *p = settings->config_path; *p != '\0'; p++)
		buf_append_char(&b, *p == '\n' || *p == '\r' ? '?' : *p);
	buf_append_str(&b, "\n");
	dump_keys(&b, top_keys, N_ELEMENTS(top_keys), settings, "");
	for (size_t i = 1; i < N_ELEMENTS(sections); i++) {
		buf_printf(&b, "\n%s {\n", sections[i].name);
		dump_keys(&b, sections[i].keys, sections[i].key_count, settings, "\t");
		buf_append_str(&b, "}\n");
	}
	for (size_t i = 0; i < settings->listener_count; i++) {
		const struct listener_settings *l = &settings->listeners[i];
		buf_printf(&b, "\nlistener %s {\n", service_name(l->service));
		dump_keys(&b, listener_keys, N_ELEMENTS(listener_keys), l, "\t");
		buf_append_str(&b, "}\n");
	}
	return buf_steal(&b);
}

void settings_free(struct tern_settings **settings)
{
	struct tern_settings *set = *settings;

	if (set == NULL)
		return;
	free(set->config_path);
	free(set->hostname);
	free(set->data_dir);
	free(set->mail_dir);
	free(set->directory_path);
	free(set->run_user);
	free(set->tls.cert);
	free(set->tls.key);
	free_list(&set->smtp.trusted_networks, &set->smtp.trusted_network_count);
	free(set->dns.zone_file);
	free_list(&set->dns.forwarders, &set->dns.forwarder_count);
	free(set->mailauth.psl_file);
	for (size_t i = 0; i < set->listener_count; i++)
		free_list(&set->listeners[i].addresses, &set->listeners[i].address_count);
	free(set->listeners);
	free(set);
	*settings = NULL;
}
