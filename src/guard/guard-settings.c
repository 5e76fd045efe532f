/* The guard { } section: see guard-settings.h. */
#include "guard/guard-settings.h"

#include <stddef.h>

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct guard_settings, name, type, member, min, max, def)

/* The defaults are the seeds' fail2ban jail: maxretry 5, findtime 10m,
   bantime 15m. */
static const struct setting_def guard_keys[] = {
    KEY("enabled", SETTING_BOOL, enabled, 0, 0, "yes"),
    KEY("max_failures", SETTING_UINT, max_failures, 1, GUARD_MAX_FAILURES_MAX, "5"),
    KEY("window", SETTING_DURATION, window, 1, 7 * 86400, "10m"),
    KEY("ban_time", SETTING_DURATION, ban_time, 1, 365 * 86400, "15m"),
    KEY("ban_time_max", SETTING_DURATION, ban_time_max, 1, 365 * 86400, "1d"),
    /* as fail2ban's ignoreip: the host itself (a webmail on it) */
    {"allow", SETTING_CIDR_LIST, offsetof(struct guard_settings, allow), 0,
     offsetof(struct guard_settings, allow_count), 0, 0, "127.0.0.0/8, ::1/128", NULL, 0},
};

const struct settings_section guard_settings_section = {
    "guard",
    sizeof(struct guard_settings),
    guard_keys,
    sizeof(guard_keys) / sizeof(guard_keys[0]),
};

const struct guard_settings *guard_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &guard_settings_section);
}
