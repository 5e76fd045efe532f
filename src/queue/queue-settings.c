/* The queue { } section: see queue-settings.h. */
#include "queue/queue-settings.h"

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct queue_settings, name, type, member, min, max, def)

static const struct setting_def queue_keys[] = {
    KEY("port", SETTING_UINT, port, 1, 65535, "25"),
    SETTING_FILE(struct queue_settings, "transport_file", SETTING_OPT_PATH, transport_file, NULL,
                 SETTING_F_READ),
    SETTING_FILE(struct queue_settings, "auth_file", SETTING_OPT_PATH, auth_file, NULL,
                 SETTING_F_READ),
    KEY("deliver", SETTING_BOOL, deliver, 0, 0, "yes"),
    KEY("prefer_ipv6", SETTING_BOOL, prefer_ipv6, 0, 0, "no"),
    KEY("retry_first", SETTING_DURATION, retry_first, 1, 86400, "5m"),
    KEY("retry_max", SETTING_DURATION, retry_max, 1, 7 * 86400, "4000s"),
    KEY("give_up", SETTING_DURATION, give_up, 1, 60 * 86400, "120h"),
    KEY("connect_timeout", SETTING_DURATION, connect_timeout, 1, 600, "30s"),
    KEY("greeting_timeout", SETTING_DURATION, greeting_timeout, 1, 3600, "5m"),
    KEY("command_timeout", SETTING_DURATION, command_timeout, 1, 3600, "5m"),
    KEY("data_timeout", SETTING_DURATION, data_timeout, 1, 3600, "10m"),
    KEY("max_connections", SETTING_UINT, max_connections, 1, 10000, "20"),
    KEY("max_per_destination", SETTING_UINT, max_per_destination, 1, 1000, "4"),
    KEY("scan_interval", SETTING_DURATION, scan_interval, 1, 86400, "5m"),
    KEY("delay_warning", SETTING_DURATION, delay_warning, 0, 60 * 86400, "4h"),
};

const struct settings_section queue_settings_section = {
    "queue",
    sizeof(struct queue_settings),
    queue_keys,
    sizeof(queue_keys) / sizeof(queue_keys[0]),
};

const struct queue_settings *queue_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &queue_settings_section);
}
