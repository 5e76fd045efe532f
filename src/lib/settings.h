#ifndef TERN_LIB_SETTINGS_H
#define TERN_LIB_SETTINGS_H

/*
 * The typed, validated configuration of a Tern instance, loaded from
 * tern.conf (see config.h for the syntax and docs/config.md for every key).
 * Every field has a default, so an empty file is a valid config apart from
 * the keys marked required. Paths are absolute after loading: relative ones
 * are taken relative to the directory holding the config file.
 *
 * This file holds the mechanism and the global keys only (the top level,
 * tls { }, limits { }, listener NAME { }). Each subsystem declares its own
 * section (a struct settings_section: its keys with types, offsets,
 * defaults and ranges) and the roles declare their services (struct
 * service_def); a struct settings_schema assembled above lib lists them
 * and is passed to settings_load() (docs/config.md, "Sections").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

enum tls_mode {
	TLS_MODE_NONE,     /* no TLS offered */
	TLS_MODE_STARTTLS, /* offered through STARTTLS */
	TLS_MODE_IMPLICIT, /* TLS from the first byte */
};

/* A service that `listener NAME { }` can name, declared by the role that
   serves it. Compared by address: one object per service. */
struct service_def {
	const char *name;          /* as written in the config */
	unsigned default_port;     /* its standard port */
	enum tls_mode default_tls; /* a listener's tls unless configured */
};

struct listener_settings {
	const struct service_def *service; /* from the schema */
	/* "127.0.0.1:10025", "[::1]:10025", "*:25" (all IPv4+IPv6). */
	char **addresses;
	size_t address_count;
	enum tls_mode tls;
	/* Peers that must send a PROXY protocol header first (a load balancer
	   in front); their header's client address is the connection's.
	   Others connect as they are. Default none. */
	char **proxy_protocol;
	size_t proxy_protocol_count;
};

/* ---- declaring a section ---- */

/* For sizes in key tables. */
#define SETTINGS_KIB ((uint64_t)1024)
#define SETTINGS_MIB (SETTINGS_KIB * 1024)
#define SETTINGS_GIB (SETTINGS_MIB * 1024)

enum setting_type {
	SETTING_STRING,       /* char *, not empty */
	SETTING_PATH,         /* char *, made absolute */
	SETTING_OPT_PATH,     /* char *, made absolute; empty: NULL (unset) */
	SETTING_OPT_STRING,   /* char *; empty: NULL (unset) */
	SETTING_SIZE,         /* unsigned or uint64_t, bytes: 25M, 512K, 1G, 1000 */
	SETTING_DURATION,     /* unsigned or uint64_t, seconds: 30s, 5m, 2h, 1d, 60 */
	SETTING_UINT,         /* unsigned or uint64_t, a plain number */
	SETTING_BOOL,         /* bool: yes/no/true/false */
	SETTING_ENUM,         /* int-sized enum: one of setting_def.names */
	SETTING_CIDR_LIST,    /* char **, size_t count: "192.0.2.0/24" */
	SETTING_IP_LIST,      /* char **, size_t count: "192.0.2.53", "::1@5353" */
	SETTING_ADDRESS_LIST, /* char **, size_t count: "127.0.0.1:25", "*:25" */
	SETTING_LABEL,        /* char *: the block's label, first key of a labelled section */
};

/* The words of an enum key: value = base + index in names. */
struct setting_names {
	const char *const *names;
	size_t count;
	const char *expected; /* for messages: "reject, quarantine or none" */
	int base;
};

/* A path key that names a file every role reads (the sandbox allows it). */
#define SETTING_F_READ 0x1u

struct setting_def {
	const char *name;
	enum setting_type type;
	size_t offset;       /* of the field in the section's struct */
	size_t size;         /* of the field */
	size_t count_offset; /* lists: of the size_t count */
	uint64_t min, max;   /* numbers: the allowed range */
	/* The default in the config syntax, as if written in the file ("25M",
	   "yes", "junk"); NULL: zero, empty or unset. A relative default path
	   is taken from data_dir. */
	const char *def;
	const struct setting_names *names; /* SETTING_ENUM */
	unsigned flags;                    /* SETTING_F_* */
};

#define SETTING_FIELD_SIZE_(type, member) sizeof(((type *)0)->member)
/* A key of a scalar type stored in member of struct type. */
#define SETTING(type, name, vtype, member, min, max, def)                                          \
	{                                                                                          \
		name, vtype, offsetof(type, member), SETTING_FIELD_SIZE_(type, member), 0, min,    \
		    max, def, NULL, 0                                                              \
	}
/* A path key with flags. */
#define SETTING_FILE(type, name, vtype, member, def, flags)                                        \
	{                                                                                          \
		name, vtype, offsetof(type, member), SETTING_FIELD_SIZE_(type, member), 0, 0, 0,   \
		    def, NULL, flags                                                               \
	}
/* An enum key: names is a struct setting_names. */
#define SETTING_ENUM_OF(type, name, member, names, def)                                            \
	{                                                                                          \
		name, SETTING_ENUM, offsetof(type, member), SETTING_FIELD_SIZE_(type, member), 0,  \
		    0, 0, def, &(names), 0                                                         \
	}
/* A list key: char **member with size_t count. */
#define SETTING_LIST(type, name, vtype, member, count)                                             \
	{                                                                                          \
		name, vtype, offsetof(type, member), 0, offsetof(type, count), 0, 0, NULL, NULL, 0 \
	}

/* A block `name { }` of keys, stored in a zeroed struct of size bytes.
   A labelled section, whose first key is a SETTING_LABEL, is written
   `name LABEL { }`, once per label: each block is one item (a struct of
   size bytes with the keys' defaults and the label in the SETTING_LABEL
   field), and settings_section() gives a struct settings_labelled of
   them. */
struct settings_section {
	const char *name;
	size_t size;
	const struct setting_def *keys;
	size_t key_count;
};

/* The items of a labelled section, in the file's order. */
struct settings_labelled {
	size_t count;
	char **labels;
	void **items;
};

/* What a program's config may hold beyond the global keys: its sections
   (in dump order) and the services listeners may name (in messages'
   order). Static tables; see cli/cli-settings.c. */
struct settings_schema {
	const struct settings_section *const *sections;
	size_t section_count;
	const struct service_def *const *services;
	size_t service_count;
};

/* ---- the loaded settings ---- */

struct tern_settings {
	char *config_path;        /* absolute path of the file this came from */
	char *hostname;           /* required: the name in greetings and Received */
	char *data_dir;           /* default: directory of the config file */
	char *mail_dir;           /* default: <data_dir>/mail */
	char *directory_path;     /* default: <data_dir>/directory.db */
	char *run_user;           /* user the roles run as when started as root; default "tern" */
	enum log_level log_level; /* default info */
	unsigned processes;       /* per listener role; 0 (default): one per core */

	struct {
		char *cert;      /* PEM chain; default <data_dir>/tls/cert.pem */
		char *key;       /* PEM key (0600); default <data_dir>/tls/key.pem */
		int min_version; /* 12 or 13 (TLS 1.2 / 1.3); default 12 */
	} tls;

	/* Session limits every protocol applies. */
	struct {
		unsigned line_length;         /* max command line, bytes; default 8192 */
		unsigned login_timeout;       /* idle seconds before login; default 60 */
		unsigned idle_timeout;        /* idle seconds after login; default 1800 */
		unsigned max_errors;          /* bad commands before disconnect; default 10 */
		unsigned max_errors_prelogin; /* same, before login; default 5 */
		unsigned session_timeout;     /* max seconds for a whole session before
		                                 login; default 300 */
	} limits;

	struct listener_settings *listeners;
	size_t listener_count;

	/* The schema loaded with (NULL for settings built by hand in tests)
	   and one struct per schema section, in its order. */
	const struct settings_schema *schema;
	void **sections;
};

/* The service called name in schema, or NULL. */
const struct service_def *settings_find_service(const struct settings_schema *schema,
                                                const char *name);

/* The struct of section, owned by settings. section must be one of the
   schema's sections (a bug otherwise: aborts). For the typed accessor
   each subsystem declares beside its section. */
const void *settings_section(const struct tern_settings *settings,
                             const struct settings_section *section);

/* Parse a duration as tern.conf writes them ("30s", "5m", "2h", "1d", or
   plain seconds) into seconds. Returns 0, or -1 when s is not one (for the
   CLI's options). */
int settings_parse_duration(const char *s, uint64_t *seconds_r);

/* The paths flagged SETTING_F_READ that are set, one per call: start with
 *pos = 0; returns NULL after the last. */
const char *settings_next_read_path(const struct tern_settings *settings, size_t *pos);

/* Load and validate the config file at path against schema (which must
   outlive the settings). On error returns -1 and sets *error_r to a
   malloc'ed "file:line: reason" message (the caller frees it); *settings_r
   is untouched. On success returns 0 and *settings_r is a new settings
   object. */
int settings_load(const struct settings_schema *schema, const char *path,
                  struct tern_settings **settings_r, char **error_r);

/* Render the effective config (every key, defaults included) in the config
   syntax, such that loading the output gives the same settings. Returns a
   malloc'ed string. */
char *settings_dump(const struct tern_settings *settings);

/* Free settings and set *settings to NULL. NULL is fine. */
void settings_free(struct tern_settings **settings);

#endif
