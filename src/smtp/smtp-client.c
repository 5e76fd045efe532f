/* The SMTP client protocol engine: see smtp-client.h. */
#include "smtp/smtp-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/sasl.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum state {
	S_GREETING,
	S_EHLO,
	S_HELO,
	S_STARTTLS,
	S_TLS,
	S_AUTH_PLAIN,
	S_AUTH_LOGIN,      /* waiting for the 334 asking the user name */
	S_AUTH_LOGIN_USER, /* sent the user name */
	S_AUTH_LOGIN_PASS, /* sent the password */
	S_READY,
	S_TXN,
	S_BODY,
	S_DOT,
	S_RSET,
	S_CLOSE,
};

struct smtp_client {
	struct smtp_client_config config;
	enum state state;
	struct smtp_reply_parser parser;
	struct smtp_reply reply;
	struct buf out;
	struct buf pending_in; /* fed bytes not parsed yet (while not wanting replies) */
	struct smtp_client_ext ext;
	bool tls;
	bool starttls_failed;
	bool failed;
	struct smtp_client_result failure;
	/* the transaction */
	struct smtp_client_txn *txn;
	size_t sent;    /* items sent: 0 MAIL, 1..n RCPT, n+1 DATA */
	size_t replied; /* items whose reply came */
	bool mail_ok;
	bool bdat;
	bool discard_dot; /* a 354 with no recipient: end the data at once */
	struct smtp_dot_stuffer stuffer;
};

/* ---- small helpers ---- */

void smtp_client_result_set(struct smtp_client_result *r, unsigned code, const char *enhanced,
                            const char *text)
{
	free(r->text);
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced != NULL ? enhanced : "");
	r->text = xstrdup(text != NULL ? text : "");
}

void smtp_client_result_clear(struct smtp_client_result *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

static void result_from_reply(struct smtp_client_result *r, const struct smtp_reply *reply)
{
	char *text = smtp_reply_summary(reply, 300);

	smtp_client_result_set(r, reply->code, reply->enhanced, text);
	free(text);
}

void smtp_client_txn_add_rcpt(struct smtp_client_txn *txn, const char *address, unsigned notify,
                              const char *orcpt_type, const char *orcpt)
{
	struct smtp_client_rcpt *r = array_push(&txn->rcpts);

	r->address = address;
	r->notify = notify;
	r->orcpt_type = orcpt_type;
	r->orcpt = orcpt;
}

void smtp_client_txn_clear(struct smtp_client_txn *txn)
{
	for (size_t i = 0; i < txn->results.count; i++)
		smtp_client_result_clear(&txn->results.items[i]);
	array_free(&txn->results);
	array_free(&txn->rcpts);
	txn->accepted = 0;
}

/* RFC 3461 4: xtext. */
static void xtext(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= '!' && *p <= '~' && *p != '+' && *p != '=')
			buf_append_char(out, (char)*p);
		else
			buf_printf(out, "+%02X", *p);
	}
}

static void fail(struct smtp_client *c, unsigned code, const char *enhanced, const char *text)
{
	if (!c->failed)
		smtp_client_result_set(&c->failure, code, enhanced, text);
	c->failed = true;
}

static void fail_reply(struct smtp_client *c, const struct smtp_reply *reply, const char *what)
{
	char *text = smtp_reply_summary(reply, 300);
	char *full = xasprintf("%s: %u %s", what, reply->code, text);

	fail(c, reply->code, reply->enhanced, full);
	free(full);
	free(text);
}

static void quit(struct smtp_client *c)
{
	buf_append_str(&c->out, "QUIT\r\n");
	c->state = S_CLOSE;
}

/* ---- session setup ---- */

static void send_ehlo(struct smtp_client *c)
{
	buf_printf(&c->out, "EHLO %s\r\n", c->config.helo);
	c->state = S_EHLO;
}

static void parse_ext_line(struct smtp_client_ext *e, const char *l, size_t n)
{
	if (smtp_reply_line_is(l, n, "SIZE")) {
		e->size = true;
		e->size_max = n > 5 ? strtoull(l + 5, NULL, 10) : 0;
	} else if (smtp_reply_line_is(l, n, "PIPELINING")) {
		e->pipelining = true;
	} else if (smtp_reply_line_is(l, n, "8BITMIME")) {
		e->eightbitmime = true;
	} else if (smtp_reply_line_is(l, n, "BINARYMIME")) {
		e->binarymime = true;
	} else if (smtp_reply_line_is(l, n, "CHUNKING")) {
		e->chunking = true;
	} else if (smtp_reply_line_is(l, n, "SMTPUTF8")) {
		e->smtputf8 = true;
	} else if (smtp_reply_line_is(l, n, "DSN")) {
		e->dsn = true;
	} else if (smtp_reply_line_is(l, n, "STARTTLS")) {
		e->starttls = true;
	} else if (smtp_reply_line_is(l, n, "REQUIRETLS")) {
		e->requiretls = true;
	} else if (smtp_reply_line_is(l, n, "AUTH")) {
		/* "AUTH PLAIN LOGIN" (or the old "AUTH=PLAIN LOGIN") */
		char *mechs = xstrndup(l + 5 < l + n ? l + 5 : l + n, n > 5 ? n - 5 : 0);

		for (char *save = NULL, *m = strtok_r(mechs, " ", &save); m != NULL;
		     m = strtok_r(NULL, " ", &save)) {
			if (strcasecmp(m, "PLAIN") == 0)
				e->auth_plain = true;
			else if (strcasecmp(m, "LOGIN") == 0)
				e->auth_login = true;
		}
		free(mechs);
	}
}

/* The EHLO reply's lines after the first (the greeting name) are the
   extensions (RFC 5321 4.1.1.1). */
static void parse_ext(struct smtp_client *c, const struct smtp_reply *reply)
{
	const char *p = reply->text.data != NULL ? reply->text.data : "";
	const char *end = p + reply->text.len;
	bool first = true;

	memset(&c->ext, 0, sizeof(c->ext));
	c->ext.esmtp = true;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);

		if (!first)
			parse_ext_line(&c->ext, p, n);
		first = false;
		p += n + (lf != NULL ? 1 : 0);
	}
}

static void start_auth(struct smtp_client *c)
{
	const char *user = c->config.auth_user, *pass = c->config.auth_pass;

	if (!c->tls) {
		/* credentials never go in clear */
		fail(c, 454, "4.7.0", "AUTH needs TLS, which the peer did not give");
		quit(c);
	} else if (c->ext.auth_plain) {
		size_t ul = strlen(user), pl = strlen(pass != NULL ? pass : "");
		char *raw = xmalloc(ul + pl + 2);
		char *b64;

		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, pass != NULL ? pass : "", pl);
		b64 = sasl_base64_encode(raw, ul + pl + 2);
		buf_printf(&c->out, "AUTH PLAIN %s\r\n", b64);
		explicit_bzero(raw, ul + pl + 2);
		free(raw);
		free(b64);
		c->state = S_AUTH_PLAIN;
	} else if (c->ext.auth_login) {
		buf_append_str(&c->out, "AUTH LOGIN\r\n");
		c->state = S_AUTH_LOGIN;
	} else {
		fail(c, 454, "4.7.0", "the peer offers neither AUTH PLAIN nor LOGIN");
		quit(c);
	}
}

/* EHLO (or HELO) done, TLS if any done: STARTTLS, AUTH or ready. */
static void after_hello(struct smtp_client *c)
{
	if (!c->tls && c->config.tls_possible && c->ext.starttls && !c->starttls_failed) {
		buf_append_str(&c->out, "STARTTLS\r\n");
		c->state = S_STARTTLS;
	} else if (!c->tls && c->config.tls_required) {
		fail(c, 454, "4.7.0", "TLS is required and the peer does not offer it");
		quit(c);
	} else if (c->config.auth_user != NULL) {
		start_auth(c);
	} else {
		c->state = S_READY;
	}
}

static void on_auth_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	const char *step = NULL;

	if (r->code == 235 && c->state != S_AUTH_LOGIN && c->state != S_AUTH_LOGIN_USER) {
		c->state = S_READY;
		return;
	}
	if (r->code == 334 && c->state == S_AUTH_LOGIN)
		step = c->config.auth_user;
	else if (r->code == 334 && c->state == S_AUTH_LOGIN_USER)
		step = c->config.auth_pass != NULL ? c->config.auth_pass : "";
	if (step == NULL) {
		fail_reply(c, r, "AUTH");
		quit(c);
		return;
	}
	char *b64 = sasl_base64_encode(step, strlen(step));

	buf_printf(&c->out, "%s\r\n", b64);
	free(b64);
	c->state = c->state == S_AUTH_LOGIN ? S_AUTH_LOGIN_USER : S_AUTH_LOGIN_PASS;
}

/* ---- the transaction ---- */

static void send_item(struct smtp_client *c, size_t k)
{
	struct smtp_client_txn *t = c->txn;

	if (k == 0) {
		buf_printf(&c->out, "MAIL FROM:<%s>", t->sender);
		if (c->ext.size)
			buf_printf(&c->out, " SIZE=%llu", (unsigned long long)t->size);
		if (t->body == SPOOL_BODY_8BITMIME && c->ext.eightbitmime)
			buf_append_str(&c->out, " BODY=8BITMIME");
		if (t->body == SPOOL_BODY_BINARYMIME)
			buf_append_str(&c->out, " BODY=BINARYMIME");
		if (t->smtputf8)
			buf_append_str(&c->out, " SMTPUTF8");
		if (t->requiretls && c->ext.requiretls)
			buf_append_str(&c->out, " REQUIRETLS");
		if (c->ext.dsn && t->ret != SPOOL_RET_UNSET)
			buf_printf(&c->out, " RET=%s", spool_ret_name(t->ret));
		if (c->ext.dsn && t->envid != NULL) {
			buf_append_str(&c->out, " ENVID=");
			xtext(&c->out, t->envid);
		}
	} else if (k <= t->rcpts.count) {
		const struct smtp_client_rcpt *r = &t->rcpts.items[k - 1];

		buf_printf(&c->out, "RCPT TO:<%s>", r->address);
		if (c->ext.dsn && r->notify != 0) {
			buf_append_str(&c->out, " NOTIFY=");
			spool_notify_format(r->notify, &c->out);
		}
		if (c->ext.dsn && r->orcpt != NULL && r->orcpt_type != NULL) {
			buf_printf(&c->out, " ORCPT=%s;", r->orcpt_type);
			xtext(&c->out, r->orcpt);
		}
	} else if (!c->bdat) {
		buf_append_str(&c->out, "DATA");
	}
	buf_append_str(&c->out, "\r\n");
}

/* Items of the transaction: MAIL, the RCPTs, and DATA (not with BDAT). */
static size_t item_count(const struct smtp_client *c)
{
	return 1 + c->txn->rcpts.count + (c->bdat ? 0 : 1);
}

static void rset(struct smtp_client *c)
{
	buf_append_str(&c->out, "RSET\r\n");
	c->state = S_RSET;
}

int smtp_client_start(struct smtp_client *c, struct smtp_client_txn *txn,
                      struct smtp_client_result *result_r)
{
	if (c->state != S_READY)
		log_panic("smtp_client_start() in state %d", (int)c->state);
	if (c->ext.size && c->ext.size_max > 0 && txn->size > c->ext.size_max) {
		smtp_client_result_set(result_r, 552, "5.3.4",
		                       "message larger than the peer's SIZE limit");
		return -1;
	}
	if (txn->smtputf8 && !c->ext.smtputf8) {
		smtp_client_result_set(result_r, 550, "5.6.7",
		                       "the message needs SMTPUTF8, which the peer does not offer");
		return -1;
	}
	if (txn->body == SPOOL_BODY_BINARYMIME && !(c->ext.binarymime && c->ext.chunking)) {
		smtp_client_result_set(result_r, 554, "5.6.3",
		                       "the message is BINARYMIME, which the peer does not accept");
		return -1;
	}
	c->txn = txn;
	for (size_t i = 0; i < txn->results.count; i++)
		smtp_client_result_clear(&txn->results.items[i]);
	array_clear(&txn->results);
	for (size_t i = 0; i < txn->rcpts.count; i++)
		(void)array_push(&txn->results);
	txn->accepted = 0;
	c->bdat = txn->body == SPOOL_BODY_BINARYMIME;
	c->sent = c->replied = 0;
	c->mail_ok = false;
	c->discard_dot = false;
	c->state = S_TXN;
	if (c->ext.pipelining) {
		while (c->sent < item_count(c))
			send_item(c, c->sent++);
	} else {
		send_item(c, c->sent++);
	}
	return 0;
}

static void start_body(struct smtp_client *c)
{
	c->stuffer.at_line_start = true;
	if (c->bdat)
		buf_printf(&c->out, "BDAT %llu LAST\r\n", (unsigned long long)c->txn->size);
	c->state = S_BODY;
}

/* Every reply of the items sent came: what next. */
static void txn_step(struct smtp_client *c)
{
	size_t n = c->txn->rcpts.count;

	if (c->replied < c->sent)
		return;
	if (c->sent < item_count(c) && c->mail_ok && !(c->sent == n + 1 && c->txn->accepted == 0)) {
		send_item(c, c->sent++);
		return;
	}
	if (c->sent < item_count(c) || !c->mail_ok || c->txn->accepted == 0) {
		rset(c);
		return;
	}
	if (c->bdat)
		start_body(c);
}

static void on_txn_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	struct smtp_client_txn *t = c->txn;
	size_t k = c->replied++;

	if (k == 0) {
		c->mail_ok = r->code / 100 == 2;
		if (!c->mail_ok)
			for (size_t i = 0; i < t->results.count; i++)
				result_from_reply(&t->results.items[i], r);
	} else if (k <= t->rcpts.count) {
		if (c->mail_ok) {
			result_from_reply(&t->results.items[k - 1], r);
			if (r->code / 100 == 2)
				t->accepted++;
		}
	} else {
		/* DATA */
		if (r->code == 354 && c->mail_ok && t->accepted > 0) {
			start_body(c);
			return;
		}
		if (r->code == 354) {
			c->discard_dot = true;
			buf_append_str(&c->out, ".\r\n");
			c->state = S_DOT;
			return;
		}
		if (c->mail_ok)
			for (size_t i = 0; i < t->results.count; i++)
				if (t->results.items[i].code / 100 == 2)
					result_from_reply(&t->results.items[i], r);
		t->accepted = 0;
	}
	txn_step(c);
}

static void on_dot_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	struct smtp_client_txn *t = c->txn;

	if (c->discard_dot) {
		rset(c);
		return;
	}
	for (size_t i = 0; i < t->results.count; i++)
		if (t->results.items[i].code / 100 == 2)
			result_from_reply(&t->results.items[i], r);
	if (r->code / 100 != 2)
		t->accepted = 0;
	c->txn = NULL;
	c->state = S_READY;
}

/* ---- dispatch ---- */

static void on_reply(struct smtp_client *c, const struct smtp_reply *r)
{
	switch (c->state) {
	case S_GREETING:
		if (r->code / 100 == 2) {
			send_ehlo(c);
		} else {
			fail_reply(c, r, "greeting");
			quit(c);
		}
		break;
	case S_EHLO:
		if (r->code / 100 == 2) {
			parse_ext(c, r);
			after_hello(c);
		} else {
			memset(&c->ext, 0, sizeof(c->ext));
			buf_printf(&c->out, "HELO %s\r\n", c->config.helo);
			c->state = S_HELO;
		}
		break;
	case S_HELO:
		if (r->code / 100 == 2) {
			after_hello(c);
		} else {
			fail_reply(c, r, "HELO");
			quit(c);
		}
		break;
	case S_STARTTLS:
		if (r->code == 220) {
			c->state = S_TLS;
		} else {
			c->starttls_failed = true;
			after_hello(c);
		}
		break;
	case S_AUTH_PLAIN:
	case S_AUTH_LOGIN:
	case S_AUTH_LOGIN_USER:
	case S_AUTH_LOGIN_PASS:
		on_auth_reply(c, r);
		break;
	case S_TXN:
		on_txn_reply(c, r);
		break;
	case S_DOT:
		on_dot_reply(c, r);
		break;
	case S_RSET:
		if (c->txn != NULL)
			c->txn = NULL;
		if (r->code / 100 == 2) {
			c->state = S_READY;
		} else {
			fail_reply(c, r, "RSET");
			quit(c);
		}
		break;
	default:
		/* a reply nobody asked for (READY, BODY, TLS): the peer is broken */
		fail(c, 421, "4.4.2", "unexpected reply from the peer");
		c->state = S_CLOSE;
		break;
	}
}

static bool wants_reply(const struct smtp_client *c)
{
	return smtp_client_want(c) == SMTP_CLIENT_WANT_REPLY;
}

void smtp_client_feed(struct smtp_client *c, const void *data, size_t len)
{
	buf_append(&c->pending_in, data, len);
	while (wants_reply(c) && c->pending_in.len > 0) {
		size_t used = 0;
		const char *error;
		int ret = smtp_reply_parse(&c->parser, c->pending_in.data, c->pending_in.len, &used,
		                           &c->reply, &error);

		buf_consume(&c->pending_in, used);
		if (ret < 0) {
			smtp_client_connection_lost(c, error);
			return;
		}
		if (ret == 0)
			return;
		on_reply(c, &c->reply);
	}
}

void smtp_client_connection_lost(struct smtp_client *c, const char *reason)
{
	char *text = xasprintf("lost connection: %s", reason);

	fail(c, 421, "4.4.2", text);
	free(text);
	if (c->txn != NULL) {
		for (size_t i = 0; i < c->txn->results.count; i++) {
			struct smtp_client_result *res = &c->txn->results.items[i];

			/* an accepted RCPT without the final reply is not delivered yet */
			if (res->code == 0 || (res->code / 100 == 2 && c->state != S_READY))
				smtp_client_result_set(res, c->failure.code, c->failure.enhanced,
				                       c->failure.text);
		}
		c->txn->accepted = 0;
		c->txn = NULL;
	}
	c->state = S_CLOSE;
}

bool smtp_client_mail_accepted(const struct smtp_client *c)
{
	return c->mail_ok;
}

bool smtp_client_awaiting_data_reply(const struct smtp_client *c)
{
	return c->state == S_DOT && !c->discard_dot && c->txn != NULL;
}

/* ---- the rest of the API ---- */

struct smtp_client *smtp_client_new(const struct smtp_client_config *config)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));

	c->config = *config;
	c->tls = config->tls_active;
	smtp_reply_parser_init(&c->parser);
	c->state = S_GREETING;
	return c;
}

void smtp_client_free(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;

	if (c == NULL)
		return;
	smtp_reply_parser_free(&c->parser);
	buf_free(&c->reply.text);
	buf_free(&c->out);
	buf_free(&c->pending_in);
	smtp_client_result_clear(&c->failure);
	free(c);
	*cp = NULL;
}

enum smtp_client_want smtp_client_want(const struct smtp_client *c)
{
	switch (c->state) {
	case S_TLS:
		return SMTP_CLIENT_WANT_TLS;
	case S_BODY:
		return SMTP_CLIENT_WANT_BODY;
	case S_READY:
		return SMTP_CLIENT_WANT_READY;
	case S_CLOSE:
		return SMTP_CLIENT_WANT_CLOSE;
	default:
		return SMTP_CLIENT_WANT_REPLY;
	}
}

struct buf *smtp_client_output(struct smtp_client *c)
{
	return &c->out;
}

void smtp_client_output_done(struct smtp_client *c)
{
	buf_clear(&c->out);
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v != 0 ? v : def;
}

unsigned smtp_client_reply_timeout(const struct smtp_client *c)
{
	const struct smtp_client_timeouts *t = &c->config.timeouts;

	switch (c->state) {
	case S_GREETING:
		return or_default(t->greeting, 300);
	case S_DOT:
		return or_default(t->data_end, 600);
	case S_TXN:
		if (c->sent == item_count(c) && c->replied + 1 == c->sent && !c->bdat)
			return or_default(t->data_init, 120);
		return or_default(t->command, 300);
	default:
		return or_default(t->command, 300);
	}
}

void smtp_client_tls_started(struct smtp_client *c)
{
	c->tls = true;
	buf_clear(&c->pending_in); /* RFC 3207 4.2: forget what came before */
	memset(&c->ext, 0, sizeof(c->ext));
	send_ehlo(c);
}

const struct smtp_client_ext *smtp_client_ext(const struct smtp_client *c)
{
	return &c->ext;
}

bool smtp_client_tls(const struct smtp_client *c)
{
	return c->tls;
}

const struct smtp_client_result *smtp_client_failure(const struct smtp_client *c)
{
	return c->failed ? &c->failure : NULL;
}

void smtp_client_body(struct smtp_client *c, const void *data, size_t len)
{
	if (c->bdat)
		buf_append(&c->out, data, len);
	else
		smtp_dot_stuff(&c->stuffer, data, len, &c->out);
}

void smtp_client_body_end(struct smtp_client *c)
{
	if (!c->bdat)
		smtp_dot_end(&c->stuffer, &c->out);
	c->state = S_DOT;
}

void smtp_client_quit(struct smtp_client *c)
{
	if (c->state != S_CLOSE)
		quit(c);
}

void smtp_dot_stuff(struct smtp_dot_stuffer *st, const void *data, size_t len, struct buf *out)
{
	const char *p = data, *end = p + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = lf != NULL ? (size_t)(lf - p) + 1 : (size_t)(end - p);

		if (st->at_line_start && p[0] == '.')
			buf_append_char(out, '.');
		buf_append(out, p, n);
		st->at_line_start = lf != NULL;
		p += n;
	}
}

void smtp_dot_end(struct smtp_dot_stuffer *st, struct buf *out)
{
	if (!st->at_line_start)
		buf_append_str(out, "\r\n");
	buf_append_str(out, ".\r\n");
	st->at_line_start = true;
}
