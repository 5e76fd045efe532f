/* The managesieve { } section and the sieve service: see
   managesieve-settings.h. */
#include "managesieve/managesieve-settings.h"

static const struct setting_def managesieve_keys[] = {
    SETTING(struct managesieve_settings, "max_scripts", SETTING_UINT, max_scripts, 1, 100000, "16"),
    SETTING(struct managesieve_settings, "max_script_size", SETTING_SIZE, max_script_size, 64,
            64 * SETTINGS_MIB, "256K"),
    SETTING(struct managesieve_settings, "idle_timeout", SETTING_DURATION, idle_timeout, 1, 86400,
            "30m"),
};

const struct settings_section managesieve_settings_section = {
    "managesieve",
    sizeof(struct managesieve_settings),
    managesieve_keys,
    sizeof(managesieve_keys) / sizeof(managesieve_keys[0]),
};

const struct managesieve_settings *managesieve_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &managesieve_settings_section);
}

struct msieve_quota managesieve_quota(const struct tern_settings *settings)
{
	const struct managesieve_settings *m = managesieve_settings(settings);

	return (struct msieve_quota){m->max_scripts, m->max_script_size};
}

const struct service_def managesieve_service_sieve = {"sieve", 4190, TLS_MODE_STARTTLS};
