#ifndef TERN_CLI_CLI_SETTINGS_H
#define TERN_CLI_CLI_SETTINGS_H

/* The schema of tern.conf: every section and service of the program, for
   settings_load() (docs/config.md, "Sections"). */

#include "lib/settings.h"

extern const struct settings_schema tern_settings_schema;

#endif
