/* The dns { } section: see dns-settings.h. */
#include "dns/dns-settings.h"

static const struct setting_def dns_keys[] = {
    SETTING_FILE(struct dns_settings, "zone_file", SETTING_OPT_PATH, zone_file, NULL,
                 SETTING_F_READ),
    SETTING_LIST(struct dns_settings, "forwarders", SETTING_IP_LIST, forwarders, forwarder_count),
    SETTING_FILE(struct dns_settings, "trust_anchor_file", SETTING_OPT_PATH, trust_anchor_file,
                 NULL, SETTING_F_READ),
    SETTING(struct dns_settings, "timeout", SETTING_DURATION, timeout, 1, 300, "5s"),
};

const struct settings_section dns_settings_section = {
    "dns",
    sizeof(struct dns_settings),
    dns_keys,
    sizeof(dns_keys) / sizeof(dns_keys[0]),
};

const struct dns_settings *dns_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &dns_settings_section);
}
