#ifndef TERN_MANAGESIEVE_MANAGESIEVE_SETTINGS_H
#define TERN_MANAGESIEVE_MANAGESIEVE_SETTINGS_H

/* The managesieve { } section of tern.conf (docs/managesieve.md) and the
   sieve service (port 4190), which the imap role serves. */

#include <stdint.h>

#include "lib/settings.h"
#include "managesieve/managesieve-store.h"

struct managesieve_settings {
	unsigned max_scripts;     /* per user; default 16 */
	uint64_t max_script_size; /* bytes of one script; default 256K */
	unsigned idle_timeout;    /* seconds a logged-in session may be silent; 30m */
};

extern const struct settings_section managesieve_settings_section;

/* The section of settings (loaded with a schema that holds it). */
const struct managesieve_settings *managesieve_settings(const struct tern_settings *settings);

/* The quota of the settings. */
struct msieve_quota managesieve_quota(const struct tern_settings *settings);

/* 4190, STARTTLS (RFC 5804). */
extern const struct service_def managesieve_service_sieve;

#endif
