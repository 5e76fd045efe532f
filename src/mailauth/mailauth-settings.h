#ifndef TERN_MAILAUTH_MAILAUTH_SETTINGS_H
#define TERN_MAILAUTH_MAILAUTH_SETTINGS_H

/* The mailauth { } section of tern.conf (docs/config.md). */

#include <stdbool.h>

#include "lib/settings.h"

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

struct mailauth_settings {
	bool spf;                              /* check SPF on port 25; default yes */
	bool dkim;                             /* verify DKIM signatures on port 25; default yes */
	bool dmarc;                            /* evaluate DMARC on port 25; default yes */
	enum dmarc_reject_action dmarc_reject; /* default reject */
	enum dmarc_quarantine_action dmarc_quarantine; /* default junk */
	char *psl_file; /* Public Suffix List; default Debian's copy */
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section mailauth_settings_section;

/* The mailauth section of settings (loaded with a schema that holds it). */
const struct mailauth_settings *mailauth_settings(const struct tern_settings *settings);

#endif
