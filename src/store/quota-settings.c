/* The quota { } section: see quota-settings.h. */
#include "store/quota-settings.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/quota.h"

#define QUOTA_WARNING_DEFAULT "80%, 95%"

static const struct setting_def quota_keys[] = {
    SETTING(struct quota_settings, "warning", SETTING_OPT_STRING, warning, 0, 0,
            QUOTA_WARNING_DEFAULT),
};

const struct settings_section quota_settings_section = {
    "quota",
    sizeof(struct quota_settings),
    quota_keys,
    sizeof(quota_keys) / sizeof(quota_keys[0]),
};

const struct quota_settings *quota_settings(const struct tern_settings *settings)
{
	return settings_section(settings, &quota_settings_section);
}

int quota_warnings_parse(const char *text, struct quota_warnings *w)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	if (text == NULL)
		return 0;
	copy = xstrdup(text);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && ret == 0;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (w->count == QUOTA_WARNINGS_MAX ||
		    quota_percent_parse(tok, &w->percent[w->count]) < 0)
			ret = -1;
		else
			w->count++;
	}
	free(copy);
	if (ret < 0)
		memset(w, 0, sizeof(*w));
	return ret;
}

/* Whether the schema settings was loaded with has the quota section (a
   test's smaller schema may not). */
static bool has_section(const struct tern_settings *settings)
{
	const struct settings_schema *schema = settings != NULL ? settings->schema : NULL;

	for (size_t i = 0; schema != NULL && i < schema->section_count; i++) {
		if (schema->sections[i] == &quota_settings_section)
			return true;
	}
	return false;
}

void quota_warnings_of(const struct tern_settings *settings, struct quota_warnings *w)
{
	const char *text =
	    has_section(settings) ? quota_settings(settings)->warning : QUOTA_WARNING_DEFAULT;

	if (quota_warnings_parse(text, w) < 0) {
		log_warn(NULL, "event=store.quota_warning_invalid value=\"%s\"", text);
		(void)quota_warnings_parse(QUOTA_WARNING_DEFAULT, w);
	}
}
