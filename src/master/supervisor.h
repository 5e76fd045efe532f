#ifndef TERN_MASTER_SUPERVISOR_H
#define TERN_MASTER_SUPERVISOR_H

/*
 * The supervisor of `tern serve`: loads the config, binds the listeners,
 * loads the TLS context, forks the processes of each role (each with its
 * channel), fans notifications out between them, restarts crashed
 * roles, reloads on SIGHUP and stops everything on SIGTERM/SIGINT. Holds no
 * sessions. See docs/processes.md.
 */

#include <stddef.h>

#include "master/role.h"

/* Run the server in the foreground with the config at config_path (read
   with schema, which lists the roles' sections and services) and the
   given roles. Returns the process exit status: 0 after a clean stop
   (SIGTERM/SIGINT), 1 when the server cannot start (bad config, bind or
   TLS failure; the reason is logged). Only returns in the supervisor
   process. shared (made before this call, outliving it) is handed to every
   role process. */
int supervisor_run(const char *config_path, const struct settings_schema *schema,
                   const struct role_ops *const *roles, size_t role_count,
                   const struct role_shared *shared);

#endif
