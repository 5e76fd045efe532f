/* IMAP sequence sets: see imap-seqset.h. */
#include "imap/imap-seqset.h"

#include <stdlib.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

/* One seq-number: an nz-number or "*". Advances *s. */
static int parse_number(const char **s, uint32_t star, uint32_t *n_r)
{
	const char *p = *s;
	uint64_t n = 0;

	if (*p == '*') {
		*s = p + 1;
		*n_r = star;
		return 0;
	}
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*s = p;
	*n_r = (uint32_t)n;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct seq_range *ra = a, *rb = b;

	return ra->lo < rb->lo ? -1 : ra->lo > rb->lo;
}

/* Sort and merge overlapping or adjacent ranges. */
static void normalise(struct imap_seqset *set)
{
	size_t out = 0;

	if (set->count == 0)
		return;
	qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	for (size_t i = 1; i < set->count; i++) {
		struct seq_range *last = &set->ranges[out];

		if (last->hi == UINT32_MAX || set->ranges[i].lo <= last->hi + 1) {
			if (set->ranges[i].hi > last->hi)
				last->hi = set->ranges[i].hi;
		} else {
			set->ranges[++out] = set->ranges[i];
		}
	}
	set->count = out + 1;
}

int imap_seqset_parse(const char *s, uint32_t star, struct imap_seqset *set_r, const char **error_r)
{
	struct imap_seqset set = {NULL, 0};
	ARRAY(struct seq_range) ranges = ARRAY_INIT;

	for (;;) {
		uint32_t a, b;

		if (parse_number(&s, star, &a) < 0)
			break;
		b = a;
		if (*s == ':') {
			s++;
			if (parse_number(&s, star, &b) < 0)
				break;
		}
		if (ranges.count >= IMAP_SEQSET_MAX_RANGES)
			break;
		array_append(&ranges, ((struct seq_range){a < b ? a : b, a < b ? b : a}));
		if (*s == '\0') {
			set.ranges = array_steal(&ranges, &set.count);
			normalise(&set);
			*set_r = set;
			return 0;
		}
		if (*s++ != ',')
			break;
	}
	array_free(&ranges);
	*set_r = set;
	*error_r = "Invalid sequence set";
	return -1;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n < set->ranges[mid].lo)
			hi = mid;
		else if (n > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
	return set->count == 0 ? 0 : set->ranges[set->count - 1].hi;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = 0;
}

void imap_seqset_format(struct buf *out, const uint32_t *nums, size_t count)
{
	size_t i = 0;

	while (i < count) {
		size_t j = i;

		while (j + 1 < count && nums[j + 1] == nums[j] + 1)
			j++;
		buf_printf(out, "%s%u", i == 0 ? "" : ",", nums[i]);
		if (j > i)
			buf_printf(out, ":%u", nums[j]);
		i = j + 1;
	}
}

void imap_seqset_from_nums(const uint32_t *nums, size_t count, struct imap_seqset *set_r)
{
	set_r->ranges = xcalloc(count + 1, sizeof(*set_r->ranges));
	set_r->count = 0;
	for (size_t i = 0; i < count; i++) {
		if (nums[i] == 0)
			continue;
		set_r->ranges[set_r->count].lo = nums[i];
		set_r->ranges[set_r->count++].hi = nums[i];
	}
	normalise(set_r);
}
