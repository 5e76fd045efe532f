/* The sieve { } section: see sieve-settings.h. */
#include "sieve/sieve-settings.h"

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct sieve_settings, name, type, member, min, max, def)

static const struct setting_def sieve_keys[] = {
    SETTING_FILE(struct sieve_settings, "before", SETTING_OPT_PATH, before, NULL, SETTING_F_READ),
    SETTING_FILE(struct sieve_settings, "after", SETTING_OPT_PATH, after, NULL, SETTING_F_READ),
    KEY("enabled", SETTING_BOOL, enabled, 0, 0, "yes"),
    KEY("max_redirects", SETTING_UINT, max_redirects, 0, 64, "4"),
    KEY("max_script_size", SETTING_SIZE, max_script_size, 1024, 16 * 1024 * 1024, "1M"),
};

const struct settings_section sieve_settings_section = {
    "sieve",
    sizeof(struct sieve_settings),
    sieve_keys,
    sizeof(sieve_keys) / sizeof(sieve_keys[0]),
};

const struct sieve_settings *sieve_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &sieve_settings_section);
}
