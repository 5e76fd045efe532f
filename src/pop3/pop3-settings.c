/* The pop3 { } section and the POP3 services: see pop3-settings.h. */
#include "pop3/pop3-settings.h"

static const struct setting_def pop3_keys[] = {
    SETTING(struct pop3_settings, "idle_timeout", SETTING_DURATION, idle_timeout, 1, 86400, "10m"),
};

const struct settings_section pop3_settings_section = {
    "pop3",
    sizeof(struct pop3_settings),
    pop3_keys,
    sizeof(pop3_keys) / sizeof(pop3_keys[0]),
};

const struct pop3_settings *pop3_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &pop3_settings_section);
}

const struct service_def pop3_service_pop3 = {"pop3", 110, TLS_MODE_STARTTLS};
const struct service_def pop3_service_pop3s = {"pop3s", 995, TLS_MODE_IMPLICIT};
