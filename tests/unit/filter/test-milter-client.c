/* The milter client against a scripted peer: a child process on a Unix
   socket that answers each command as the test says and reports the
   commands it got. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "filter/milter-client.h"
#include "filter/milter-codec.h"

/* What the peer answers to each command byte; none: no answer. */
struct script {
	uint32_t protocol; /* the SMFIP_ flags it negotiates */
	struct buf reply[128];
};

struct peer {
	char dir[64], address[128];
	pid_t pid;
	int seen_fd; /* the commands the peer got, one byte each */
};

static int read_full(int fd, void *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)p + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void peer_serve(int fd, const struct script *sc, int seen)
{
	uint8_t head[5];
	char *data;

	/* bounded: the client closes after its stages */
	while (read_full(fd, head, 5) == 0) {
		uint32_t len = (uint32_t)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
		char cmd = (char)head[4];
		struct buf out = BUF_INIT;

		data = malloc(len);
		if (read_full(fd, data, len - 1) < 0)
			break;
		free(data);
		if (write(seen, &cmd, 1) != 1)
			break;
		if (cmd == SMFIC_OPTNEG) {
			milter_encode_optneg(&out, 6, MILTER_ACTIONS_ALL, sc->protocol);
			if (write(fd, out.data, out.len) < 0)
				break;
		} else if ((unsigned char)cmd < 128 && sc->reply[(unsigned char)cmd].len > 0) {
			const struct buf *r = &sc->reply[(unsigned char)cmd];
			if (write(fd, r->data, r->len) < 0)
				break;
		}
		buf_free(&out);
	}
}

static void peer_start(struct peer *p, const struct script *sc)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int lfd, pipes[2];

	strcpy(p->dir, "/tmp/tern-milter-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/s", p->dir);
	snprintf(p->address, sizeof(p->address), "unix:%s", un.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(pipe(pipes), 0);
	p->pid = fork();
	if (p->pid == 0) {
		int fd = accept(lfd, NULL, NULL);

		close(pipes[0]);
		if (fd >= 0)
			peer_serve(fd, sc, pipes[1]);
		_exit(0);
	}
	close(lfd);
	close(pipes[1]);
	p->seen_fd = pipes[0];
}

/* The commands the peer got, once it has ended. */
static void peer_stop(struct peer *p, char *seen, size_t size)
{
	ssize_t n;
	char path[128];

	waitpid(p->pid, NULL, 0);
	n = read(p->seen_fd, seen, size - 1);
	seen[n > 0 ? n : 0] = '\0';
	close(p->seen_fd);
	snprintf(path, sizeof(path), "%s/s", p->dir);
	unlink(path);
	rmdir(p->dir);
}

static void script_clear(struct script *sc)
{
	for (size_t i = 0; i < 128; i++)
		buf_free(&sc->reply[i]);
}

/* ---- running stages ---- */

struct run {
	struct event_base *base;
	bool done;
	struct milter_result res; /* the parts the tests look at, copied */
};

static void done_cb(void *ctx, const struct milter_result *res)
{
	struct run *r = ctx;

	r->done = true;
	r->res.verdict = res->verdict;
	r->res.code = res->code;
	r->res.text = res->text != NULL ? strdup(res->text) : NULL;
	r->res.quarantine = res->quarantine;
	r->res.mod_count = res->mod_count;
	r->res.mods = calloc(res->mod_count + 1, sizeof(*r->res.mods));
	for (size_t i = 0; i < res->mod_count; i++) {
		r->res.mods[i].cmd = res->mods[i].cmd;
		r->res.mods[i].index = res->mods[i].index;
		r->res.mods[i].name = strdup(res->mods[i].name);
		r->res.mods[i].value = res->mods[i].value ? strdup(res->mods[i].value) : NULL;
	}
	r->res.body_replaced = res->body_replaced;
	buf_append(&r->res.body, res->body.data, res->body.len);
	event_base_loopbreak(r->base);
}

static void run_stage(struct milter_session *ms, struct run *r, struct milter_stage *st)
{
	struct timeval limit = {.tv_sec = 10};

	milter_result_clear(&r->res);
	r->done = false;
	milter_session_run(ms, st, done_cb, r);
	event_base_loopexit(r->base, &limit);
	event_base_dispatch(r->base);
	assert_true(r->done);
}

static void add(struct milter_stage *st, struct buf *b)
{
	milter_stage_add(st, b, NULL, NULL, 0);
	buf_clear(b);
}

static void connect_helo_mail(struct milter_stage *st)
{
	struct buf b = BUF_INIT;
	const char *from = "<a@b.example>";
	const char *names[] = {"j"}, *values[] = {"mail.test"};

	milter_encode_connect(&b, "client", '4', 25, "192.0.2.1");
	milter_stage_add(st, &b, names, values, 1);
	buf_clear(&b);
	milter_encode_helo(&b, "client.example");
	add(st, &b);
	milter_encode_args(&b, SMFIC_MAIL, &from, 1);
	add(st, &b);
	buf_free(&b);
}

static void message(struct milter_stage *st)
{
	struct buf b = BUF_INIT;

	milter_encode_header(&b, "Subject", "hi");
	add(st, &b);
	milter_encode_simple(&b, SMFIC_EOH);
	add(st, &b);
	milter_encode_body(&b, "one\r\n", 5);
	add(st, &b);
	milter_encode_body(&b, "two\r\n", 5);
	add(st, &b);
	milter_encode_simple(&b, SMFIC_BODYEOB);
	add(st, &b);
	buf_free(&b);
}

static void reply(struct script *sc, char cmd, char r, const void *data, size_t len)
{
	milter_encode_packet(&sc->reply[(unsigned char)cmd], r, data, len);
}

static struct milter_def def_of(const char *address, enum milter_default_action action)
{
	return (struct milter_def){"test", address, action, 2, 1};
}

static void test_chain_continue_and_modifications(void **state)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def def;
	struct milter_session *ms;
	uint8_t chg[] = {0, 0, 0, 1, 'S', 'u', 'b', 'j', 'e', 'c', 't', 0, 0};
	char seen[64];

	(void)state;
	/* no HELO, no reply to headers: the client must not wait for one */
	sc.protocol = SMFIP_NOHELO | SMFIP_NR_HDR;
	reply(&sc, SMFIC_CONNECT, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_MAIL, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_EOH, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_BODY, SMFIR_SKIP, NULL, 0);
	reply(&sc, SMFIC_BODYEOB, SMFIR_ADDHEADER, "X-Spam\0yes\0", 11);
	milter_encode_packet(&sc.reply['E'], SMFIR_CHGHEADER, chg, sizeof(chg));
	milter_encode_packet(&sc.reply['E'], SMFIR_REPLBODY, "new\r\n", 5);
	milter_encode_packet(&sc.reply['E'], SMFIR_PROGRESS, NULL, 0);
	milter_encode_packet(&sc.reply['E'], SMFIR_ADDRCPT, "<x@y>\0", 6);
	milter_encode_packet(&sc.reply['E'], SMFIR_QUARANTINE, "spam\0", 5);
	milter_encode_packet(&sc.reply['E'], SMFIR_CONTINUE, NULL, 0);
	peer_start(&p, &sc);
	def = def_of(p.address, MILTER_DEFAULT_TEMPFAIL);
	ms = milter_session_new(r.base, &def, 1, "t1");
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_CONTINUE);
	message(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_CONTINUE);
	assert_true(r.res.quarantine);
	assert_true(r.res.body_replaced);
	assert_int_equal(r.res.body.len, 5);
	assert_int_equal(r.res.mod_count, 3);
	assert_int_equal(r.res.mods[0].cmd, SMFIR_ADDHEADER);
	assert_string_equal(r.res.mods[0].name, "X-Spam");
	assert_int_equal(r.res.mods[1].cmd, SMFIR_CHGHEADER);
	assert_string_equal(r.res.mods[1].value, "");
	assert_string_equal(r.res.mods[2].name, "<x@y>");
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	/* OPTNEG, macro, connect, mail, header, EOH, one body chunk (the
	   skip), end, quit: no HELO */
	assert_string_equal(seen, "ODCMLNBEQ");
	milter_result_clear(&r.res);
	script_clear(&sc);
	event_base_free(r.base);
}

static void test_reject_with_text(void **state)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def def;
	struct milter_session *ms;
	char seen[64];

	(void)state;
	reply(&sc, SMFIC_CONNECT, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_HELO, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_MAIL, SMFIR_REPLYCODE, "553 5.7.1 no such sender\0", 25);
	peer_start(&p, &sc);
	def = def_of(p.address, MILTER_DEFAULT_TEMPFAIL);
	ms = milter_session_new(r.base, &def, 1, "t2");
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_REJECT);
	assert_int_equal(r.res.code, 553);
	assert_string_equal(r.res.text, "5.7.1 no such sender");
	milter_session_abort(ms);
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	assert_string_equal(seen, "ODCHMAQ");
	milter_result_clear(&r.res);
	script_clear(&sc);
	event_base_free(r.base);
}

static void test_accept_leaves_milter_out(void **state)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def def;
	struct milter_session *ms;
	char seen[64];

	(void)state;
	reply(&sc, SMFIC_CONNECT, SMFIR_ACCEPT, NULL, 0);
	peer_start(&p, &sc);
	def = def_of(p.address, MILTER_DEFAULT_TEMPFAIL);
	ms = milter_session_new(r.base, &def, 1, "t3");
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_CONTINUE);
	assert_false(milter_session_active(ms));
	message(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_CONTINUE);
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	assert_string_equal(seen, "ODCQ");
	milter_result_clear(&r.res);
	script_clear(&sc);
	event_base_free(r.base);
}

/* The peer never answers the connect: timeout, then the default. */
static void timeout_gives(enum milter_default_action action, enum milter_verdict want,
                          unsigned code)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def def;
	struct milter_session *ms;
	char seen[64];

	peer_start(&p, &sc);
	def = def_of(p.address, action);
	ms = milter_session_new(r.base, &def, 1, "t4");
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, want);
	assert_int_equal(r.res.code, code);
	/* and for the rest of the session */
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, want);
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	assert_string_equal(seen, "ODC");
	milter_result_clear(&r.res);
	event_base_free(r.base);
}

static void test_timeout_default_actions(void **state)
{
	(void)state;
	timeout_gives(MILTER_DEFAULT_TEMPFAIL, MILTER_TEMPFAIL, 451);
	timeout_gives(MILTER_DEFAULT_REJECT, MILTER_REJECT, 550);
	timeout_gives(MILTER_DEFAULT_ACCEPT, MILTER_CONTINUE, 0);
}

/* Two milters: the first one down with accept, the second rejects. */
static void test_unreachable_then_next(void **state)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def defs[2];
	struct milter_session *ms;
	char seen[64];

	(void)state;
	reply(&sc, SMFIC_CONNECT, SMFIR_REJECT, NULL, 0);
	peer_start(&p, &sc);
	defs[0] = def_of("unix:/nonexistent/milter.sock", MILTER_DEFAULT_ACCEPT);
	defs[1] = def_of(p.address, MILTER_DEFAULT_TEMPFAIL);
	ms = milter_session_new(r.base, defs, 2, "t5");
	connect_helo_mail(&st);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_REJECT);
	assert_int_equal(r.res.code, 550);
	assert_string_equal(r.res.text, "5.7.1 Command rejected");
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	assert_string_equal(seen, "ODCQ");
	milter_result_clear(&r.res);
	script_clear(&sc);
	event_base_free(r.base);
}

/* A body of 150,000 bytes from a file: three SMFIC_BODY packets, each
   sent once the previous one is answered. */
static void test_body_file_in_chunks(void **state)
{
	struct script sc = {0};
	struct peer p;
	struct run r = {.base = event_base_new()};
	struct milter_stage st = {0};
	struct milter_def def;
	struct milter_session *ms;
	struct buf b = BUF_INIT;
	char seen[64], path[] = "/tmp/tern-milter-body-XXXXXX", *data = calloc(1, 150100);
	int fd = mkstemp(path);

	(void)state;
	unlink(path);
	assert_true(write(fd, data, 150100) == 150100);
	reply(&sc, SMFIC_CONNECT, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_HELO, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_MAIL, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_BODY, SMFIR_CONTINUE, NULL, 0);
	reply(&sc, SMFIC_BODYEOB, SMFIR_ACCEPT, NULL, 0);
	peer_start(&p, &sc);
	def = def_of(p.address, MILTER_DEFAULT_TEMPFAIL);
	ms = milter_session_new(r.base, &def, 1, "t6");
	connect_helo_mail(&st);
	milter_stage_add_body_file(&st, fd, 100, 150000);
	milter_encode_simple(&b, SMFIC_BODYEOB);
	add(&st, &b);
	run_stage(ms, &r, &st);
	assert_int_equal(r.res.verdict, MILTER_CONTINUE);
	milter_session_free(&ms);
	peer_stop(&p, seen, sizeof(seen));
	assert_string_equal(seen, "ODCHMBBBEQ");
	buf_free(&b);
	close(fd);
	free(data);
	milter_result_clear(&r.res);
	script_clear(&sc);
	event_base_free(r.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_continue_and_modifications),
	    cmocka_unit_test(test_reject_with_text),
	    cmocka_unit_test(test_accept_leaves_milter_out),
	    cmocka_unit_test(test_timeout_default_actions),
	    cmocka_unit_test(test_unreachable_then_next),
	    cmocka_unit_test(test_body_file_in_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
