#ifndef TERN_SMTP_SMTP_SUBMISSION_SETTINGS_H
#define TERN_SMTP_SMTP_SUBMISSION_SETTINGS_H

/* The submission { } section of tern.conf (docs/submission.md): the
   policy of ports 587 and 465. Message size is smtp.max_message_size, as
   on port 25. */

#include <stdbool.h>

#include "lib/settings.h"

struct submission_settings {
	/* yes: the Received: field leaves out the client's IP address */
	bool hide_client_ip;
	/* recipients of one submitted message; default 100 */
	unsigned max_recipients;
	/* messages accepted per authenticated user and per client IP in a
	   sliding hour, counted by each smtp process (0: no limit); default
	   500 and 1000 */
	unsigned max_messages_per_user;
	unsigned max_messages_per_ip;
	/* DKIM-sign messages whose From: domain has a key; default yes */
	bool dkim_sign;
};

extern const struct settings_section submission_settings_section;

/* The submission section of settings (loaded with a schema that holds
   it). */
const struct submission_settings *submission_settings(const struct tern_settings *settings);

#endif
