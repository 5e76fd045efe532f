#ifndef TERN_LIB_ARRAY_H
#define TERN_LIB_ARRAY_H

/*
 * A typed growable array, instead of hand-written realloc with a count and
 * a capacity (docs/conventions.md):
 *
 *     ARRAY(struct dns_rr) rrs = ARRAY_INIT;
 *     array_append(&rrs, rr);              // a copy of rr at the end
 *     struct tag *t = array_push(&tags);   // a new zeroed item at the end
 *     for (size_t i = 0; i < rrs.count; i++) use(&rrs.items[i]);
 *     array_free(&rrs);
 *
 * items and count are read directly; cap belongs to the array. Declared
 * as an anonymous member (`struct x { ARRAY(T); int other; };`) it gives a
 * struct the three fields, and a struct x * works with the macros. The macros
 * evaluate their array argument more than once: pass a plain lvalue (&x,
 * &p->list), never an expression with side effects. Growth doubles the
 * capacity (at least 4 items). Size arithmetic is checked: a size that does
 * not fit in size_t is treated as out of memory (one log line, exit 1, as
 * xalloc.h), so an array never wraps around. The array owns its items'
 * storage, not what items point to: free that before array_free().
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The type of an array of T (an anonymous struct: declare a member or a
   variable with it, or typedef it when two places must share the type). */
#define ARRAY(T)                                                                                   \
	struct {                                                                                   \
		T *items;                                                                          \
		size_t count;                                                                      \
		size_t cap;                                                                        \
	}
#define ARRAY_INIT                                                                                 \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* The capacity needed to hold count + n items of item_size bytes, starting
   from cap. Returns 0 with *cap_r (>= count + n, equal to cap if that is
   enough), or -1 if count + n or the size in bytes would overflow size_t. */
int array_next_cap(size_t cap, size_t count, size_t n, size_t item_size, size_t *cap_r);

/* Grow items (cap items now) to hold count + n; returns the possibly moved
   storage and updates *cap. Exits on overflow or out of memory. For the
   macros below. */
void *array_grow_(void *items, size_t *cap, size_t count, size_t n, size_t item_size);

/* Make room for n more items without changing count. */
#define array_reserve(a, n)                                                                        \
	((void)((a)->items =                                                                       \
	            array_grow_((a)->items, &(a)->cap, (a)->count, (n), sizeof(*(a)->items))))

/* Append a copy of value. */
#define array_append(a, value) (array_reserve((a), 1), (void)((a)->items[(a)->count++] = (value)))

/* Append a zeroed item; returns a pointer to it, valid until the array
   next grows. */
#define array_push(a)                                                                              \
	(array_reserve((a), 1), memset(&(a)->items[(a)->count], 0, sizeof(*(a)->items)),           \
	 &(a)->items[(a)->count++])

/* The last item; the array must not be empty. */
#define array_last(a) (&(a)->items[(a)->count - 1])

/* Remove item i (< count), keeping the order of the others. */
#define array_remove(a, i)                                                                         \
	((void)memmove(&(a)->items[(i)], &(a)->items[(i) + 1],                                     \
	               ((a)->count - (i)-1) * sizeof(*(a)->items)),                                \
	 (void)(a)->count--)

/* Forget every item, keeping the storage. */
#define array_clear(a) ((void)((a)->count = 0))

/* Free the storage and reset the array to ARRAY_INIT. */
#define array_free(a)                                                                              \
	(free((a)->items), (void)((a)->items = NULL), (void)((a)->count = 0), (void)((a)->cap = 0))

/* Hand the storage over: returns items (NULL if nothing was ever added;
   the caller frees it) with *count_r the number of items, and resets the
   array to ARRAY_INIT. For filling a public `T *x; size_t count` pair. */
#define array_steal(a, count_r)                                                                    \
	({                                                                                         \
		__typeof__((a)->items) array_items_ = (a)->items;                                  \
		*(count_r) = (a)->count;                                                           \
		(a)->items = NULL;                                                                 \
		(a)->count = (a)->cap = 0;                                                         \
		array_items_;                                                                      \
	})

#endif
