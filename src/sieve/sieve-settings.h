#ifndef TERN_SIEVE_SIEVE_SETTINGS_H
#define TERN_SIEVE_SIEVE_SETTINGS_H

/* The sieve { } section of tern.conf (docs/sieve.md, "Delivery"): the
   global scripts run around every user's active script at local delivery
   (Pigeonhole's sieve_before / sieve_after) and the per-delivery limits. */

#include <stdbool.h>

#include "lib/settings.h"

struct sieve_settings {
	/* A script run before the user's (NULL: none). */
	char *before;
	/* A script run after the user's (NULL: none). */
	char *after;
	/* no: local delivery never runs a script; default yes */
	bool enabled;
	/* redirects one delivery to one user may send; default 4 */
	unsigned max_redirects;
	/* bytes of a user's script; default 1M */
	unsigned max_script_size;
};

extern const struct settings_section sieve_settings_section;

/* The sieve section of settings (loaded with a schema that holds it). */
const struct sieve_settings *sieve_settings(const struct tern_settings *settings);

#endif
