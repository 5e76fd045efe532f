#ifndef TERN_LIB_FSUTIL_H
#define TERN_LIB_FSUTIL_H

/*
 * File system helpers for the durability rules: data fsynced, then the
 * directory entry fsynced. All return 0 on success or -1 with errno set.
 */

#include <stddef.h>
#include <sys/types.h>

/* Create path and its missing parents with mode (existing ones are fine). */
int mkdir_p(const char *path, mode_t mode);

/* fsync the directory at path, making entries created or renamed in it
   durable. */
int fsync_dir(const char *path);

/* fsync the directory that contains path (its dirname). */
int fsync_parent(const char *path);

/* Write len bytes to path atomically and durably: a temporary file beside
   it, fsync, rename over path, fsync the directory. mode applies to the new
   file (0600 for secrets). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Write all len bytes to fd, retrying short writes and EINTR. */
int write_full(int fd, const void *data, size_t len);

/* Read a whole file of at most max bytes into a malloc'ed NUL-terminated
   buffer (*data_r, length in *len_r). -1 with errno EFBIG when larger. */
int read_file(const char *path, size_t max, char **data_r, size_t *len_r);

#endif
