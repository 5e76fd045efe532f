#ifndef TERN_LIB_BUF_H
#define TERN_LIB_BUF_H

/*
 * A growable byte buffer that carries its length. data is always
 * NUL-terminated (the NUL is not counted in len), so a buf holding text can
 * be passed where a C string is expected. A zeroed struct buf is empty and
 * valid; buf_free() returns it to that state.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Make room for at least extra more bytes (plus the NUL). */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);
/* Empty the buffer, keeping its memory. */
void buf_clear(struct buf *b);
/* Release the memory; the buf is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Hand the data over to the caller (who frees it); the buf is left empty.
   Never returns NULL. */
char *buf_steal(struct buf *b);
/* The contents as a C string ("" when empty). */
const char *buf_cstr(const struct buf *b);

#endif
