/* The auth { } section: see auth-settings.h. */
#include "auth/auth-settings.h"

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct auth_settings, name, type, member, min, max, def)

/* The Argon2id defaults are libsodium's OPSLIMIT_ and MEMLIMIT_INTERACTIVE. */
static const struct setting_def auth_keys[] = {
    KEY("min_password_length", SETTING_UINT, min_password_length, 1, 1024, "12"),
    KEY("plaintext_on_loopback", SETTING_BOOL, plaintext_on_loopback, 0, 0, "no"),
    KEY("cache_ttl", SETTING_DURATION, cache_ttl, 0, 86400, "5m"),
    KEY("argon2_ops", SETTING_UINT, argon2_ops, 1, 100, "2"),
    KEY("argon2_mem", SETTING_SIZE, argon2_mem, 8 * SETTINGS_KIB, 4 * SETTINGS_GIB, "64M"),
};

const struct settings_section auth_settings_section = {
    "auth",
    sizeof(struct auth_settings),
    auth_keys,
    sizeof(auth_keys) / sizeof(auth_keys[0]),
};

const struct auth_settings *auth_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &auth_settings_section);
}
