/* The mailauth { } section: see mailauth-settings.h. */
#include "mailauth/mailauth-settings.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define KEY(name, type, member, def)                                                               \
	SETTING(struct mailauth_settings, name, type, member, 0, 0, def)

static const char *const reject_names[] = {
    [DMARC_REJECT_REJECT] = "reject",
    [DMARC_REJECT_QUARANTINE] = "quarantine",
    [DMARC_REJECT_NONE] = "none",
};
static const struct setting_names reject_actions = {reject_names, N_ELEMENTS(reject_names),
                                                    "reject, quarantine or none", 0};
static const char *const quarantine_names[] = {
    [DMARC_QUARANTINE_JUNK] = "junk",
    [DMARC_QUARANTINE_NONE] = "none",
};
static const struct setting_names quarantine_actions = {
    quarantine_names, N_ELEMENTS(quarantine_names), "junk or none", 0};

/* RFC 7489 6.3 and 6.6.4: honour the domain owner's policy by default. */
static const struct setting_def mailauth_keys[] = {
    KEY("spf", SETTING_BOOL, spf, "yes"),
    KEY("dkim", SETTING_BOOL, dkim, "yes"),
    KEY("dmarc", SETTING_BOOL, dmarc, "yes"),
    SETTING_ENUM_OF(struct mailauth_settings, "dmarc_reject", dmarc_reject, reject_actions,
                    "reject"),
    SETTING_ENUM_OF(struct mailauth_settings, "dmarc_quarantine", dmarc_quarantine,
                    quarantine_actions, "junk"),
    SETTING_FILE(struct mailauth_settings, "psl_file", SETTING_PATH, psl_file,
                 "/usr/share/publicsuffix/public_suffix_list.dat", SETTING_F_READ),
};

const struct settings_section mailauth_settings_section = {
    "mailauth",
    sizeof(struct mailauth_settings),
    mailauth_keys,
    N_ELEMENTS(mailauth_keys),
};

const struct mailauth_settings *mailauth_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &mailauth_settings_section);
}
