/* A chain of milters for one SMTP session (milter-client.h). */

#include "filter/milter-client.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "filter/milter-codec.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct milter_step {
	char cmd;
	struct buf bytes; /* the macro packet, then the command's */
	/* a body read from a file, sent in chunks as they are answered: fd
	   (-1: none) from off to end */
	int fd;
	uint64_t off, end;
};

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_NEGOTIATING, CONN_READY, CONN_DEAD };

struct milter_conn {
	const struct milter_def *def;
	struct milter_session *ms;
	struct bufferevent *bev;
	enum conn_state state;
	uint32_t actions, protocol; /* as negotiated */
	bool accepted_session, accepted_message, in_message, waiting;
	struct milter_decoder dec;
};

struct milter_session {
	struct event_base *base;
	char *sid;
	struct milter_conn *conns;
	size_t count;
	struct event *timer; /* the wait for a connection or a reply */
	struct event *kick;  /* starts a stage from the loop */
	struct milter_stage stage;
	size_t cur, step;  /* the milter and the step being run */
	uint64_t body_pos; /* in a file step: the next byte to send */
	bool body_started;
	bool running;
	milter_done_cb *done;
	void *ctx;
	struct milter_result res;
};

static void advance(struct milter_session *ms);

/* ---- stages ---- */

void milter_stage_add(struct milter_stage *st, const struct buf *packet, const char *const *names,
                      const char *const *values, size_t count)
{
	struct milter_step *s;

	st->steps = xreallocarray(st->steps, st->count + 1, sizeof(*st->steps));
	s = &st->steps[st->count++];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->cmd = packet->len >= 5 ? packet->data[4] : '?';
	if (count > 0)
		milter_encode_macro(&s->bytes, s->cmd, names, values, count);
	buf_append(&s->bytes, packet->data, packet->len);
}

void milter_stage_add_body_file(struct milter_stage *st, int fd, uint64_t offset, uint64_t len)
{
	struct milter_step *s;

	st->steps = xreallocarray(st->steps, st->count + 1, sizeof(*st->steps));
	s = &st->steps[st->count++];
	memset(s, 0, sizeof(*s));
	s->cmd = SMFIC_BODY;
	s->fd = fd;
	s->off = offset;
	s->end = offset + len;
}

void milter_stage_clear(struct milter_stage *st)
{
	for (size_t i = 0; i < st->count; i++)
		buf_free(&st->steps[i].bytes);
	free(st->steps);
	st->steps = NULL;
	st->count = 0;
}

void milter_result_clear(struct milter_result *res)
{
	free(res->text);
	free(res->quarantine_reason);
	for (size_t i = 0; i < res->mod_count; i++) {
		free(res->mods[i].name);
		free(res->mods[i].value);
	}
	free(res->mods);
	buf_free(&res->body);
	memset(res, 0, sizeof(*res));
}

/* ---- which steps a milter gets ---- */

/* The SMFIP_NO* bit that leaves out cmd, and the SMFIP_NR_* one that
   leaves its reply out. */
static void step_flags(char cmd, uint32_t *no_r, uint32_t *nr_r)
{
	static const struct {
		char cmd;
		uint32_t no, nr;
	} table[] = {
	    {SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN},
	    {SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO},
	    {SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL},
	    {SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT},
	    {SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA},
	    {SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR},
	    {SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH},
	    {SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY},
	};

	*no_r = *nr_r = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].cmd == cmd) {
			*no_r = table[i].no;
			*nr_r = table[i].nr;
		}
	}
}

static bool is_message_cmd(char cmd)
{
	return strchr("MRTLNBE", cmd) != NULL;
}

/* ---- ending a stage ---- */

static void finish(struct milter_session *ms, enum milter_verdict verdict, unsigned code,
                   const char *text)
{
	milter_done_cb *done = ms->done;
	bool eom = false;

	evtimer_del(ms->timer);
	ms->res.verdict = verdict;
	if (verdict == MILTER_REJECT || verdict == MILTER_TEMPFAIL) {
		ms->res.code = code;
		if (ms->res.text == NULL)
			ms->res.text = xstrdup(text);
	}
	for (size_t i = 0; i < ms->stage.count; i++)
		eom |= ms->stage.steps[i].cmd == SMFIC_BODYEOB;
	/* the message is over for every milter after its end */
	for (size_t i = 0; eom && i < ms->count; i++)
		ms->conns[i].accepted_message = ms->conns[i].in_message = false;
	milter_stage_clear(&ms->stage);
	ms->running = false;
	ms->done = NULL;
	done(ms->ctx, &ms->res);
	milter_result_clear(&ms->res);
}

static void finish_default(struct milter_session *ms, const struct milter_conn *c)
{
	ms->res.milter = c->def->name;
	if (c->def->default_action == MILTER_DEFAULT_REJECT)
		finish(ms, MILTER_REJECT, 550, "5.7.1 Command rejected");
	else
		finish(ms, MILTER_TEMPFAIL, 451, "4.7.1 Service unavailable - try again later");
}

static void close_conn(struct milter_conn *c)
{
	/* the peer sees the end now: libevent closes the socket from its
	   loop (finalizers) */
	if (c->bev != NULL && bufferevent_getfd(c->bev) >= 0)
		shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	milter_decoder_clear(&c->dec);
	c->waiting = false;
}

/* c is gone or broke the protocol: its default action, for the session. */
static void fail(struct milter_conn *c, const char *reason)
{
	struct milter_session *ms = c->ms;
	static const char *const names[] = {"tempfail", "accept", "reject"};

	log_warn(ms->sid, "event=milter.failed milter=%s address=%s reason=\"%s\" action=%s",
	         c->def->name, c->def->address, reason, names[c->def->default_action]);
	close_conn(c);
	c->state = CONN_DEAD;
	if (ms->running)
		advance(ms);
}

/* ---- the wait ---- */

static void arm(struct milter_session *ms, unsigned seconds)
{
	struct timeval tv = {.tv_sec = seconds};

	evtimer_add(ms->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct milter_session *ms = arg;

	(void)fd;
	(void)what;
	if (ms->running && ms->cur < ms->count)
		fail(&ms->conns[ms->cur], "timeout");
}

/* ---- replies ---- */

static void add_mod(struct milter_session *ms, const struct milter_reply *r)
{
	struct milter_mod *m;

	ms->res.mods = xreallocarray(ms->res.mods, ms->res.mod_count + 1, sizeof(*ms->res.mods));
	m = &ms->res.mods[ms->res.mod_count++];
	m->cmd = r->cmd;
	m->index = r->index;
	m->name = xstrdup(r->name);
	m->value = r->value != NULL ? xstrdup(r->value) : NULL;
}

/* The next step for the milter that answered the current one. */
/* The next step, or the next chunk of a file step. */
static void next_step(struct milter_session *ms)
{
	const struct milter_step *s = &ms->stage.steps[ms->step];

	if (s->fd < 0 || ms->body_pos >= s->end) {
		ms->step++;
		ms->body_started = false;
	}
	advance(ms);
}

static void on_accept(struct milter_session *ms, struct milter_conn *c)
{
	char cmd = ms->stage.steps[ms->step].cmd;

	if (cmd == SMFIC_CONNECT || cmd == SMFIC_HELO)
		c->accepted_session = true;
	else
		c->accepted_message = true;
	ms->cur++;
	ms->step = 0;
	ms->body_started = false;
	advance(ms);
}

static void on_replycode(struct milter_session *ms, const struct milter_reply *r)
{
	free(ms->res.text);
	ms->res.text = xstrdup(r->text);
	finish(ms, r->code >= 500 ? MILTER_REJECT : MILTER_TEMPFAIL, r->code, NULL);
}

/* A reply at the end of the message that asks for something and is
   followed by more: 0, or -1 if the milter did not negotiate it. */
static int on_action(struct milter_session *ms, struct milter_conn *c, const struct milter_reply *r)
{
	uint32_t need;

	switch (r->cmd) {
	case SMFIR_ADDHEADER:
		need = SMFIF_ADDHDRS;
		break;
	case SMFIR_INSHEADER:
		need = SMFIF_ADDHDRS;
		break;
	case SMFIR_CHGHEADER:
		need = SMFIF_CHGHDRS;
		break;
	case SMFIR_ADDRCPT:
		need = SMFIF_ADDRCPT;
		break;
	case SMFIR_ADDRCPT_PAR:
		need = SMFIF_ADDRCPT_PAR;
		break;
	case SMFIR_DELRCPT:
		need = SMFIF_DELRCPT;
		break;
	case SMFIR_CHGFROM:
		need = SMFIF_CHGFROM;
		break;
	case SMFIR_REPLBODY:
		need = SMFIF_CHGBODY;
		break;
	case SMFIR_QUARANTINE:
		need = SMFIF_QUARANTINE;
		break;
	default:
		return -1;
	}
	if ((c->actions & need) == 0 || ms->stage.steps[ms->step].cmd != SMFIC_BODYEOB)
		return -1;
	if (r->cmd == SMFIR_REPLBODY) {
		if (!ms->res.body_replaced)
			buf_clear(&ms->res.body);
		ms->res.body_replaced = true;
		buf_append(&ms->res.body, r->data, r->len);
	} else if (r->cmd == SMFIR_QUARANTINE) {
		ms->res.quarantine = true;
		free(ms->res.quarantine_reason);
		ms->res.quarantine_reason = xstrdup(r->name);
	} else {
		add_mod(ms, r);
	}
	return 0;
}

/* Skip the rest of the body (SMFIR_SKIP, negotiated with SMFIP_SKIP). */
static void on_skip(struct milter_session *ms)
{
	while (ms->step + 1 < ms->stage.count && ms->stage.steps[ms->step + 1].cmd == SMFIC_BODY)
		ms->step++;
	ms->step++;
	ms->body_started = false;
	advance(ms);
}

static void on_reply(struct milter_conn *c, const struct milter_reply *r)
{
	struct milter_session *ms = c->ms;

	if (c->state == CONN_NEGOTIATING) {
		if (r->cmd != SMFIC_OPTNEG)
			return fail(c, "no SMFIC_OPTNEG reply");
		c->actions = r->actions & MILTER_ACTIONS_ALL;
		c->protocol = r->protocol;
		c->state = CONN_READY;
		evtimer_del(ms->timer);
		return advance(ms);
	}
	if (!c->waiting || !ms->running || &ms->conns[ms->cur] != c)
		return fail(c, "reply out of turn");
	if (r->cmd == SMFIR_PROGRESS)
		return arm(ms, c->def->timeout);
	if (on_action(ms, c, r) == 0)
		return;
	c->waiting = false;
	evtimer_del(ms->timer);
	ms->res.milter = c->def->name;
	switch (r->cmd) {
	case SMFIR_CONTINUE:
		return next_step(ms);
	case SMFIR_ACCEPT:
		return on_accept(ms, c);
	case SMFIR_SKIP:
		return on_skip(ms);
	case SMFIR_REJECT:
		return finish(ms, MILTER_REJECT, 550, "5.7.1 Command rejected");
	case SMFIR_TEMPFAIL:
		return finish(ms, MILTER_TEMPFAIL, 451,
		              "4.7.1 Service unavailable - try again later");
	case SMFIR_REPLYCODE:
		return on_replycode(ms, r);
	case SMFIR_DISCARD:
		return finish(ms, MILTER_DISCARD, 250, NULL);
	default:
		return fail(c, "unexpected reply");
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct milter_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	/* bounded: each round consumes input, and a reply may close c */
	while (c->bev != NULL && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in), used;
		struct milter_reply r;
		const char *error;
		int ret;

		if (len > 65536)
			len = 65536;
		ret = milter_decoder_feed(&c->dec, evbuffer_pullup(in, (ssize_t)len), len, &used,
		                          &r, &error);
		evbuffer_drain(in, used);
		if (ret < 0)
			return fail(c, error);
		if (ret > 0)
			on_reply(c, &r);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct milter_conn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		struct buf b = BUF_INIT;

		c->state = CONN_NEGOTIATING;
		milter_encode_optneg(&b, MILTER_VERSION, MILTER_ACTIONS_ALL, MILTER_PROTOCOL_ALL);
		bufferevent_write(c->bev, b.data, b.len);
		buf_free(&b);
		return;
	}
	fail(c, (what & BEV_EVENT_EOF) != 0 ? "connection closed" : "connection failed");
}

/* ---- connecting ---- */

static int parse_address(const char *address, struct sockaddr_storage *ss, int *len_r)
{
	memset(ss, 0, sizeof(*ss));
	if (strncmp(address, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(address + 5) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, address + 5);
		*len_r = sizeof(*un);
		return 0;
	}
	*len_r = sizeof(*ss);
	return evutil_parse_sockaddr_port(address, (struct sockaddr *)ss, len_r);
}

static void start_connect(struct milter_conn *c)
{
	struct milter_session *ms = c->ms;
	struct sockaddr_storage ss;
	int len;

	c->state = CONN_CONNECTING;
	if (parse_address(c->def->address, &ss, &len) < 0)
		return fail(c, "bad address");
	c->bev = bufferevent_socket_new(ms->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(ms, c->def->connect_timeout);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, len) < 0)
		fail(c, "connection failed");
}

/* ---- running a stage ---- */

/* Send the current step to c; true if c is to answer it. */
enum send_result {
	SEND_DONE,  /* the step is done for this milter: the next one */
	SEND_WAIT,  /* wait for the milter's reply */
	SEND_MORE,  /* more of the step to send, no reply to wait for */
	SEND_ERROR, /* the stage ended */
};

/* The next chunk of a file step. */
static enum send_result send_chunk(struct milter_session *ms, struct milter_conn *c,
                                   const struct milter_step *s, bool reply)
{
	char chunk[MILTER_CHUNK_MAX];
	uint64_t want;
	ssize_t n;
	struct buf b = BUF_INIT;

	if (!ms->body_started) {
		ms->body_pos = s->off;
		ms->body_started = true;
	}
	want = s->end > ms->body_pos ? s->end - ms->body_pos : 0;
	if (want == 0)
		return SEND_DONE;
	n = pread(s->fd, chunk, want < sizeof(chunk) ? (size_t)want : sizeof(chunk),
	          (off_t)ms->body_pos);
	if (n <= 0) {
		log_error(ms->sid, "event=milter.body_read_error milter=%s", c->def->name);
		finish(ms, MILTER_TEMPFAIL, 451, "4.3.0 Local problem, try again later");
		return SEND_ERROR;
	}
	ms->body_pos += (uint64_t)n;
	milter_encode_body(&b, chunk, (size_t)n);
	bufferevent_write(c->bev, b.data, b.len);
	buf_free(&b);
	return reply ? SEND_WAIT : SEND_MORE;
}

/* Send (the next part of) the current step to c. */
static enum send_result send_step(struct milter_session *ms, struct milter_conn *c)
{
	const struct milter_step *s = &ms->stage.steps[ms->step];
	uint32_t no, nr;

	step_flags(s->cmd, &no, &nr);
	if ((c->protocol & no) != 0)
		return SEND_DONE;
	if (is_message_cmd(s->cmd))
		c->in_message = true;
	if (s->fd >= 0)
		return send_chunk(ms, c, s, (c->protocol & nr) == 0);
	bufferevent_write(c->bev, s->bytes.data, s->bytes.len);
	/* SMFIC_MACRO is never answered; SMFIC_ABORT neither */
	return s->cmd != SMFIC_ABORT && (c->protocol & nr) == 0 ? SEND_WAIT : SEND_DONE;
}

static void advance(struct milter_session *ms)
{
	/* bounded: each round moves to the next step or milter, or returns */
	while (ms->running && ms->cur < ms->count) {
		struct milter_conn *c = &ms->conns[ms->cur];

		if (c->state == CONN_DEAD) {
			if (c->def->default_action != MILTER_DEFAULT_ACCEPT)
				return finish_default(ms, c);
		} else if (!c->accepted_session && !c->accepted_message) {
			if (c->state == CONN_IDLE)
				return start_connect(c);
			if (c->state != CONN_READY)
				return;
			/* bounded: each round sends a step or a chunk */
			while (ms->step < ms->stage.count) {
				switch (send_step(ms, c)) {
				case SEND_WAIT:
					c->waiting = true;
					return arm(ms, c->def->timeout);
				case SEND_ERROR:
					return;
				case SEND_MORE:
					continue;
				case SEND_DONE:
					ms->step++;
					ms->body_started = false;
					break;
				}
			}
		}
		ms->cur++;
		ms->step = 0;
		ms->body_started = false;
	}
	if (ms->running)
		finish(ms, MILTER_CONTINUE, 0, NULL);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	advance(arg);
}

struct milter_session *milter_session_new(struct event_base *base, const struct milter_def *defs,
                                          size_t count, const char *sid)
{
	struct milter_session *ms = xcalloc(1, sizeof(*ms));

	ms->base = base;
	ms->sid = xstrdup(sid != NULL ? sid : "-");
	ms->conns = xcalloc(count, sizeof(*ms->conns));
	ms->count = count;
	for (size_t i = 0; i < count; i++) {
		ms->conns[i].def = &defs[i];
		ms->conns[i].ms = ms;
	}
	ms->timer = evtimer_new(base, timer_cb, ms);
	ms->kick = event_new(base, -1, 0, kick_cb, ms);
	return ms;
}

void milter_session_run(struct milter_session *ms, struct milter_stage *st, milter_done_cb *done,
                        void *ctx)
{
	ms->stage = *st;
	memset(st, 0, sizeof(*st));
	ms->cur = ms->step = 0;
	ms->body_started = false;
	ms->done = done;
	ms->ctx = ctx;
	ms->running = true;
	event_active(ms->kick, 0, 0);
}

void milter_session_abort(struct milter_session *ms)
{
	struct buf b = BUF_INIT;

	milter_encode_simple(&b, SMFIC_ABORT);
	for (size_t i = 0; i < ms->count; i++) {
		struct milter_conn *c = &ms->conns[i];

		if (c->state == CONN_READY && c->in_message)
			bufferevent_write(c->bev, b.data, b.len);
		c->in_message = c->accepted_message = false;
	}
	buf_free(&b);
}

bool milter_session_active(const struct milter_session *ms)
{
	for (size_t i = 0; i < ms->count; i++) {
		const struct milter_conn *c = &ms->conns[i];

		if (!c->accepted_session &&
		    (c->state != CONN_DEAD || c->def->default_action != MILTER_DEFAULT_ACCEPT))
			return true;
	}
	return false;
}

/* What c's output still holds, with one send(): peeked, since the
   output's front is the bufferevent's (frozen). */
static void send_pending(struct milter_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec vec[8];
	int n = evbuffer_peek(out, -1, NULL, vec, 8);
	struct msghdr mh = {.msg_iov = (struct iovec *)vec, .msg_iovlen = n > 8 ? 8 : (size_t)n};

	if (n > 0)
		(void)sendmsg(bufferevent_getfd(c->bev), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void milter_session_free(struct milter_session **msp)
{
	struct milter_session *ms = *msp;
	struct buf b = BUF_INIT;

	if (ms == NULL)
		return;
	milter_encode_simple(&b, SMFIC_QUIT);
	for (size_t i = 0; i < ms->count; i++) {
		struct milter_conn *c = &ms->conns[i];

		/* best effort, what is still queued (an SMFIC_ABORT) first: the
		   socket is closed right after */
		if (c->state == CONN_READY) {
			bufferevent_write(c->bev, b.data, b.len);
			send_pending(c);
		}
		close_conn(c);
	}
	buf_free(&b);
	milter_stage_clear(&ms->stage);
	milter_result_clear(&ms->res);
	event_free(ms->timer);
	event_free(ms->kick);
	free(ms->conns);
	free(ms->sid);
	free(ms);
	*msp = NULL;
}
