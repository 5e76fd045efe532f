#ifndef TERN_LIB_SIZE_H
#define TERN_LIB_SIZE_H

/*
 * The one parser and printer of sizes, for tern.conf and the CLI: bytes as
 * decimal digits, optionally followed by one unit letter K, M, G or T
 * (upper or lower case; powers of 1024): "1000", "512K", "25M", "2g". No
 * sign, space, fraction or "B" suffix.
 */

#include <stddef.h>
#include <stdint.h>

/* Parse s. Returns 0 with the size in bytes in *size_r, or -1 when s is
   not of that form or the value does not fit in 64 bits (*size_r
   untouched). */
int size_parse(const char *s, uint64_t *size_r);

/* Print size into buf (at least SIZE_STR_MAX bytes) with the largest unit
   that divides it exactly ("25M", "1536K", "1000", "0"); returns buf. */
#define SIZE_STR_MAX 24
char *size_format(uint64_t size, char *buf);

#endif
