/* The typed layer over config.c: tables of keys (the global ones here, the
   others in each subsystem's section, assembled in a schema) drive loading,
   defaults and dumping (docs/config.md describes every key and "Sections"
   who declares what). */
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

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/size.h"
#include "lib/xalloc.h"

/* A config file is small; anything bigger is a mistake (a log, a binary). */
#define CONFIG_MAX_FILE (4 * 1024 * 1024)

#define KIB SETTINGS_KIB
#define MIB SETTINGS_MIB
#define GIB SETTINGS_GIB

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* The global keys live in struct tern_settings itself. */
#define KEY(name, vtype, member, min, max, def)                                                    \
	SETTING(struct tern_settings, name, vtype, member, min, max, def)

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};
static const struct setting_names log_levels = {log_level_names, N_ELEMENTS(log_level_names),
                                                "debug, info, warn or error", 0};
static const char *const tls_version_names[] = {"1.2", "1.3"};
static const struct setting_names tls_versions = {tls_version_names, N_ELEMENTS(tls_version_names),
                                                  "1.2 or 1.3", 12};
static const char *const tls_mode_names[] = {
    [TLS_MODE_NONE] = "none",
    [TLS_MODE_STARTTLS] = "starttls",
    [TLS_MODE_IMPLICIT] = "implicit",
};
static const struct setting_names tls_modes = {tls_mode_names, N_ELEMENTS(tls_mode_names),
                                               "none, starttls or implicit", 0};

static const struct setting_def top_keys[] = {
    KEY("hostname", SETTING_STRING, hostname, 0, 0, NULL),
    KEY("data_dir", SETTING_PATH, data_dir, 0, 0, NULL),
    KEY("mail_dir", SETTING_PATH, mail_dir, 0, 0, "mail"),
    KEY("directory", SETTING_PATH, directory_path, 0, 0, "directory.db"),
    KEY("user", SETTING_STRING, run_user, 0, 0, "tern"),
    SETTING_ENUM_OF(struct tern_settings, "log_level", log_level, log_levels, "info"),
    KEY("processes", SETTING_UINT, processes, 0, 256, NULL),
};

static const struct setting_def tls_keys[] = {
    KEY("cert", SETTING_PATH, tls.cert, 0, 0, "tls/cert.pem"),
    KEY("key", SETTING_PATH, tls.key, 0, 0, "tls/key.pem"),
    SETTING_ENUM_OF(struct tern_settings, "min_version", tls.min_version, tls_versions, "1.2"),
};

/* A command line of 512 octets must be accepted (RFC 5321 4.5.3.1.4). */
static const struct setting_def limits_keys[] = {
    KEY("line_length", SETTING_SIZE, limits.line_length, 512, 1 * MIB, "8K"),
    KEY("login_timeout", SETTING_DURATION, limits.login_timeout, 1, 86400, "1m"),
    KEY("idle_timeout", SETTING_DURATION, limits.idle_timeout, 1, 7 * 86400, "30m"),
    KEY("max_errors", SETTING_UINT, limits.max_errors, 1, 1000, "10"),
    KEY("max_errors_prelogin", SETTING_UINT, limits.max_errors_prelogin, 1, 1000, "5"),
    KEY("session_timeout", SETTING_DURATION, limits.session_timeout, 1, 7 * 86400, "5m"),
};

static const struct setting_def listener_keys[] = {
    SETTING_LIST(struct listener_settings, "address", SETTING_ADDRESS_LIST, addresses,
                 address_count),
    SETTING_ENUM_OF(struct listener_settings, "tls", tls, tls_modes, NULL),
    SETTING_LIST(struct listener_settings, "proxy_protocol", SETTING_CIDR_LIST, proxy_protocol,
                 proxy_protocol_count),
};

#define SECTION(name, keys)                                                                        \
	{                                                                                          \
		name, sizeof(struct tern_settings), keys, N_ELEMENTS(keys)                         \
	}

/* The global sections, stored in struct tern_settings; the top level first.
   The schema's sections follow them, in the dump too. */
static const struct settings_section global_sections[] = {
    SECTION(NULL, top_keys),
    SECTION("tls", tls_keys),
    SECTION("limits", limits_keys),
};
#define GLOBAL_COUNT N_ELEMENTS(global_sections)

const struct service_def *settings_find_service(const struct settings_schema *schema,
                                                const char *name)
{
	for (size_t i = 0; schema != NULL && i < schema->service_count; i++) {
		if (strcmp(name, schema->services[i]->name) == 0)
			return schema->services[i];
	}
	return NULL;
}

/* Sections are numbered globals first, then the schema's. */
static size_t section_count(const struct settings_schema *schema)
{
	return GLOBAL_COUNT + (schema != NULL ? schema->section_count : 0);
}

static const struct settings_section *section_at(const struct settings_schema *schema, size_t i)
{
	return i < GLOBAL_COUNT ? &global_sections[i] : schema->sections[i - GLOBAL_COUNT];
}

/* Whether sec is written `name LABEL { }`, once per item. */
static bool is_labelled(const struct settings_section *sec)
{
	return sec->key_count > 0 && sec->keys[0].type == SETTING_LABEL;
}

/* Where section i's struct is. */
static void *section_base(const struct tern_settings *set, size_t i)
{
	return i < GLOBAL_COUNT ? (void *)set : set->sections[i - GLOBAL_COUNT];
}

const void *settings_section(const struct tern_settings *settings,
                             const struct settings_section *section)
{
	const struct settings_schema *schema = settings->schema;

	for (size_t i = 0; schema != NULL && i < schema->section_count; i++) {
		if (schema->sections[i] == section)
			return settings->sections[i];
	}
	fprintf(stderr, "settings: section %s is not in the schema\n", section->name);
	abort();
}

/* ---- loading ---- */

struct load_ctx {
	const char *name; /* the file name in messages */
	char *dir;        /* its absolute directory, for relative paths */
	struct tern_settings *set;
	/* Per section (section_at() order), per key: the line where the key
	   was set, for duplicate errors. */
	unsigned **seen;
	ARRAY(struct listener_settings) listeners;
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
static const uint64_t duration_factors[] = {1, 60, 3600, 86400};

int settings_parse_duration(const char *s, uint64_t *seconds_r)
{
	return parse_scaled(s, "smhd", duration_factors, seconds_r);
}

static void store_number(void *field, size_t size, uint64_t n)
{
	if (size == sizeof(uint64_t))
		*(uint64_t *)field = n;
	else
		*(unsigned *)field = (unsigned)n;
}

static int apply_number(struct load_ctx *ctx, const struct setting_def *def,
                        const struct config_entry *e, void *field)
{
	static const char *const expected[] = {
	    [SETTING_SIZE] = "a size like 25M",
	    [SETTING_DURATION] = "a duration like 30s, 5m, 2h or 1d",
	    [SETTING_UINT] = "a number",
	};
	uint64_t n;
	int ret;

	if (def->type == SETTING_SIZE)
		ret = size_parse(e->value, &n);
	else if (def->type == SETTING_DURATION)
		ret = parse_scaled(e->value, "smhd", duration_factors, &n);
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

static int apply_string(struct load_ctx *ctx, const struct setting_def *def,
                        const struct config_entry *e, void *field)
{
	char **s = field;

	free(*s);
	*s = NULL;
	if (e->value[0] == '\0' &&
	    (def->type == SETTING_OPT_PATH || def->type == SETTING_OPT_STRING))
		return 0; /* unset, which is also how the dump writes it */
	if (e->value[0] == '\0')
		return fail(ctx, e->line, "%s must not be empty", e->key);
	*s = def->type == SETTING_STRING || def->type == SETTING_OPT_STRING
	         ? xstrdup(e->value)
	         : make_absolute(ctx->dir, e->value);
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

static int apply_enum(struct load_ctx *ctx, const struct setting_def *def,
                      const struct config_entry *e, void *field)
{
	int i;

	if (def->type == SETTING_BOOL) {
		if ((i = lookup_name(bool_names, N_ELEMENTS(bool_names), e->value)) < 0)
			return bad_value(ctx, e, e->value, "yes or no");
		*(bool *)field = (i % 2) == 1;
		return 0;
	}
	if ((i = lookup_name(def->names->names, def->names->count, e->value)) < 0)
		return bad_value(ctx, e, e->value, def->names->expected);
	*(int *)field = def->names->base + i;
	return 0;
}

/* 1 to 65535, digits only. */
static bool valid_port(const char *s)
{
	uint64_t n;
	const char *end = parse_digits(s, &n);

	return end != NULL && *end == '\0' && n >= 1 && n <= 65535 && end - s <= 5;
}

/* "IPv4:port", "[IPv6]:port", "*:port" or "unix:PATH" (net/listener.h). */
static bool valid_address(const char *s)
{
	const char *colon;
	char host[INET6_ADDRSTRLEN + 2];
	struct in6_addr a6;
	struct in_addr a4;

	if (strncmp(s, "unix:", 5) == 0)
		return s[5] != '\0' && strlen(s + 5) < 100;
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

/* A comma-separated list, items trimmed; an empty value is an empty list. */
static int apply_list(struct load_ctx *ctx, const struct setting_def *def,
                      const struct config_entry *e, void *base)
{
	char ***items = field_at(base, def->offset);
	size_t *count = field_at(base, def->count_offset);
	bool (*valid)(const char *) = def->type == SETTING_CIDR_LIST ? valid_cidr
	                              : def->type == SETTING_IP_LIST ? valid_ip_port
	                                                             : valid_address;
	const char *expected = def->type == SETTING_CIDR_LIST
	                           ? "networks like 192.0.2.0/24, 2001:db8::/32"
	                       : def->type == SETTING_IP_LIST
	                           ? "IP addresses like 192.0.2.53, ::1@5353"
	                           : "addresses like 127.0.0.1:25, [::1]:25, *:25, unix:PATH";
	char *copy = xstrdup(e->value), *rest = copy, *item;
	ARRAY(char *) list = ARRAY_INIT;
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
			array_append(&list, xstrndup(item, len));
		else
			ret = bad_value(ctx, e, item, expected);
	}
	free(copy);
	*items = array_steal(&list, count);
	return ret;
}

/* The field sizes the types store (settings.h); another is a bug in a
   section's table. */
static bool size_fits(const struct setting_def *def)
{
	switch (def->type) {
	case SETTING_SIZE:
	case SETTING_DURATION:
	case SETTING_UINT:
		return def->size == sizeof(unsigned) || def->size == sizeof(uint64_t);
	case SETTING_BOOL:
		return def->size == sizeof(bool);
	case SETTING_ENUM:
		return def->size == sizeof(int) && def->names != NULL;
	default:
		return true;
	}
}

static int apply_value(struct load_ctx *ctx, const struct setting_def *def,
                       const struct config_entry *e, void *base)
{
	void *field = field_at(base, def->offset);

	if (!size_fits(def)) {
		fprintf(stderr, "settings: key %s has a field of %zu bytes\n", def->name,
		        def->size);
		abort();
	}

	switch (def->type) {
	case SETTING_STRING:
	case SETTING_OPT_STRING:
	case SETTING_PATH:
	case SETTING_OPT_PATH:
		return apply_string(ctx, def, e, field);
	case SETTING_SIZE:
	case SETTING_DURATION:
	case SETTING_UINT:
		return apply_number(ctx, def, e, field);
	case SETTING_CIDR_LIST:
	case SETTING_ADDRESS_LIST:
	case SETTING_IP_LIST:
		return apply_list(ctx, def, e, base);
	default:
		return apply_enum(ctx, def, e, field);
	}
}

/* The index (section_at() order) of the block called name, or -1. */
static int find_section(const struct settings_schema *schema, const char *name)
{
	for (size_t i = 1; i < section_count(schema); i++) {
		if (strcmp(section_at(schema, i)->name, name) == 0)
			return (int)i;
	}
	return -1;
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
                         const struct setting_def *keys, size_t key_count, void *base,
                         unsigned *seen)
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
			if (block->key == NULL && (find_section(ctx->set->schema, e->key) >= 0 ||
			                           strcmp(e->key, "listener") == 0))
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

/* The schema's service names: "a, b or c" (sep ", " and last " or "), or
   "a, b, c" (last ", "). */
static char *service_names(const struct settings_schema *schema, const char *last)
{
	struct buf b = BUF_INIT;
	size_t n = schema != NULL ? schema->service_count : 0;

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s",
		           i == 0       ? ""
		           : i + 1 == n ? last
		                        : ", ",
		           schema->services[i]->name);
	if (n == 0)
		buf_append_str(&b, "none configured");
	return buf_steal(&b);
}

static int bad_service(struct load_ctx *ctx, const struct config_entry *block)
{
	const struct settings_schema *schema = ctx->set->schema;
	char *names, *q;

	if (block->value == NULL) {
		names = service_names(schema, ", ");
		fail(ctx, block->line, "listener needs a service: listener %s { ... } (one of %s)",
		     schema != NULL && schema->service_count > 0 ? schema->services[0]->name
		                                                 : "NAME",
		     names);
		free(names);
		return -1;
	}
	names = service_names(schema, " or ");
	q = config_quote(block->value);
	fail(ctx, block->line, "unknown service %s (expected %s)", q, names);
	free(q);
	free(names);
	return -1;
}

static int apply_listener(struct load_ctx *ctx, const struct config_entry *block)
{
	unsigned seen[N_ELEMENTS(listener_keys)] = {0};
	const struct service_def *service = NULL;
	struct listener_settings *l;

	if (block->value != NULL)
		service = settings_find_service(ctx->set->schema, block->value);
	if (service == NULL)
		return bad_service(ctx, block);
	l = array_push(&ctx->listeners);
	l->service = service;
	l->tls = service->default_tls;
	if (apply_entries(ctx, block, listener_keys, N_ELEMENTS(listener_keys), l, seen) < 0)
		return -1;
	if (l->address_count == 0)
		return fail(ctx, block->line, "listener %s has no address (address = *:%u)",
		            service->name, service->default_port);
	return 0;
}

static void section_defaults(struct load_ctx *ctx, const struct settings_section *sec, void *base);

/* One `name LABEL { }` block of the labelled section n: a new item. */
static int apply_labelled(struct load_ctx *ctx, const struct config_entry *block, size_t n)
{
	const struct settings_section *sec = section_at(ctx->set->schema, n);
	struct settings_labelled *l = section_base(ctx->set, n);
	unsigned *seen;
	void *item;
	int ret;

	if (block->value == NULL || block->value[0] == '\0')
		return fail(ctx, block->line, "%s needs a name: %s NAME { ... }", sec->name,
		            sec->name);
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->labels[i], block->value) == 0)
			return fail(ctx, block->line, "duplicate %s %s", sec->name, block->value);
	}
	item = xcalloc(1, sec->size);
	l->items = xrealloc(l->items, (l->count + 1) * sizeof(*l->items));
	l->labels = xrealloc(l->labels, (l->count + 1) * sizeof(*l->labels));
	l->items[l->count] = item;
	l->labels[l->count] = xstrdup(block->value);
	l->count++;
	*(char **)field_at(item, sec->keys[0].offset) = xstrdup(block->value);
	section_defaults(ctx, sec, item);
	seen = xcalloc(sec->key_count + 1, sizeof(*seen));
	ret = apply_entries(ctx, block, sec->keys, sec->key_count, item, seen);
	free(seen);
	return ret;
}

static int apply_tree(struct load_ctx *ctx, const struct config_entry *root)
{
	const struct settings_schema *schema = ctx->set->schema;

	if (apply_entries(ctx, root, top_keys, N_ELEMENTS(top_keys), ctx->set, ctx->seen[0]) < 0)
		return -1;
	for (size_t i = 0; i < root->child_count; i++) {
		const struct config_entry *e = root->children[i];
		const struct settings_section *sec;
		int n;

		if (e->type != CONFIG_ENTRY_BLOCK)
			continue;
		if (strcmp(e->key, "listener") == 0) {
			if (apply_listener(ctx, e) < 0)
				return -1;
			continue;
		}
		if ((n = find_section(schema, e->key)) < 0)
			return unknown(ctx, e, "block", NULL);
		if (is_labelled(section_at(schema, (size_t)n))) {
			if (apply_labelled(ctx, e, (size_t)n) < 0)
				return -1;
			continue;
		}
		if (e->value != NULL)
			return fail(ctx, e->line, "block %s takes no label", e->key);
		/* A section may be split over several blocks; a key still only
		   once. */
		sec = section_at(schema, (size_t)n);
		if (apply_entries(ctx, e, sec->keys, sec->key_count,
		                  section_base(ctx->set, (size_t)n), ctx->seen[n]) < 0)
			return -1;
	}
	return 0;
}

static bool is_path(const struct setting_def *def)
{
	return def->type == SETTING_PATH || def->type == SETTING_OPT_PATH;
}

/* Every default of sec but the paths' (which wait for data_dir) into
   base, as if written in the file. A default that does not parse is a
   bug in its table. */
static void section_defaults(struct load_ctx *ctx, const struct settings_section *sec, void *base)
{
	for (size_t k = 0; k < sec->key_count; k++) {
		const struct setting_def *def = &sec->keys[k];
		struct config_entry e = {.type = CONFIG_ENTRY_VALUE,
		                         .key = (char *)def->name,
		                         .value = (char *)def->def};

		if (def->def == NULL || is_path(def))
			continue;
		if (apply_value(ctx, def, &e, base) < 0) {
			fprintf(stderr, "settings: bad default of %s: %s\n", def->name, ctx->error);
			abort();
		}
	}
}

/* The defaults of every section but the labelled ones (each item gets
   them when its block is read). */
static void set_defaults(struct load_ctx *ctx)
{
	const struct settings_schema *schema = ctx->set->schema;

	for (size_t i = 0; i < section_count(schema); i++) {
		if (!is_labelled(section_at(schema, i)))
			section_defaults(ctx, section_at(schema, i), section_base(ctx->set, i));
	}
}

/* The default paths of sec left unset in base, from data_dir. */
static void default_paths(struct tern_settings *set, const struct settings_section *sec, void *base)
{
	for (size_t k = 0; k < sec->key_count; k++) {
		char **field = field_at(base, sec->keys[k].offset);

		if (is_path(&sec->keys[k]) && sec->keys[k].def != NULL && *field == NULL)
			*field = make_absolute(set->data_dir, sec->keys[k].def);
	}
}

/* Defaults that depend on other keys, once every key is read: paths are
   taken from data_dir. */
static int finish_settings(struct load_ctx *ctx)
{
	struct tern_settings *set = ctx->set;
	const struct settings_schema *schema = set->schema;

	if (set->hostname == NULL)
		return fail(ctx, 0, "hostname is required (hostname = mail.example.com)");
	if (set->data_dir == NULL)
		set->data_dir = xstrdup(ctx->dir);
	for (size_t i = 0; i < section_count(schema); i++) {
		const struct settings_section *sec = section_at(schema, i);
		const struct settings_labelled *l = section_base(set, i);

		if (!is_labelled(sec)) {
			default_paths(set, sec, section_base(set, i));
			continue;
		}
		for (size_t j = 0; j < l->count; j++)
			default_paths(set, sec, l->items[j]);
	}
	return 0;
}

static struct tern_settings *settings_new(const struct settings_schema *schema,
                                          const char *abs_path)
{
	struct tern_settings *set = xcalloc(1, sizeof(*set));
	size_t n = schema != NULL ? schema->section_count : 0;

	set->config_path = xstrdup(abs_path);
	set->schema = schema;
	set->sections = xcalloc(n, sizeof(*set->sections));
	for (size_t i = 0; i < n; i++)
		set->sections[i] =
		    xcalloc(1, is_labelled(schema->sections[i]) ? sizeof(struct settings_labelled)
		                                                : schema->sections[i]->size);
	return set;
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

static void seen_new(struct load_ctx *ctx)
{
	const struct settings_schema *schema = ctx->set->schema;

	ctx->seen = xcalloc(section_count(schema), sizeof(*ctx->seen));
	for (size_t i = 0; i < section_count(schema); i++)
		ctx->seen[i] = xcalloc(section_at(schema, i)->key_count, sizeof(**ctx->seen));
}

static void seen_free(struct load_ctx *ctx)
{
	for (size_t i = 0; i < section_count(ctx->set->schema); i++)
		free(ctx->seen[i]);
	free(ctx->seen);
}

/* name: for messages; abs_path: the file's absolute path. */
static int load_buffer(const struct settings_schema *schema, const char *name, const char *abs_path,
                       const void *data, size_t len, struct tern_settings **settings_r,
                       char **error_r)
{
	struct load_ctx ctx = {.name = name, .listeners = ARRAY_INIT};
	struct config_entry *root;
	int ret;

	if (config_parse_buffer(name, data, len, &root, error_r) < 0)
		return -1;
	ctx.dir = dir_of(abs_path);
	ctx.set = settings_new(schema, abs_path);
	seen_new(&ctx);
	set_defaults(&ctx);
	ret = apply_tree(&ctx, root);
	ctx.set->listeners = array_steal(&ctx.listeners, &ctx.set->listener_count);
	if (ret == 0)
		ret = finish_settings(&ctx);
	config_entry_free(&root);
	seen_free(&ctx);
	free(ctx.dir);
	if (ret < 0) {
		settings_free(&ctx.set);
		*error_r = ctx.error;
		return -1;
	}
	*settings_r = ctx.set;
	return 0;
}

int settings_load_buffer(const struct settings_schema *schema, const char *path, const void *data,
                         size_t len, struct tern_settings **settings_r, char **error_r)
{
	char *abs_path = absolute_path(path);
	int ret = load_buffer(schema, path, abs_path, data, len, settings_r, error_r);

	free(abs_path);
	return ret;
}

int settings_load(const struct settings_schema *schema, const char *path,
                  struct tern_settings **settings_r, char **error_r)
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
	ret = load_buffer(schema, path, abs_path, data, len, settings_r, error_r);
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

static void dump_list(struct buf *b, const struct setting_def *def, const void *base)
{
	char *const *items = *(char *const *const *)field_at((void *)base, def->offset);
	size_t count = *(const size_t *)field_at((void *)base, def->count_offset);

	for (size_t i = 0; i < count; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "", items[i]);
}

static void dump_value(struct buf *b, const struct setting_def *def, const void *base)
{
	const void *field = field_at((void *)base, def->offset);

	switch (def->type) {
	case SETTING_STRING:
	case SETTING_OPT_STRING:
	case SETTING_PATH:
	case SETTING_OPT_PATH:
		if (*(char *const *)field != NULL)
			dump_string(b, *(char *const *)field);
		break;
	case SETTING_SIZE:
		dump_scaled(b, load_number(field, def->size), "KMG", size_factors, 3);
		break;
	case SETTING_DURATION:
		dump_scaled(b, load_number(field, def->size), "smhd", duration_factors, 4);
		break;
	case SETTING_UINT:
		buf_printf(b, "%llu", (unsigned long long)load_number(field, def->size));
		break;
	case SETTING_BOOL:
		buf_append_str(b, *(const bool *)field ? "yes" : "no");
		break;
	case SETTING_ENUM: {
		int v = *(const int *)field - def->names->base;
		if (v >= 0 && (size_t)v < def->names->count)
			buf_append_str(b, def->names->names[v]);
		break;
	}
	case SETTING_CIDR_LIST:
	case SETTING_ADDRESS_LIST:
	case SETTING_IP_LIST:
		dump_list(b, def, base);
		break;
	case SETTING_LABEL:
		break;
	}
}

static void dump_keys(struct buf *b, const struct setting_def *keys, size_t count, const void *base,
                      const char *indent)
{
	for (size_t i = 0; i < count; i++) {
		size_t before;
		if (keys[i].type == SETTING_LABEL) /* in the block's head */
			continue;
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
	for (size_t i = 1; i < section_count(settings->schema); i++) {
		const struct settings_section *sec = section_at(settings->schema, i);
		const struct settings_labelled *l = section_base(settings, i);

		if (is_labelled(sec)) {
			for (size_t j = 0; j < l->count; j++) {
				buf_printf(&b, "\n%s ", sec->name);
				dump_string(&b, l->labels[j]);
				buf_append_str(&b, " {\n");
				dump_keys(&b, sec->keys, sec->key_count, l->items[j], "\t");
				buf_append_str(&b, "}\n");
			}
			continue;
		}
		buf_printf(&b, "\n%s {\n", sec->name);
		dump_keys(&b, sec->keys, sec->key_count, section_base(settings, i), "\t");
		buf_append_str(&b, "}\n");
	}
	for (size_t i = 0; i < settings->listener_count; i++) {
		const struct listener_settings *l = &settings->listeners[i];
		buf_printf(&b, "\nlistener %s {\n", l->service->name);
		dump_keys(&b, listener_keys, N_ELEMENTS(listener_keys), l, "\t");
		buf_append_str(&b, "}\n");
	}
	return buf_steal(&b);
}

/* The strings and lists of one section's struct. */
static void free_keys(const struct setting_def *keys, size_t count, void *base)
{
	for (size_t k = 0; k < count; k++) {
		const struct setting_def *def = &keys[k];

		switch (def->type) {
		case SETTING_STRING:
		case SETTING_OPT_STRING:
		case SETTING_PATH:
		case SETTING_OPT_PATH:
		case SETTING_LABEL:
			free(*(char **)field_at(base, def->offset));
			*(char **)field_at(base, def->offset) = NULL;
			break;
		case SETTING_CIDR_LIST:
		case SETTING_ADDRESS_LIST:
		case SETTING_IP_LIST:
			free_list(field_at(base, def->offset), field_at(base, def->count_offset));
			break;
		default:
			break;
		}
	}
}

const char *settings_next_read_path(const struct tern_settings *settings, size_t *pos)
{
	const struct settings_schema *schema = settings->schema;
	size_t n = 0;

	/* *pos counts keys over every section: the next one to look at */
	for (size_t i = 0; i < section_count(schema); i++) {
		const struct settings_section *sec = section_at(schema, i);

		for (size_t k = 0; k < sec->key_count; k++, n++) {
			const struct setting_def *def = &sec->keys[k];
			const char *path;

			/* labelled sections hold no file every role reads */
			if (n < *pos || is_labelled(sec) || !is_path(def) ||
			    (def->flags & SETTING_F_READ) == 0)
				continue;
			path = *(char *const *)field_at(section_base(settings, i), def->offset);
			if (path == NULL)
				continue;
			*pos = n + 1;
			return path;
		}
	}
	*pos = n;
	return NULL;
}

void settings_free(struct tern_settings **settings)
{
	struct tern_settings *set = *settings;

	if (set == NULL)
		return;
	for (size_t i = 0; i < section_count(set->schema); i++) {
		const struct settings_section *sec = section_at(set->schema, i);
		struct settings_labelled *l = section_base(set, i);

		if (!is_labelled(sec)) {
			free_keys(sec->keys, sec->key_count, section_base(set, i));
			continue;
		}
		for (size_t j = 0; j < l->count; j++) {
			free_keys(sec->keys, sec->key_count, l->items[j]);
			free(l->items[j]);
			free(l->labels[j]);
		}
		free(l->items);
		free(l->labels);
	}
	for (size_t i = 0; set->schema != NULL && i < set->schema->section_count; i++)
		free(set->sections[i]);
	free(set->sections);
	free(set->config_path);
	for (size_t i = 0; i < set->listener_count; i++)
		free_keys(listener_keys, N_ELEMENTS(listener_keys), &set->listeners[i]);
	free(set->listeners);
	free(set);
	*settings = NULL;
}
