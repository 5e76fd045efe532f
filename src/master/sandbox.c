/* The role sandbox: see sandbox.h. */
#include "master/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

/* Rights newer than the installed kernel headers. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Every file system right the kernel's ABI knows, but execute. */
static uint64_t fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

/* Allow access beneath path (a folder or a file); a missing one is
   skipped. */
static void allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr attr = {0};
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	attr.parent_fd = fd;
	attr.allowed_access = access & handled;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0) {
		/* A file (not a folder) takes only file rights. */
		attr.allowed_access &= LANDLOCK_ACCESS_FS_READ_FILE |
		                       LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) <
		    0)
			log_fatal("event=sandbox.rule_failed path=%s error=\"%s\"", path,
			          strerror(errno));
	}
	close(fd);
}

static char *dir_of(const char *path)
{
	const char *slash;

	if (path == NULL || (slash = strrchr(path, '/')) == NULL)
		return NULL;
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

static void add_rules(int rs, const struct tern_settings *set, uint64_t handled)
{
	static const char *const ro[] = {"/etc", "/usr", "/lib", "/lib64", "/proc", "/sys"};
	uint64_t rw = handled & ~LANDLOCK_ACCESS_FS_EXECUTE;
	char *dir_db = dir_of(set->directory_path);
	char *dir_conf = dir_of(set->config_path);
	const char *path;

	allow(rs, set->data_dir, rw, handled);
	allow(rs, set->mail_dir, rw, handled);
	allow(rs, dir_db, rw, handled);
	allow(rs, "/tmp", rw, handled);
	allow(rs, "/var/tmp", rw, handled);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		allow(rs, ro[i], FS_READ, handled);
	allow(rs, dir_conf, FS_READ, handled);
	/* the files sections flag as read by the roles (zone file, PSL) */
	for (size_t pos = 0; (path = settings_next_read_path(set, &pos)) != NULL;)
		allow(rs, path, FS_READ, handled);
	allow(rs, "/dev", FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE, handled);
	free(dir_db);
	free(dir_conf);
}

int sandbox_enter(const struct tern_settings *set)
{
	struct landlock_ruleset_attr attr = {0};
	int abi, rs;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		log_fatal("event=sandbox.no_new_privs_failed error=\"%s\"", strerror(errno));
	abi = sandbox_landlock_abi();
	if (abi < SANDBOX_MIN_LANDLOCK_ABI) {
		log_warn(NULL, "event=sandbox.landlock_missing abi=%d need=%d", abi,
		         SANDBOX_MIN_LANDLOCK_ABI);
		return 0;
	}
	attr.handled_access_fs = fs_rights(abi);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		log_fatal("event=sandbox.landlock_failed error=\"%s\"", strerror(errno));
	add_rules(rs, set, attr.handled_access_fs);
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		log_fatal("event=sandbox.landlock_failed error=\"%s\"", strerror(errno));
	close(rs);
	log_debug(NULL, "event=sandbox.landlock abi=%d", abi);
	return abi;
}
