#ifndef TERN_GUARD_GUARD_SETTINGS_H
#define TERN_GUARD_GUARD_SETTINGS_H

/* The guard { } section of tern.conf (docs/guard.md). */

#include <stdbool.h>
#include <stddef.h>

#include "lib/settings.h"

/* The most failures a ban may wait for (the record keeps that many times). */
#define GUARD_MAX_FAILURES_MAX 32

struct guard_settings {
	bool enabled;          /* default yes */
	unsigned max_failures; /* failed logins within window that ban; default 5 */
	unsigned window;       /* seconds; default 10m */
	unsigned ban_time;     /* seconds of a first ban; default 15m */
	/* A repeat offender's ban doubles with each ban up to this; default 1d.
	   Offences are forgotten when ban_time_max passes after the end of
	   the last ban. */
	unsigned ban_time_max;
	char **allow; /* CIDRs never banned; default 127.0.0.0/8, ::1/128 */
	size_t allow_count;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section guard_settings_section;

/* The guard section of settings (loaded with a schema that holds it). */
const struct guard_settings *guard_settings(const struct tern_settings *settings);

#endif
