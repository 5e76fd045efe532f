/* Unit tests for src/master/supervisor-channel.c: the supervisor's fan-out
   of notifications, with socketpairs standing in for role processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master/supervisor-private.h"

static void on_mailbox_changed(struct role_ctx *ctx, const char *user)
{
	(void)ctx;
	(void)user;
}

static void on_message_queued(struct role_ctx *ctx, const char *id)
{
	(void)ctx;
	(void)id;
}

static const struct role_ops imap_ops = {.name = "imap", .mailbox_changed = on_mailbox_changed};
static const struct role_ops smtp_ops = {.name = "smtp"};
static const struct role_ops queue_ops = {.name = "queue", .message_queued = on_message_queued};

enum { P_IMAP0, P_IMAP1, P_IMAP_OLD, P_IMAP_RESTARTING, P_SMTP, P_QUEUE, P_N };

struct fixture {
	struct role_proc procs[P_N];
	int peer[P_N]; /* the role process's end; -1 when none */
};

/* p as the supervisor holds it, its channel a socketpair whose other end
   (the "role process") is returned; running false: no process, no
   channel (waiting for a restart). */
static int proc_init(struct role_proc *p, const struct role_ops *ops, unsigned index, bool old,
                     bool running)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->index = index;
	p->old = old;
	p->chan = -1;
	if (!running)
		return -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	p->chan = sv[0];
	p->pid = 1000 + (pid_t)index; /* never signalled here */
	channel_decoder_init(&p->dec);
	return sv[1];
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	f->peer[P_IMAP0] = proc_init(&f->procs[P_IMAP0], &imap_ops, 0, false, true);
	f->peer[P_IMAP1] = proc_init(&f->procs[P_IMAP1], &imap_ops, 1, false, true);
	f->peer[P_IMAP_OLD] = proc_init(&f->procs[P_IMAP_OLD], &imap_ops, 0, true, true);
	f->peer[P_IMAP_RESTARTING] =
	    proc_init(&f->procs[P_IMAP_RESTARTING], &imap_ops, 2, false, false);
	f->peer[P_SMTP] = proc_init(&f->procs[P_SMTP], &smtp_ops, 0, false, true);
	f->peer[P_QUEUE] = proc_init(&f->procs[P_QUEUE], &queue_ops, 0, false, true);
	return f;
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < P_N; i++) {
		proc_channel_close(&f->procs[i]);
		if (f->peer[i] >= 0)
			close(f->peer[i]);
	}
	test_free(f);
}

/* Read what the role process at fd has been sent into dec; returns the
   number of whole messages taken, each of type want_type with name
   want_name (asserted). */
static size_t received_into(int fd, struct channel_decoder *dec, enum channel_type want_type,
                            const char *want_name)
{
	struct channel_msg msg;
	unsigned char tmp[4096];
	const char *error = NULL;
	size_t count = 0;
	ssize_t n;
	int ret;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		channel_decoder_feed(dec, tmp, (size_t)n);
	assert_true(n < 0 && errno == EAGAIN);
	while ((ret = channel_decoder_next(dec, &msg, &error)) > 0) {
		assert_int_equal(msg.type, want_type);
		assert_non_null(msg.name);
		assert_string_equal(msg.name, want_name);
		count++;
	}
	assert_int_equal(ret, 0);
	return count;
}

/* The same with a decoder of its own, which must end with no partial
   message (what was written was whole). */
static size_t received(int fd, enum channel_type want_type, const char *want_name)
{
	struct channel_decoder dec;
	size_t count;

	channel_decoder_init(&dec);
	count = received_into(fd, &dec, want_type, want_name);
	assert_int_equal(dec.in.len - dec.pos, 0);
	channel_decoder_free(&dec);
	return count;
}

static struct channel_msg notification(enum channel_type type, const char *name)
{
	return (struct channel_msg){type, (const unsigned char *)name, strlen(name), name};
}

/* "mailbox changed" from one imap process reaches it, its sibling and the
   old draining one, once each; not smtp (the usual sender, no handler) nor
   the queue role; a process waiting for its restart is skipped. */
static void test_mailbox_changed(void **state)
{
	struct fixture *f = fixture_new();
	struct channel_msg msg = notification(CHANNEL_MAILBOX_CHANGED, "bob@example.org");

	(void)state;
	procs_fan_out(f->procs, P_N, &msg);
	assert_int_equal(received(f->peer[P_IMAP0], msg.type, msg.name), 1);
	assert_int_equal(received(f->peer[P_IMAP1], msg.type, msg.name), 1);
	assert_int_equal(received(f->peer[P_IMAP_OLD], msg.type, msg.name), 1);
	assert_int_equal(received(f->peer[P_SMTP], msg.type, msg.name), 0);
	assert_int_equal(received(f->peer[P_QUEUE], msg.type, msg.name), 0);
	assert_int_equal(f->procs[P_IMAP_RESTARTING].chan, -1);
	assert_int_equal(f->procs[P_IMAP_RESTARTING].out.len, 0);
	/* two more, in order, nothing queued once written */
	procs_fan_out(f->procs, P_N, &msg);
	procs_fan_out(f->procs, P_N, &msg);
	for (size_t i = P_IMAP0; i <= P_IMAP_OLD; i++) {
		assert_int_equal(received(f->peer[i], msg.type, msg.name), 2);
		assert_int_equal(f->procs[i].out.len, 0);
	}
	fixture_free(f);
}

/* "message queued" goes to the queue role only. */
static void test_message_queued(void **state)
{
	struct fixture *f = fixture_new();
	struct channel_msg msg = notification(CHANNEL_MESSAGE_QUEUED, "q1.abc-2");

	(void)state;
	procs_fan_out(f->procs, P_N, &msg);
	assert_int_equal(received(f->peer[P_QUEUE], msg.type, msg.name), 1);
	for (size_t i = P_IMAP0; i <= P_IMAP_OLD; i++)
		assert_int_equal(received(f->peer[i], msg.type, msg.name), 0);
	assert_int_equal(received(f->peer[P_SMTP], msg.type, msg.name), 0);
	fixture_free(f);
}

/* Types that are not notifications are never fanned out. */
static void test_not_notifications(void **state)
{
	struct fixture *f = fixture_new();
	struct channel_msg reload = {CHANNEL_RELOAD, NULL, 0, NULL};
	struct channel_msg metrics = {CHANNEL_METRICS, (const unsigned char *)"a=1", 3, NULL};

	(void)state;
	assert_true(role_takes(&imap_ops, CHANNEL_MAILBOX_CHANGED));
	assert_false(role_takes(&imap_ops, CHANNEL_MESSAGE_QUEUED));
	assert_false(role_takes(&smtp_ops, CHANNEL_MAILBOX_CHANGED));
	assert_true(role_takes(&queue_ops, CHANNEL_MESSAGE_QUEUED));
	for (size_t i = 0; i < P_N; i++) {
		assert_false(role_takes(f->procs[i].ops, CHANNEL_RELOAD));
		assert_false(role_takes(f->procs[i].ops, CHANNEL_METRICS));
	}
	procs_fan_out(f->procs, P_N, &reload);
	procs_fan_out(f->procs, P_N, &metrics);
	for (size_t i = 0; i < P_N; i++) {
		unsigned char c;

		assert_int_equal(f->procs[i].out.len, 0);
		if (f->peer[i] >= 0)
			assert_int_equal(read(f->peer[i], &c, 1), -1);
	}
	fixture_free(f);
}

/* A process that does not read fills its queue and then loses messages;
   one whose channel broke is closed. Neither stops its siblings from
   getting theirs. */
static void test_stuck_and_broken(void **state)
{
	struct fixture *f = fixture_new();
	struct channel_msg msg = notification(CHANNEL_MAILBOX_CHANGED, "carol@example.org");
	size_t sent = 0;

	(void)state;
	close(f->peer[P_IMAP_OLD]); /* the old process went away */
	f->peer[P_IMAP_OLD] = -1;
	/* imap1 never reads: the socket fills, then its queue */
	while (f->procs[P_IMAP1].out.len + CHANNEL_HEADER_SIZE + msg.len <= CHANNEL_MAX_OUTPUT) {
		procs_fan_out(f->procs, P_N, &msg);
		sent++;
		assert_int_equal(received(f->peer[P_IMAP0], msg.type, msg.name), 1);
	}
	assert_true(f->procs[P_IMAP1].out.len > 0);
	assert_int_equal(f->procs[P_IMAP_OLD].chan, -1);
	assert_int_equal(proc_send(&f->procs[P_IMAP1], msg.type, msg.payload, msg.len), -1);
	assert_int_equal(proc_send(&f->procs[P_IMAP_OLD], msg.type, msg.payload, msg.len), -1);
	procs_fan_out(f->procs, P_N, &msg);
	assert_int_equal(received(f->peer[P_IMAP0], msg.type, msg.name), 1);
	/* imap1 reads at last: everything queued before the drop arrives */
	{
		struct channel_decoder dec;
		size_t got = 0;

		channel_decoder_init(&dec);
		for (int round = 0; round < 10000 && f->procs[P_IMAP1].out.len > 0; round++) {
			got += received_into(f->peer[P_IMAP1], &dec, msg.type, msg.name);
			proc_flush(&f->procs[P_IMAP1]);
		}
		got += received_into(f->peer[P_IMAP1], &dec, msg.type, msg.name);
		assert_int_equal(dec.in.len - dec.pos, 0);
		channel_decoder_free(&dec);
		assert_int_equal(f->procs[P_IMAP1].out.len, 0);
		assert_int_equal(got, sent);
	}
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mailbox_changed),
	    cmocka_unit_test(test_message_queued),
	    cmocka_unit_test(test_not_notifications),
	    cmocka_unit_test(test_stuck_and_broken),
	};

	signal(SIGPIPE, SIG_IGN); /* a write to a closed peer fails with EPIPE */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
