#ifndef TERN_LIB_SETTINGS_PRIVATE_H
#define TERN_LIB_SETTINGS_PRIVATE_H

/* Internals of settings.c shared with its unit test and fuzz target. */

#include "lib/settings.h"

/* settings_load() on a buffer already in memory: path names the file in
   messages and its directory anchors relative paths (a relative path is taken
   from the current directory); the file itself is not read. Returns 0 with
   *settings_r, or -1 with *error_r malloc'ed as for settings_load(). */
int settings_load_buffer(const struct settings_schema *schema, const char *path, const void *data,
                         size_t len, struct tern_settings **settings_r, char **error_r);

#endif
