#ifndef TERN_FILTER_FILTER_SETTINGS_H
#define TERN_FILTER_FILTER_SETTINGS_H

/* The `milter NAME { }` blocks of tern.conf, one per milter, in the order
   the messages go through them (docs/filter.md). */

#include <stddef.h>

#include "lib/settings.h"

/* What a milter that cannot be reached, times out or breaks the protocol
   stands for (Postfix's milter_default_action). */
enum milter_default_action {
	MILTER_DEFAULT_TEMPFAIL, /* 451 4.7.1, the default */
	MILTER_DEFAULT_ACCEPT,   /* go on without it for the session */
	MILTER_DEFAULT_REJECT,   /* 550 5.7.1 */
};

struct milter_settings {
	char *name; /* the block's label */
	/* "127.0.0.1:11332", "[::1]:11332", "localhost:11332" or
	   "unix:/path" (required) */
	char *address;
	enum milter_default_action default_action;
	unsigned connect_timeout; /* seconds; default 30s */
	unsigned timeout;         /* seconds for each reply; default 30s */
	/* The services whose sessions go through it ("smtp submission";
	   default "smtp"), space or comma separated. */
	char *listeners;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section milter_settings_section;

/* The milters of settings: a struct settings_labelled whose items are
   struct milter_settings, labels their names. */
const struct settings_labelled *milter_settings(const struct tern_settings *settings);

/* Whether the listeners list of m names the service called service. */
bool milter_settings_serves(const struct milter_settings *m, const char *service);

#endif
