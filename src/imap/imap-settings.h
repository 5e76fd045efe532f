#ifndef TERN_IMAP_IMAP_SETTINGS_H
#define TERN_IMAP_IMAP_SETTINGS_H

/* The imap { } section of tern.conf (docs/config.md) and the services the
   imap role serves. */

#include <stdint.h>

#include "lib/settings.h"

struct imap_settings {
	uint64_t max_literal_size; /* bytes; default 64 MiB */
	/* For tests only (imap-slice.h): while this file exists, a command
	   that works in slices waits before each later slice. NULL (unset,
	   the default): no gate. */
	char *test_slice_gate;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section imap_settings_section;

/* The imap section of settings (loaded with a schema that holds it). */
const struct imap_settings *imap_settings(const struct tern_settings *settings);

/* 143, STARTTLS. */
extern const struct service_def imap_service_imap;
/* 993, implicit TLS (RFC 8314). */
extern const struct service_def imap_service_imaps;

#endif
