/* The imap { } section and the imap role's services: see imap-settings.h. */
#include "imap/imap-settings.h"

static const struct setting_def imap_keys[] = {
    SETTING(struct imap_settings, "max_literal_size", SETTING_SIZE, max_literal_size, SETTINGS_KIB,
            1024 * SETTINGS_GIB, "64M"),
    /* for tests only: see struct imap_settings */
    SETTING(struct imap_settings, "test_slice_gate", SETTING_OPT_PATH, test_slice_gate, 0, 0, NULL),
};

const struct settings_section imap_settings_section = {
    "imap",
    sizeof(struct imap_settings),
    imap_keys,
    sizeof(imap_keys) / sizeof(imap_keys[0]),
};

const struct imap_settings *imap_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &imap_settings_section);
}

const struct service_def imap_service_imap = {"imap", 143, TLS_MODE_STARTTLS};
const struct service_def imap_service_imaps = {"imaps", 993, TLS_MODE_IMPLICIT};
