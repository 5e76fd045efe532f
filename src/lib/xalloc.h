#ifndef TERN_LIB_XALLOC_H
#define TERN_LIB_XALLOC_H

/*
 * Allocation that cannot fail: running out of memory is a broken
 * environment, so these log one line and exit(1) instead of returning NULL.
 */

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Array reallocation with overflow check on n * size. */
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A malloc'ed formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
