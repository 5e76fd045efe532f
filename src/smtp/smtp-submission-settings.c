/* The submission { } section: see smtp-submission-settings.h. */
#include "smtp/smtp-submission-settings.h"

#define KEY(name, type, member, min, max, def)                                                     \
	SETTING(struct submission_settings, name, type, member, min, max, def)

static const struct setting_def submission_keys[] = {
    KEY("hide_client_ip", SETTING_BOOL, hide_client_ip, 0, 0, "no"),
    KEY("max_recipients", SETTING_UINT, max_recipients, 1, 100000, "100"),
    KEY("max_messages_per_user", SETTING_UINT, max_messages_per_user, 0, 10000000, "500"),
    KEY("max_messages_per_ip", SETTING_UINT, max_messages_per_ip, 0, 10000000, "1000"),
    KEY("dkim_sign", SETTING_BOOL, dkim_sign, 0, 0, "yes"),
};

const struct settings_section submission_settings_section = {
    "submission",
    sizeof(struct submission_settings),
    submission_keys,
    sizeof(submission_keys) / sizeof(submission_keys[0]),
};

const struct submission_settings *submission_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &submission_settings_section);
}
