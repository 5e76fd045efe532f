/* Placeholder until the config parser lands (settings.c replaces this file). */
#include "lib/settings.h"

#include "lib/xalloc.h"

int settings_load(const char *path, struct tern_settings **settings_r, char **error_r)
{
	*error_r = xasprintf("%s: config parser not built yet", path);
	return -1;
}
