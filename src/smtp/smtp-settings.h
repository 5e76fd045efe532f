#ifndef TERN_SMTP_SMTP_SETTINGS_H
#define TERN_SMTP_SMTP_SETTINGS_H

/* The smtp { } section of tern.conf (docs/config.md) and the services the
   smtp role serves. */

#include <stddef.h>
#include <stdint.h>

#include "lib/settings.h"

enum bare_lf_policy {
	BARE_LF_REJECT, /* a message with a bare LF or CR gets 554 5.6.0 */
};

struct smtp_settings {
	uint64_t max_message_size; /* bytes; default 25 MiB (SIZE) */
	unsigned max_recipients;   /* per message; default 100 */
	enum bare_lf_policy bare_lf;
	char **trusted_networks; /* CIDRs allowed to relay; default none */
	size_t trusted_network_count;
	/* where postmaster@<a local domain> goes when no alias, user or
	   catch-all has it (RFC 5321 4.5.1); NULL: the domain's first user */
	char *postmaster;
	uint64_t max_header_size; /* header section of a message on port 25,
	                             held in memory; default 256 KiB */
};

/* The lmtp { } section (docs/config.md). */
struct lmtp_settings {
	/* CIDRs whose clients may deliver by LMTP over TCP; the Unix socket is
	   always allowed. Default loopback only. */
	char **trusted_networks;
	size_t trusted_network_count;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section smtp_settings_section;
extern const struct settings_section lmtp_settings_section;

/* The smtp section of settings (loaded with a schema that holds it). */
const struct smtp_settings *smtp_settings(const struct tern_settings *settings);
/* The lmtp section of settings (loaded with a schema that holds it). */
const struct lmtp_settings *lmtp_settings(const struct tern_settings *settings);

/* Port 25: receive mail for local domains. */
extern const struct service_def smtp_service_smtp;
/* 587: users send, STARTTLS. */
extern const struct service_def smtp_service_submission;
/* 465: users send, implicit TLS (RFC 8314). */
extern const struct service_def smtp_service_submissions;
/* 24: a front MTA delivers into the mailstore by LMTP (RFC 2033); no TLS
   by default (loopback or the Unix socket). */
extern const struct service_def smtp_service_lmtp;

#endif
