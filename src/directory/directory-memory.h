#ifndef TERN_DIRECTORY_DIRECTORY_MEMORY_H
#define TERN_DIRECTORY_DIRECTORY_MEMORY_H

/*
 * A directory backend that keeps domains, users and aliases in memory, with
 * the same semantics as the SQLite one (ASCII case folded comparisons and
 * ordering, cascading domain deletion, aliases in the order they were
 * added). It exists so the unit tests run the rules of directory.h against
 * a second backend, proving the backend table is the whole seam. Contents
 * are lost at directory_close(); not for concurrent use.
 */

#include "directory/directory.h"

/* A new, empty in-memory directory in *dir_r (close with
   directory_close()). Always succeeds. */
void directory_open_memory(struct directory **dir_r);

#endif
