#ifndef TERN_MASTER_SANDBOX_H
#define TERN_MASTER_SANDBOX_H

/*
 * What a role process gives up once it has dropped root and opened what it
 * needs: PR_SET_NO_NEW_PRIVS (no setuid program can raise it again) and,
 * where the kernel has Landlock (ABI 2 or later), file system access limited
 * to the paths below. Nothing may be executed anywhere. See docs/security.md.
 *
 *   read-write: data_dir, mail_dir, the directory database's folder,
 *               /tmp and /var/tmp (SQLite's temporary files)
 *   read-only:  /etc, /usr, /lib, /lib64, /proc, /sys, the config file's
 *               folder, the dns zone file and the PSL file
 *   read-write files: /dev (null, urandom)
 */

#include "lib/settings.h"

/* Lowest Landlock ABI used: ABI 1 refuses every rename across folders, and
   Maildir delivery renames tmp/ -> new/. */
#define SANDBOX_MIN_LANDLOCK_ABI 2

/* The Landlock ABI the running kernel offers (0: none or disabled). */
int sandbox_landlock_abi(void);

/* Restrict the calling process (all its threads that start later, and the
   calling thread) as above. A missing path is skipped. Without Landlock (or
   with ABI 1) one line event=sandbox.landlock_missing is logged and only
   NO_NEW_PRIVS holds. Fatal (log_fatal) if NO_NEW_PRIVS cannot be set or a
   Landlock call fails on a kernel that has it. Call before starting
   threads: Landlock applies to the calling thread and its later children
   only. Returns the ABI in force (0 without Landlock). */
int sandbox_enter(const struct tern_settings *settings);

#endif
