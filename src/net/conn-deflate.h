#ifndef TERN_NET_CONN_DEFLATE_H
#define TERN_NET_CONN_DEFLATE_H

/*
 * Raw deflate (RFC 1951, no zlib header: RFC 4978 COMPRESS=DEFLATE) for a
 * conn, both directions. Internal to src/net: conn.c calls it; sessions use
 * conn_start_deflate() (conn.h).
 *
 * Input: the peer's stream is inflated (windowBits -15: a peer may use a
 * 32 KiB window) into the conn's input buffer only as far as the caller's
 * limit, so a small compressed message that expands hugely (a decompression
 * bomb) never grows memory beyond that limit; the rest stays compressed in
 * the transport's buffer (itself bounded) until the session consumes.
 *
 * Output: each batch of output is compressed and ended with Z_SYNC_FLUSH,
 * so the peer can decode all of it at once. Each batch starts from a reset
 * compressor (one per thread, shared by its conns: CONN_DEFLATE_WBITS,
 * CONN_DEFLATE_MEMLEVEL, about 38 KiB once): a raw deflate stream cut at a
 * sync flush may go on with blocks from a fresh compressor, since nothing
 * after the flush refers back to bytes before it. So no conn holds a
 * compressor; an idle session holds only its decompressor (7 KiB of state
 * plus the part of its 32 KiB window the peer's bytes have filled).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <event2/buffer.h>

/* The compressor's window (2^12 = 4 KiB of history: IMAP responses repeat
   within a few lines) and hash memory level (2^(5+9) = 16 KiB). */
#define CONN_DEFLATE_WBITS    12
#define CONN_DEFLATE_MEMLEVEL 5
#define CONN_DEFLATE_LEVEL    6

struct conn_deflate;

/* A new decompressor state; NULL if zlib cannot allocate it. */
struct conn_deflate *conn_deflate_new(void);
void conn_deflate_free(struct conn_deflate *z);

/* Inflate bytes from src (drained as they are taken) into dst, adding at
   most limit bytes to dst. Returns the number of bytes added (0: nothing
   now, src has no complete piece or limit is 0), or -1 when the stream is
   corrupt (*error_r: static text). */
ssize_t conn_deflate_inflate(struct conn_deflate *z, struct evbuffer *src, struct evbuffer *dst,
                             size_t limit, const char **error_r);

/* True when the last conn_deflate_inflate() stopped at its limit: the
   decompressor may hold more output even if src is empty. */
bool conn_deflate_inflate_pending(const struct conn_deflate *z);

/* Compress all of src (drained) onto the end of dst, ending with a sync
   flush. Returns 0, or -1 when zlib fails (out of memory). */
int conn_deflate_flush(struct conn_deflate *z, struct evbuffer *src, struct evbuffer *dst);

/* Bytes taken in and given out so far, per direction (for the log). */
void conn_deflate_counts(const struct conn_deflate *z, size_t *in_raw_r, size_t *in_z_r,
                         size_t *out_raw_r, size_t *out_z_r);

#endif
