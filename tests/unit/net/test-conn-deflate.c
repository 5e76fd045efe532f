/* Unit tests for the conn's COMPRESS=DEFLATE layer (src/net/conn-deflate.c
   through conn_start_deflate): a round trip over a socketpair, each reply
   batch decodable on its own (sync flush) from a peer using a small window,
   pipelined compressed input, corrupt input, and a decompression bomb that
   never grows the input buffer beyond its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"

struct session {
	struct conn *conn;
	size_t max;
	struct buf seen;  /* "line|" per line, "toolong|" per overlong line */
	size_t max_input; /* the most bytes conn_input() ever held */
	char *close_reason;
};

static void on_read(struct conn *conn, void *ctx)
{
	struct session *s = ctx;
	struct buf line = BUF_INIT;
	size_t have = evbuffer_get_length(conn_input(conn));
	const char *error;
	int ret;

	if (have > s->max_input)
		s->max_input = have;
	while ((ret = conn_read_line(conn, s->max, &line)) != 0) {
		if (ret < 0) {
			buf_append_str(&s->seen, "toolong|");
			continue;
		}
		buf_printf(&s->seen, "%s|", buf_cstr(&line));
		if (strcmp(line.data, "COMPRESS") == 0) {
			conn_printf(conn, "OK go\r\n");
			assert_int_equal(conn_start_deflate(conn, &error), 0);
			assert_int_equal(conn_start_deflate(conn, &error), -1);
			assert_string_equal(error, "compression already active");
			assert_true(conn_is_compressed(conn));
		} else {
			conn_printf(conn, "got %s\r\n", line.data);
		}
	}
	buf_free(&line);
}

static void on_close(struct conn *conn, void *ctx, const char *reason)
{
	struct session *s = ctx;

	s->close_reason = xstrdup(reason);
}

static const struct conn_handler handler = {.on_read = on_read, .on_close = on_close};

struct fixture {
	struct event_base *base;
	struct session s;
	int peer;
	z_stream out, in; /* the peer's compressor and decompressor */
};

static const struct sockaddr_in loopback_peer = {
    .sin_family = AF_INET,
    .sin_addr = {0x0100007f},
};

static void fixture_init(struct fixture *f, size_t max, int peer_wbits)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	f->peer = sv[1];
	f->s.max = max;
	f->s.conn = conn_new(f->base, sv[0], (const struct sockaddr *)&loopback_peer,
	                     sizeof(loopback_peer), NULL, false, &handler, &f->s);
	assert_non_null(f->s.conn);
	assert_int_equal(deflateInit2(&f->out, 6, Z_DEFLATED, -peer_wbits, 8, Z_DEFAULT_STRATEGY),
	                 Z_OK);
	assert_int_equal(inflateInit2(&f->in, -15), Z_OK);
}

static void fixture_free(struct fixture *f)
{
	if (f->s.close_reason == NULL) {
		conn_close(f->s.conn);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	free(f->s.close_reason);
	buf_free(&f->s.seen);
	close(f->peer);
	deflateEnd(&f->out);
	inflateEnd(&f->in);
	event_base_free(f->base);
}

static void pump(struct fixture *f)
{
	struct timeval tv = {0, 20000};

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* Write all of data to the socket, running the loop while it is full. */
static void peer_write(struct fixture *f, const void *data, size_t len)
{
	const char *p = data;

	for (unsigned i = 0; len > 0 && i < 100000; i++) {
		ssize_t n = write(f->peer, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else {
			assert_true(errno == EAGAIN);
			pump(f);
		}
	}
	assert_int_equal(len, 0);
	pump(f);
}

/* Compress len bytes (sync-flushed) and send them. */
static void peer_send_z(struct fixture *f, const void *data, size_t len, int flush)
{
	unsigned char out[65536];

	f->out.next_in = (unsigned char *)data;
	f->out.avail_in = (uInt)len;
	do {
		f->out.next_out = out;
		f->out.avail_out = sizeof(out);
		assert_true(deflate(&f->out, flush) != Z_STREAM_ERROR);
		peer_write(f, out, sizeof(out) - f->out.avail_out);
	} while (f->out.avail_out == 0 || f->out.avail_in > 0);
}

/* Everything the server sent since the last call, raw. */
static size_t peer_read_raw(struct fixture *f, unsigned char *out, size_t max)
{
	size_t got = 0;
	ssize_t n;

	pump(f);
	while (got < max && (n = read(f->peer, out + got, max - got)) > 0)
		got += (size_t)n;
	return got;
}

/* Inflate raw server bytes into text (NUL-terminated). */
static void peer_inflate(struct fixture *f, const unsigned char *raw, size_t len, char *text,
                         size_t max)
{
	f->in.next_in = (unsigned char *)raw;
	f->in.avail_in = (uInt)len;
	f->in.next_out = (unsigned char *)text;
	f->in.avail_out = (uInt)(max - 1);
	assert_true(inflate(&f->in, Z_SYNC_FLUSH) != Z_DATA_ERROR);
	assert_int_equal(f->in.avail_in, 0);
	text[max - 1 - f->in.avail_out] = '\0';
}

/* COMPRESS, then the plain "OK go" reply. */
static void start(struct fixture *f, const char *pipelined)
{
	char reply[64];
	ssize_t n;

	peer_write(f, "COMPRESS\r\n", 10);
	if (pipelined != NULL)
		peer_send_z(f, pipelined, strlen(pipelined), Z_SYNC_FLUSH);
	n = read(f->peer, reply, 7);
	assert_int_equal(n, 7);
	assert_memory_equal(reply, "OK go\r\n", 7);
}

static void test_round_trip(void **state)
{
	struct fixture f;
	unsigned char raw[4096];
	char text[4096];
	size_t n;

	fixture_init(&f, 1000, 15);
	start(&f, NULL);
	peer_send_z(&f, "hello\r\nworld\r\n", 14, Z_SYNC_FLUSH);
	n = peer_read_raw(&f, raw, sizeof(raw));
	assert_true(n > 0);
	peer_inflate(&f, raw, n, text, sizeof(text));
	assert_string_equal(text, "got hello\r\ngot world\r\n");
	assert_string_equal(buf_cstr(&f.s.seen), "COMPRESS|hello|world|");
	assert_int_equal(conn_starttls(f.s.conn), -1);
	/* output queued by the session counts until it is compressed and sent */
	conn_printf(f.s.conn, "pending\r\n");
	assert_true(conn_output_pending(f.s.conn) >= 9);
	n = peer_read_raw(&f, raw, sizeof(raw));
	peer_inflate(&f, raw, n, text, sizeof(text));
	assert_string_equal(text, "pending\r\n");
	assert_int_equal(conn_output_pending(f.s.conn), 0);
	fixture_free(&f);
}

/* A peer with a 512-byte window, one line at a time: each reply batch is
   complete on the wire (ends with the sync flush marker) and decodes on
   its own, nothing is held back for later. */
static void test_small_window_flush(void **state)
{
	struct fixture f;
	unsigned char raw[4096];
	char text[4096], line[64], want[64];

	fixture_init(&f, 1000, 9);
	start(&f, "first\r\n");
	for (int i = 0; i < 20; i++) {
		size_t n = peer_read_raw(&f, raw, sizeof(raw));

		assert_true(n >= 4);
		assert_memory_equal(raw + n - 4, "\x00\x00\xff\xff", 4);
		peer_inflate(&f, raw, n, text, sizeof(text));
		if (i == 0)
			snprintf(want, sizeof(want), "got first\r\n");
		else
			snprintf(want, sizeof(want), "got line %d\r\n", i);
		assert_string_equal(text, want);
		snprintf(line, sizeof(line), "line %d\r\n", i + 1);
		peer_send_z(&f, line, strlen(line), Z_SYNC_FLUSH);
	}
	fixture_free(&f);
}

/* 64 MiB of one byte in ~64 KiB of deflate, one endless line: the input
   buffer never holds more than CONN_MAX_INPUT_BUFFER, the line is refused,
   and the line after it is read. */
static void test_bomb_limited(void **state)
{
	struct fixture f;
	char *chunk = xmalloc(1024 * 1024);

	memset(chunk, 'a', 1024 * 1024);
	fixture_init(&f, 8192, 15);
	start(&f, NULL);
	for (int i = 0; i < 64; i++)
		peer_send_z(&f, chunk, 1024 * 1024, Z_NO_FLUSH);
	peer_send_z(&f, "\r\nafter\r\n", 9, Z_SYNC_FLUSH);
	for (int i = 0; i < 500 && strstr(buf_cstr(&f.s.seen), "after|") == NULL; i++)
		pump(&f);
	assert_string_equal(buf_cstr(&f.s.seen), "COMPRESS|toolong|after|");
	assert_true(f.s.max_input <= CONN_MAX_INPUT_BUFFER);
	assert_true(f.s.max_input > 0);
	assert_null(f.s.close_reason);
	free(chunk);
	fixture_free(&f);
}

static void test_corrupt_closes(void **state)
{
	struct fixture f;

	fixture_init(&f, 1000, 15);
	start(&f, NULL);
	peer_write(&f, "\xff\xff\xff\xff not deflate", 16);
	for (int i = 0; i < 50 && f.s.close_reason == NULL; i++)
		pump(&f);
	assert_non_null(f.s.close_reason);
	assert_string_equal(f.s.close_reason, "corrupt compressed input");
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_small_window_flush),
	    cmocka_unit_test(test_bomb_limited),
	    cmocka_unit_test(test_corrupt_closes),
	};

	log_init("test", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
