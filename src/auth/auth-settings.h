#ifndef TERN_AUTH_AUTH_SETTINGS_H
#define TERN_AUTH_AUTH_SETTINGS_H

/* The auth { } section of tern.conf (docs/config.md, docs/auth.md). */

#include <stdbool.h>
#include <stdint.h>

#include "lib/settings.h"

struct auth_settings {
	unsigned min_password_length; /* default 12 */
	bool plaintext_on_loopback;   /* allow LOGIN/AUTH PLAIN without TLS from
	                                 127.0.0.0/8 and ::1; default no */
	unsigned cache_ttl;           /* seconds a verified login is cached;
	                                 0 disables; default 300 */
	unsigned argon2_ops;          /* Argon2id passes of new hashes; default 2 */
	uint64_t argon2_mem;          /* Argon2id memory of new hashes, bytes;
	                                 default 64 MiB */
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section auth_settings_section;

/* The auth section of settings (loaded with a schema that holds it). */
const struct auth_settings *auth_settings(const struct tern_settings *settings);

#endif
