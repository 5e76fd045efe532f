#ifndef TERN_POP3_POP3_SETTINGS_H
#define TERN_POP3_POP3_SETTINGS_H

/* The pop3 { } section of tern.conf (docs/config.md, docs/pop3.md) and
   the POP3 services, which the imap role serves (DESIGN.md). */

#include "lib/settings.h"

struct pop3_settings {
	/* Seconds a logged-in session may be silent; default 10 minutes
	   (RFC 1939 3: "at least 10 minutes"; shorter values are for tests). */
	unsigned idle_timeout;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section pop3_settings_section;

/* The pop3 section of settings (loaded with a schema that holds it). */
const struct pop3_settings *pop3_settings(const struct tern_settings *settings);

/* 110, STLS (RFC 2595). */
extern const struct service_def pop3_service_pop3;
/* 995, implicit TLS (RFC 8314). */
extern const struct service_def pop3_service_pop3s;

#endif
