#ifndef TERN_STORE_QUOTA_SETTINGS_H
#define TERN_STORE_QUOTA_SETTINGS_H

/* The quota { } section of tern.conf (docs/quota.md):
       quota { warning = 80%, 95% }
   the usage levels (of bytes or of messages, percent of the limit) at
   whose upward crossing a user gets one warning message in INBOX, as
   Dovecot's quota_warning. Empty: no warnings. */

#include <stddef.h>

#include "lib/settings.h"

struct quota_settings {
	char *warning; /* "80%, 95%" (the default), or NULL */
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section quota_settings_section;

/* The quota section of settings (loaded with a schema that holds it). */
const struct quota_settings *quota_settings(const struct tern_settings *settings);

#define QUOTA_WARNINGS_MAX 8

/* The levels, parsed. */
struct quota_warnings {
	unsigned percent[QUOTA_WARNINGS_MAX];
	size_t count;
};

/* Parse "80%, 95%" (comma or space separated, 1..100 each, at most
   QUOTA_WARNINGS_MAX; NULL or empty gives none) into *w. 0, or -1. */
int quota_warnings_parse(const char *text, struct quota_warnings *w);

/* The warnings of settings: its quota section's, or the default when the
   schema has no quota section or its value does not parse (logged). */
void quota_warnings_of(const struct tern_settings *settings, struct quota_warnings *w);

#endif
