/* Unit tests for src/master/channel.c (the codec) and channel-event.c (its
   libevent glue). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <unistd.h>

#include "master/channel.h"

static void encode_ok(struct buf *b, enum channel_type type, const char *payload)
{
	const char *error = NULL;

	assert_int_equal(
	    channel_encode(b, type, payload, payload == NULL ? 0 : strlen(payload), &error), 0);
	assert_null(error);
}

/* A decoder that was never fed (or fed nothing) needs more; under UBSan
   this also proves it does no pointer arithmetic on an empty buffer. */
static void test_nothing_fed(void **state)
{
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error = NULL;

	(void)state;
	channel_decoder_init(&d);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), 0);
	channel_decoder_feed(&d, "", 0);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), 0);
	assert_null(error);
	channel_decoder_free(&d);
}

/* Three messages, fed one byte at a time: each comes out exactly when its
   last byte is in, never before. */
static void test_byte_at_a_time(void **state)
{
	struct buf b = BUF_INIT;
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error;
	size_t ends[3], got = 0;

	encode_ok(&b, CHANNEL_MAILBOX_CHANGED, "alice@example.org");
	ends[0] = b.len;
	encode_ok(&b, CHANNEL_RELOAD, NULL);
	ends[1] = b.len;
	encode_ok(&b, CHANNEL_MESSAGE_QUEUED, "Q1.a-b_c");
	ends[2] = b.len;
	assert_int_equal(ends[0], CHANNEL_HEADER_SIZE + 17);
	assert_int_equal(ends[1], ends[0] + CHANNEL_HEADER_SIZE);
	channel_decoder_init(&d);
	for (size_t i = 0; i < b.len; i++) {
		int ret;

		channel_decoder_feed(&d, b.data + i, 1);
		ret = channel_decoder_next(&d, &msg, &error);
		if (i + 1 != ends[got]) {
			assert_int_equal(ret, 0);
			continue;
		}
		assert_int_equal(ret, 1);
		switch (got++) {
		case 0:
			assert_int_equal(msg.type, CHANNEL_MAILBOX_CHANGED);
			assert_string_equal(msg.name, "alice@example.org");
			assert_int_equal(msg.len, 17);
			break;
		case 1:
			assert_int_equal(msg.type, CHANNEL_RELOAD);
			assert_int_equal(msg.len, 0);
			assert_null(msg.name);
			break;
		case 2:
			assert_int_equal(msg.type, CHANNEL_MESSAGE_QUEUED);
			assert_string_equal(msg.name, "Q1.a-b_c");
			break;
		}
		assert_int_equal(channel_decoder_next(&d, &msg, &error), 0);
		if (got == 3)
			break;
	}
	assert_int_equal(got, 3);
	channel_decoder_free(&d);
	buf_free(&b);
}

/* Many messages in one chunk all come out, in order. */
static void test_one_chunk_many_messages(void **state)
{
	struct buf b = BUF_INIT;
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error;
	char user[32];
	int n = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d@example.org", i);
		encode_ok(&b, CHANNEL_MAILBOX_CHANGED, user);
	}
	channel_decoder_init(&d);
	channel_decoder_feed(&d, b.data, b.len);
	while (channel_decoder_next(&d, &msg, &error) == 1) {
		snprintf(user, sizeof(user), "u%d@example.org", n++);
		assert_string_equal(msg.name, user);
	}
	assert_int_equal(n, 100);
	/* What was handed out is dropped at the next feed. */
	channel_decoder_feed(&d, b.data, CHANNEL_HEADER_SIZE);
	assert_int_equal(d.in.len, CHANNEL_HEADER_SIZE);
	channel_decoder_free(&d);
	buf_free(&b);
}

static void expect_error(const unsigned char *bytes, size_t len, const char *why)
{
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error = NULL;

	channel_decoder_init(&d);
	channel_decoder_feed(&d, bytes, len);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), -1);
	assert_string_equal(error, why);
	/* Sticky: more bytes do not revive it. */
	channel_decoder_feed(&d, bytes, len);
	error = NULL;
	assert_int_equal(channel_decoder_next(&d, &msg, &error), -1);
	assert_string_equal(error, why);
	channel_decoder_free(&d);
}

/* A header is judged as soon as it is in, before its payload. */
static void test_malformed_headers(void **state)
{
	/* one byte over the limit: 0x00010001 */
	static const unsigned char too_long[] = {0, 1, 0, 1, 0, 1, 0, 0};
	static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0};
	static const unsigned char flags[] = {0, 0, 0, 0, 0, 3, 0, 1};
	static const unsigned char type0[] = {0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char type99[] = {0, 0, 0, 0, 0, 99, 0, 0};
	static const unsigned char type_hi[] = {0, 0, 0, 0, 1, 3, 0, 0};

	expect_error(too_long, sizeof(too_long), "payload too long");
	expect_error(huge, sizeof(huge), "payload too long");
	expect_error(flags, sizeof(flags), "non-zero flags");
	expect_error(type0, sizeof(type0), "unknown message type");
	expect_error(type99, sizeof(type99), "unknown message type");
	expect_error(type_hi, sizeof(type_hi), "unknown message type");
}

/* Payloads that do not fit their type. */
static void test_malformed_payloads(void **state)
{
	static const unsigned char reload_with_payload[] = {0, 0, 0, 1, 0, 3, 0, 0, 'x'};
	static const unsigned char empty_user[] = {0, 0, 0, 0, 0, 1, 0, 0};
	static const unsigned char user_with_nul[] = {0, 0, 0, 3, 0, 1, 0, 0, 'a', 0, 'b'};
	static const unsigned char user_with_space[] = {0, 0, 0, 3, 0, 1, 0, 0, 'a', ' ', 'b'};
	static const unsigned char bad_queue_id[] = {0, 0, 0, 2, 0, 2, 0, 0, 'a', '/'};
	static const unsigned char metrics_ctl[] = {0, 0, 0, 2, 0, 4, 0, 0, 'a', 1};
	unsigned char long_user[CHANNEL_HEADER_SIZE + CHANNEL_MAX_NAME + 1];

	expect_error(reload_with_payload, sizeof(reload_with_payload), "reload takes no payload");
	expect_error(empty_user, sizeof(empty_user), "bad user in mailbox-changed");
	expect_error(user_with_nul, sizeof(user_with_nul), "bad user in mailbox-changed");
	expect_error(user_with_space, sizeof(user_with_space), "bad user in mailbox-changed");
	expect_error(bad_queue_id, sizeof(bad_queue_id), "bad queue id in message-queued");
	expect_error(metrics_ctl, sizeof(metrics_ctl), "bad bytes in metrics");
	memset(long_user, 'a', sizeof(long_user));
	memcpy(long_user, (unsigned char[]){0, 0, 0x01, 0x41, 0, 1, 0, 0}, 8); /* 321 */
	expect_error(long_user, sizeof(long_user), "bad user in mailbox-changed");
}

/* The limits: the largest payload passes both ways, one more byte fails
   at the encoder too; a name of exactly CHANNEL_MAX_NAME passes. */
static void test_limits(void **state)
{
	struct buf b = BUF_INIT;
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error = NULL;
	char *big = malloc(CHANNEL_MAX_PAYLOAD + 1);
	char name[CHANNEL_MAX_NAME + 2];

	memset(big, 'm', CHANNEL_MAX_PAYLOAD + 1);
	assert_int_equal(channel_encode(&b, CHANNEL_METRICS, big, CHANNEL_MAX_PAYLOAD, &error), 0);
	assert_int_equal(channel_encode(&b, CHANNEL_METRICS, big, CHANNEL_MAX_PAYLOAD + 1, &error),
	                 -1);
	assert_string_equal(error, "payload too long");
	assert_int_equal(b.len, CHANNEL_HEADER_SIZE + CHANNEL_MAX_PAYLOAD);
	memset(name, 'n', sizeof(name));
	name[CHANNEL_MAX_NAME] = '\0';
	encode_ok(&b, CHANNEL_MAILBOX_CHANGED, name);
	name[CHANNEL_MAX_NAME] = 'n';
	name[CHANNEL_MAX_NAME + 1] = '\0';
	assert_int_equal(channel_encode(&b, CHANNEL_MAILBOX_CHANGED, name, strlen(name), &error),
	                 -1);
	assert_int_equal(channel_encode(&b, (enum channel_type)7, NULL, 0, &error), -1);
	assert_string_equal(error, "unknown message type");
	channel_decoder_init(&d);
	channel_decoder_feed(&d, b.data, b.len);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), 1);
	assert_int_equal(msg.type, CHANNEL_METRICS);
	assert_int_equal(msg.len, CHANNEL_MAX_PAYLOAD);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), 1);
	assert_int_equal(strlen(msg.name), CHANNEL_MAX_NAME);
	assert_int_equal(channel_decoder_next(&d, &msg, &error), 0);
	channel_decoder_free(&d);
	buf_free(&b);
	free(big);
}

/* ---- the libevent glue over a real socketpair ---- */

struct glue_state {
	struct event_base *base;
	struct channel *ch;
	int msgs;
	char last[CHANNEL_MAX_NAME + 1];
	const char *closed;
};

static void glue_msg(const struct channel_msg *msg, void *ctx)
{
	struct glue_state *g = ctx;
	const char *error;

	g->msgs++;
	snprintf(g->last, sizeof(g->last), "%s", msg->name != NULL ? msg->name : "");
	/* Answer from inside the callback. */
	if (msg->type == CHANNEL_MAILBOX_CHANGED)
		assert_int_equal(channel_send(g->ch, CHANNEL_MESSAGE_QUEUED, "ack", 3, &error), 0);
}

static void glue_close(const char *reason, void *ctx)
{
	struct glue_state *g = ctx;

	g->closed = reason;
	event_base_loopbreak(g->base);
}

static void test_event_glue(void **state)
{
	struct glue_state g = {0};
	struct buf b = BUF_INIT;
	struct channel_decoder d;
	struct channel_msg msg;
	const char *error;
	char c;
	int sv[2], ret = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g.base = event_base_new();
	g.ch = channel_new(g.base, sv[0], glue_msg, glue_close, &g);
	encode_ok(&b, CHANNEL_MAILBOX_CHANGED, "bob@example.org");
	encode_ok(&b, CHANNEL_RELOAD, NULL);
	/* Split in the middle of the first header. */
	assert_int_equal(write(sv[1], b.data, 3), 3);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	assert_int_equal(g.msgs, 0);
	assert_int_equal(write(sv[1], b.data + 3, b.len - 3), (ssize_t)(b.len - 3));
	while (g.msgs < 2)
		event_base_loop(g.base, EVLOOP_ONCE);
	assert_string_equal(g.last, "");
	/* The answer, written by the loop, arrives on the other end. */
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	channel_decoder_init(&d);
	while (ret == 0 && read(sv[1], &c, 1) == 1) {
		channel_decoder_feed(&d, &c, 1);
		ret = channel_decoder_next(&d, &msg, &error);
	}
	assert_int_equal(ret, 1);
	assert_int_equal(msg.type, CHANNEL_MESSAGE_QUEUED);
	assert_string_equal(msg.name, "ack");
	channel_decoder_free(&d);
	/* An invalid message is refused at the sender. */
	assert_int_equal(channel_send(g.ch, CHANNEL_MAILBOX_CHANGED, "a b", 3, &error), -1);
	/* Garbage closes it, with the reason. */
	assert_int_equal(write(sv[1], "\0\0\0\0\0\0\0\0", 8), 8);
	event_base_dispatch(g.base);
	assert_string_equal(g.closed, "unknown message type");
	assert_int_equal(channel_send(g.ch, CHANNEL_RELOAD, NULL, 0, &error), -1);
	assert_string_equal(error, "channel closed");
	channel_free(&g.ch);
	assert_null(g.ch);
	channel_free(&g.ch);
	close(sv[1]);
	event_base_free(g.base);
	buf_free(&b);
}

/* The peer closing is reported once, as "peer closed". */
static void test_event_glue_eof(void **state)
{
	struct glue_state g = {0};
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g.base = event_base_new();
	g.ch = channel_new(g.base, sv[0], glue_msg, glue_close, &g);
	close(sv[1]);
	event_base_dispatch(g.base);
	assert_string_equal(g.closed, "peer closed");
	channel_free(&g.ch);
	event_base_free(g.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_fed),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_one_chunk_many_messages),
	    cmocka_unit_test(test_malformed_headers),
	    cmocka_unit_test(test_malformed_payloads),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_event_glue),
	    cmocka_unit_test(test_event_glue_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
