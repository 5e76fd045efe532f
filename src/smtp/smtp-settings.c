/* The smtp { } section and the smtp role's services: see smtp-settings.h. */
#include "smtp/smtp-settings.h"

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct smtp_settings, name, type, member, min, max, def)

static const char *const bare_lf_names[] = {[BARE_LF_REJECT] = "reject"};
static const struct setting_names bare_lf = {bare_lf_names, 1, "reject", 0};

static const struct setting_def smtp_keys[] = {
    KEY("max_message_size", SETTING_SIZE, max_message_size, SETTINGS_KIB, 1024 * SETTINGS_GIB,
        "25M"),
    KEY("max_recipients", SETTING_UINT, max_recipients, 1, 100000, "100"),
    SETTING_ENUM_OF(struct smtp_settings, "bare_lf", bare_lf, bare_lf, "reject"),
    SETTING_LIST(struct smtp_settings, "trusted_networks", SETTING_CIDR_LIST, trusted_networks,
                 trusted_network_count),
    KEY("postmaster", SETTING_OPT_STRING, postmaster, 0, 0, NULL),
    KEY("max_header_size", SETTING_SIZE, max_header_size, 8 * SETTINGS_KIB, 64 * SETTINGS_MIB,
        "256K"),
};

const struct settings_section smtp_settings_section = {
    "smtp",
    sizeof(struct smtp_settings),
    smtp_keys,
    sizeof(smtp_keys) / sizeof(smtp_keys[0]),
};

static const struct setting_def lmtp_keys[] = {
    {"trusted_networks", SETTING_CIDR_LIST, offsetof(struct lmtp_settings, trusted_networks), 0,
     offsetof(struct lmtp_settings, trusted_network_count), 0, 0, "127.0.0.0/8, ::1/128", NULL, 0},
};

const struct settings_section lmtp_settings_section = {
    "lmtp",
    sizeof(struct lmtp_settings),
    lmtp_keys,
    sizeof(lmtp_keys) / sizeof(lmtp_keys[0]),
};

const struct lmtp_settings *lmtp_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &lmtp_settings_section);
}

const struct smtp_settings *smtp_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &smtp_settings_section);
}

const struct service_def smtp_service_smtp = {"smtp", 25, TLS_MODE_STARTTLS};
const struct service_def smtp_service_submission = {"submission", 587, TLS_MODE_STARTTLS};
const struct service_def smtp_service_submissions = {"submissions", 465, TLS_MODE_IMPLICIT};
const struct service_def smtp_service_lmtp = {"lmtp", 24, TLS_MODE_NONE};
