#ifndef TERN_LIB_SETTINGS_H
#define TERN_LIB_SETTINGS_H

/*
 * The typed, validated configuration of a Tern instance, loaded from
 * tern.conf (see config.h for the syntax and docs/config.md for every key).
 * Every field has a default, so an empty file is a valid config apart from
 * the keys marked required. Paths are absolute after loading: relative ones
 * are taken relative to the directory holding the config file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

enum service {
	SERVICE_SMTP,        /* port 25: receive mail for local domains */
	SERVICE_SUBMISSION,  /* 587: users send, STARTTLS */
	SERVICE_SUBMISSIONS, /* 465: users send, implicit TLS */
	SERVICE_IMAP,        /* 143 */
	SERVICE_IMAPS,       /* 993 */
	SERVICE_COUNT
};

enum tls_mode {
	TLS_MODE_NONE,     /* no TLS offered */
	TLS_MODE_STARTTLS, /* offered through STARTTLS */
	TLS_MODE_IMPLICIT, /* TLS from the first byte */
};

enum bare_lf_policy {
	BARE_LF_REJECT, /* a message with a bare LF or CR gets 554 5.6.0 */
};

/* What the SMTP server does with a message that fails DMARC when the
   domain's policy (after pct= sampling) says reject (docs/config.md). */
enum dmarc_reject_action {
	DMARC_REJECT_REJECT,     /* 550 5.7.1 at the end of DATA */
	DMARC_REJECT_QUARANTINE, /* treat it as quarantine */
	DMARC_REJECT_NONE,       /* deliver normally (results only in the header) */
};

/* ... and when the policy says quarantine. */
enum dmarc_quarantine_action {
	DMARC_QUARANTINE_JUNK, /* deliver into each recipient's .Junk folder */
	DMARC_QUARANTINE_NONE, /* deliver normally */
};

struct listener_settings {
	enum service service;
	/* "127.0.0.1:10025", "[::1]:10025", "*:25" (all IPv4+IPv6). */
	char **addresses;
	size_t address_count;
	enum tls_mode tls;
};

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

	struct {
		unsigned min_password_length; /* default 12 */
		bool plaintext_on_loopback;   /* allow LOGIN/AUTH PLAIN without TLS from
		                                 127.0.0.0/8 and ::1; default no */
		unsigned cache_ttl;           /* seconds a verified login is cached;
		                                 0 disables; default 300 */
		unsigned argon2_ops;          /* Argon2id passes of new hashes; default 2 */
		uint64_t argon2_mem;          /* Argon2id memory of new hashes, bytes;
		                                 default 64 MiB */
	} auth;

	struct {
		uint64_t max_message_size; /* bytes; default 25 MiB (SIZE) */
		unsigned max_recipients;   /* per message; default 100 */
		enum bare_lf_policy bare_lf;
		char **trusted_networks; /* CIDRs allowed to relay; default none */
		size_t trusted_network_count;
		uint64_t max_header_size; /* header section of a message on port 25,
		                             held in memory; default 256 KiB */
	} smtp;

	struct {
		char *zone_file;   /* answer every lookup from this file; NULL: network */
		char **forwarders; /* resolvers' IPs ("192.0.2.53", "::1@5353"); none:
		                      recursive */
		size_t forwarder_count;
		unsigned timeout; /* seconds per query; default 5 */
	} dns;

	struct {
		bool spf;   /* check SPF on port 25; default yes */
		bool dkim;  /* verify DKIM signatures on port 25; default yes */
		bool dmarc; /* evaluate DMARC on port 25; default yes */
		enum dmarc_reject_action dmarc_reject;         /* default reject */
		enum dmarc_quarantine_action dmarc_quarantine; /* default junk */
		char *psl_file; /* Public Suffix List; default Debian's copy */
	} mailauth;

	struct {
		uint64_t max_literal_size; /* bytes; default 64 MiB */
	} imap;

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
};

/* The service's name as written in the config ("smtp", "imaps", ...). */
const char *service_name(enum service service);
/* -1 if name is not a known service. */
int service_parse(const char *name, enum service *service_r);
/* The standard port of a service (25, 587, 465, 143, 993). */
unsigned service_default_port(enum service service);
/* The TLS mode a listener of this service has unless configured. */
enum tls_mode service_default_tls(enum service service);

/* Load and validate the config file at path. On error returns -1 and sets
   *error_r to a malloc'ed "file:line: reason" message (the caller frees it);
   *settings_r is untouched. On success returns 0 and *settings_r is a new
   settings object. */
int settings_load(const char *path, struct tern_settings **settings_r, char **error_r);

/* Render the effective config (every key, defaults included) in the config
   syntax, such that loading the output gives the same settings. Returns a
   malloc'ed string. */
char *settings_dump(const struct tern_settings *settings);

/* Free settings and set *settings to NULL. NULL is fine. */
void settings_free(struct tern_settings **settings);

#endif
