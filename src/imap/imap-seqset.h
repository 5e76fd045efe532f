#ifndef TERN_IMAP_IMAP_SEQSET_H
#define TERN_IMAP_IMAP_SEQSET_H

/*
 * IMAP sequence sets (RFC 3501 section 9 sequence-set, RFC 9051): "1",
 * "2:4", "7:*", "5:3", "1,3:4,9". Ranges may be given in either order;
 * "*" stands for the largest number in use, given by the caller (the
 * message count for sequence numbers, the highest UID for UID sets).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set never holds more ranges than this (a line limit keeps it far
   lower in practice). */
#define IMAP_SEQSET_MAX_RANGES 100000

struct seq_range {
	uint32_t lo, hi; /* lo <= hi */
};

struct imap_seqset {
	struct seq_range *ranges; /* sorted, merged, non-overlapping */
	size_t count;
};

/* Parse s with "*" meaning star. On success returns 0 and fills *set_r
   (free it with imap_seqset_free()). Returns -1 with a static *error_r on
   bad syntax, a 0, or a number over 2^32-1; *set_r is then empty. */
int imap_seqset_parse(const char *s, uint32_t star, struct imap_seqset *set_r,
                      const char **error_r);

/* True if n is in the set. O(log ranges). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);

/* The largest number in the set, or 0 if it is empty. */
uint32_t imap_seqset_max(const struct imap_seqset *set);

struct buf;
/* Append nums[0..count) to out as a uid-set in the given order (RFC 4315
   COPYUID pairs the source and destination sets element by element), runs
   of consecutive ascending numbers written as "a:b". Nothing for count 0. */
void imap_seqset_format(struct buf *out, const uint32_t *nums, size_t count);

/* Make *set_r the set of nums[0..count) (any order, repeats allowed; 0s
   are skipped): SEARCHRES's "$" (RFC 5182). Free with imap_seqset_free(). */
void imap_seqset_from_nums(const uint32_t *nums, size_t count, struct imap_seqset *set_r);

/* Release the ranges; the set is empty afterwards. */
void imap_seqset_free(struct imap_seqset *set);

#endif
