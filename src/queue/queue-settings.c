/* The queue { } section: see queue-settings.h. */
#include "queue/queue-settings.h"

#include <string.h>

#include "lib/xalloc.h"

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
    KEY("max_messages_per_connection", SETTING_UINT, max_messages_per_connection, 1, 100000, "50"),
    KEY("scan_interval", SETTING_DURATION, scan_interval, 1, 86400, "5m"),
    KEY("delay_warning", SETTING_DURATION, delay_warning, 0, 60 * 86400, "4h"),
    KEY("helo_name", SETTING_OPT_STRING, helo_name, 0, 0, NULL),
    KEY("tls", SETTING_BOOL, tls, 0, 0, "yes"),
    KEY("dane", SETTING_BOOL, dane, 0, 0, "yes"),
    KEY("mta_sts", SETTING_BOOL, mta_sts, 0, 0, "yes"),
    SETTING_FILE(struct queue_settings, "mta_sts_ca_file", SETTING_OPT_PATH, mta_sts_ca_file, NULL,
                 SETTING_F_READ),
    SETTING_FILE(struct queue_settings, "mta_sts_cache_dir", SETTING_OPT_PATH, mta_sts_cache_dir,
                 NULL, 0),
    SETTING_FILE(struct queue_settings, "mta_sts_fetch_ca_file", SETTING_OPT_PATH,
                 mta_sts_fetch_ca_file, NULL, SETTING_F_READ),
    KEY("mta_sts_fetch_port", SETTING_UINT, mta_sts_fetch_port, 0, 65535, "0"),
    KEY("mta_sts_fetch_resolve", SETTING_OPT_STRING, mta_sts_fetch_resolve, 0, 0, NULL),
    KEY("mta_sts_fetch_timeout", SETTING_DURATION, mta_sts_fetch_timeout, 1, 300, "20s"),
};

const struct settings_section queue_settings_section = {
    "queue",
    sizeof(struct queue_settings),
    queue_keys,
    sizeof(queue_keys) / sizeof(queue_keys[0]),
};

void queue_tls_policy_settings(const struct queue_settings *set, const char *data_dir,
                               struct tls_policy_settings *out, char **cache_dir_r)
{
	memset(out, 0, sizeof(*out));
	out->no_tls = !set->tls;
	out->dane = set->dane;
	out->mta_sts = set->mta_sts;
	out->mx_ca_file = set->mta_sts_ca_file;
	*cache_dir_r = set->mta_sts_cache_dir != NULL ? xstrdup(set->mta_sts_cache_dir)
	                                              : xasprintf("%s/queue/mta-sts", data_dir);
	out->sts.cache_dir = *cache_dir_r;
	out->sts.ca_file = set->mta_sts_fetch_ca_file;
	out->sts.port = set->mta_sts_fetch_port;
	out->sts.timeout_secs = set->mta_sts_fetch_timeout;
	if (set->mta_sts_fetch_resolve != NULL) {
		out->sts.resolve = (const char *const *)&set->mta_sts_fetch_resolve;
		out->sts.resolve_count = 1;
	}
}

const char *queue_helo_name(const struct queue_settings *set, const char *hostname)
{
	return set->helo_name != NULL ? set->helo_name : hostname;
}

const struct queue_settings *queue_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &queue_settings_section);
}
