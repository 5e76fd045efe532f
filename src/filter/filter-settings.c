/* The milter NAME { } blocks: see filter-settings.h. */
#include "filter/filter-settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct milter_settings, name, type, member, min, max, def)

static const char *const action_names[] = {"tempfail", "accept", "reject"};
static const struct setting_names actions = {action_names, 3, "tempfail, accept or reject",
                                             MILTER_DEFAULT_TEMPFAIL};

/* Postfix's milter_connect_timeout is 30s, milter_command_timeout 30s. */
static const struct setting_def milter_keys[] = {
    KEY("", SETTING_LABEL, name, 0, 0, NULL),
    KEY("address", SETTING_STRING, address, 0, 0, NULL),
    SETTING_ENUM_OF(struct milter_settings, "default_action", default_action, actions, "tempfail"),
    KEY("connect_timeout", SETTING_DURATION, connect_timeout, 1, 3600, "30s"),
    KEY("timeout", SETTING_DURATION, timeout, 1, 3600, "30s"),
    KEY("listeners", SETTING_STRING, listeners, 0, 0, "smtp"),
};

const struct settings_section milter_settings_section = {
    "milter",
    sizeof(struct milter_settings),
    milter_keys,
    sizeof(milter_keys) / sizeof(milter_keys[0]),
};

const struct settings_labelled *milter_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &milter_settings_section);
}

bool milter_settings_serves(const struct milter_settings *m, const char *service)
{
	const char *p = m->listeners != NULL ? m->listeners : "";
	size_t n = strlen(service);

	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == n && strncmp(p, service, n) == 0)
			return true;
		p += len;
	}
	return false;
}
