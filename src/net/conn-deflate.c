#include "net/conn-deflate.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "lib/xalloc.h"

/* Output is produced into evbuffer space reserved this many bytes at a time. */
#define ZCHUNK (16 * 1024)

struct conn_deflate {
	z_stream in;
	bool in_pending; /* the last inflate stopped at its limit */
	size_t in_raw, in_z, out_raw, out_z;
};

struct conn_deflate *conn_deflate_new(void)
{
	struct conn_deflate *z = xcalloc(1, sizeof(*z));

	if (inflateInit2(&z->in, -MAX_WBITS) != Z_OK) {
		free(z);
		return NULL;
	}
	return z;
}

void conn_deflate_free(struct conn_deflate *z)
{
	if (z == NULL)
		return;
	inflateEnd(&z->in);
	free(z);
}

/* One inflate call over src's first chunk into at most room bytes of dst.
   Output goes through a stack buffer and is added as produced: reserving
   space in dst would leave an empty 16 KiB chain there when nothing comes
   out (a sync flush marker), held by an idle session. Returns bytes
   produced or -1; *stuck_r when no progress was possible. */
static ssize_t inflate_step(struct conn_deflate *z, struct evbuffer *src, struct evbuffer *dst,
                            size_t room, bool *stuck_r, const char **error_r)
{
	unsigned char out[ZCHUNK];
	struct evbuffer_iovec in;
	size_t used_in, made;
	int ret;

	if (evbuffer_peek(src, -1, NULL, &in, 1) < 1) {
		in.iov_len = 0;
		in.iov_base = NULL;
	}
	if (room > sizeof(out))
		room = sizeof(out);
	z->in.next_in = in.iov_base;
	z->in.avail_in = (uInt)in.iov_len;
	z->in.next_out = out;
	z->in.avail_out = (uInt)room;
	ret = inflate(&z->in, Z_SYNC_FLUSH);
	used_in = in.iov_len - z->in.avail_in;
	made = room - z->in.avail_out;
	if (made > 0 && evbuffer_add(dst, out, made) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	evbuffer_drain(src, used_in);
	z->in_raw += made;
	z->in_z += used_in;
	z->in_pending = z->in.avail_out == 0;
	if (ret == Z_STREAM_END) {
		/* The peer ended its stream (a final block): take what follows
		   as a new raw stream. */
		inflateReset(&z->in);
	} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
		*error_r = ret == Z_MEM_ERROR ? "out of memory" : "corrupt compressed stream";
		return -1;
	}
	*stuck_r = used_in == 0 && made == 0;
	return (ssize_t)made;
}

ssize_t conn_deflate_inflate(struct conn_deflate *z, struct evbuffer *src, struct evbuffer *dst,
                             size_t limit, const char **error_r)
{
	size_t total = 0;

	z->in_pending = false;
	while (total < limit) {
		size_t room = limit - total < ZCHUNK ? limit - total : ZCHUNK;
		bool stuck = false;
		ssize_t n = inflate_step(z, src, dst, room, &stuck, error_r);

		if (n < 0)
			return -1;
		total += (size_t)n;
		if (stuck || (evbuffer_get_length(src) == 0 && !z->in_pending))
			break;
	}
	if (total >= limit)
		z->in_pending = true;
	return (ssize_t)total;
}

bool conn_deflate_inflate_pending(const struct conn_deflate *z)
{
	return z->in_pending;
}

/* deflate() with flush until it has taken all input (and, for a sync
   flush, written all output). Returns 0 or -1. */
static int deflate_run(struct conn_deflate *z, z_stream *d, int flush, struct evbuffer *dst)
{
	for (;;) {
		struct evbuffer_iovec out;
		int ret;
		size_t made;

		if (evbuffer_reserve_space(dst, ZCHUNK, &out, 1) < 1)
			return -1;
		d->next_out = out.iov_base;
		d->avail_out = (uInt)out.iov_len;
		ret = deflate(d, flush);
		made = out.iov_len - d->avail_out;
		out.iov_len = made;
		evbuffer_commit_space(dst, &out, 1);
		z->out_z += made;
		if (ret != Z_OK && ret != Z_BUF_ERROR)
			return -1;
		if (d->avail_out != 0 && d->avail_in == 0)
			return 0;
	}
}

/* The compressor of this thread, shared by its conns: a batch is
   compressed in one call (conns belong to one loop thread), so one state
   reset per batch serves them all, and no conn holds a compressor. Never
   freed (reachable until exit). */
static _Thread_local z_stream shared_out;
static _Thread_local bool shared_out_ready;

static z_stream *compressor(void)
{
	if (shared_out_ready)
		return deflateReset(&shared_out) == Z_OK ? &shared_out : NULL;
	memset(&shared_out, 0, sizeof(shared_out));
	if (deflateInit2(&shared_out, CONN_DEFLATE_LEVEL, Z_DEFLATED, -CONN_DEFLATE_WBITS,
	                 CONN_DEFLATE_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	shared_out_ready = true;
	return &shared_out;
}

int conn_deflate_flush(struct conn_deflate *z, struct evbuffer *src, struct evbuffer *dst)
{
	z_stream *d = compressor();
	struct evbuffer_iovec v;
	int ret = 0;

	if (d == NULL)
		return -1;
	while (ret == 0 && evbuffer_peek(src, -1, NULL, &v, 1) >= 1 && v.iov_len > 0) {
		d->next_in = v.iov_base;
		d->avail_in = (uInt)v.iov_len;
		ret = deflate_run(z, d, Z_NO_FLUSH, dst);
		z->out_raw += v.iov_len;
		evbuffer_drain(src, v.iov_len);
	}
	d->next_in = NULL;
	d->avail_in = 0;
	if (ret == 0)
		ret = deflate_run(z, d, Z_SYNC_FLUSH, dst);
	return ret;
}

void conn_deflate_counts(const struct conn_deflate *z, size_t *in_raw_r, size_t *in_z_r,
                         size_t *out_raw_r, size_t *out_z_r)
{
	*in_raw_r = z->in_raw;
	*in_z_r = z->in_z;
	*out_raw_r = z->out_raw;
	*out_z_r = z->out_z;
}
