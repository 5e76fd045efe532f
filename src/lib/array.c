/* Growth of ARRAY(T) (array.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/array.h"
#include "lib/xalloc.h"

#define ARRAY_MIN_CAP 4

int array_next_cap(size_t cap, size_t count, size_t n, size_t item_size, size_t *cap_r)
{
	size_t need, next;

	if (item_size == 0 || n > SIZE_MAX - count)
		return -1;
	need = count + n;
	if (need <= cap) {
		*cap_r = cap;
		return 0;
	}
	/* double, but never past what size_t can count in bytes */
	next = cap < ARRAY_MIN_CAP ? ARRAY_MIN_CAP : cap;
	while (next < need && next <= SIZE_MAX / 2)
		next *= 2;
	if (next < need)
		next = need;
	if (next > SIZE_MAX / item_size) {
		if (need > SIZE_MAX / item_size)
			return -1;
		next = SIZE_MAX / item_size;
	}
	*cap_r = next;
	return 0;
}

void *array_grow_(void *items, size_t *cap, size_t count, size_t n, size_t item_size)
{
	size_t next;

	if (array_next_cap(*cap, count, n, item_size, &next) < 0) {
		fputs("level=fatal event=out_of_memory reason=\"array size overflow\"\n", stderr);
		exit(1);
	}
	if (next == *cap)
		return items;
	items = xreallocarray(items, next, item_size);
	*cap = next;
	return items;
}
