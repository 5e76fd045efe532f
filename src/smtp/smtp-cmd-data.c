/* DATA and BDAT: stream the body through the DATA decoder or the BDAT
   chunk reader into a spool file, check what the protocol checks (size,
   bare LF, header size), then hand the message to the policy's DATA
   stage, which answers once it is durable (RFC 5321 section 4.1.1.4,
   RFC 3030; DESIGN.md "a message that got a 2xx is on disk"). Both paths
   share everything after the decoding. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-server-private.h"
#include "store/delivery.h"

/* RFC 5322 section 3.3 date-time, independent of the locale. */
static void append_date(struct buf *b)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;
	long off;

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(b, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
	           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	           off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* The "with" protocol of RFC 3848, or RFC 6531 section 3.7.3 for an
   SMTPUTF8 transaction. */
static const char *trace_with(const struct smtp_session *s, bool tls)
{
	if (s->lmtp)
		return tls ? "LMTPS" : "LMTP";
	if (!s->esmtp)
		return "SMTP";
	if (s->mail_smtputf8)
		return tls ? "UTF8SMTPS" : "UTF8SMTP";
	return tls ? "ESMTPS" : "ESMTP";
}

/* The trace fields of RFC 5321 section 4.4. The peer is named as Postfix
   does: "from <helo> (<ptr> [<ip>])", the PTR name only when its forward
   lookup gives the IP back (smtp-rdns.c), else "unknown". */
static void build_trace(struct smtp_session *s, struct buf *b)
{
	bool tls = conn_is_tls(s->conn);
	const char *tls_desc = conn_tls_description(s->conn);

	buf_printf(b, "Return-Path: <%s>\r\n", s->mail_from_text);
	buf_printf(b, "Received: from %s (%s [%s])\r\n\tby %s (Tern) with %s id %s", s->helo,
	           s->ptr_name != NULL ? s->ptr_name : "unknown", conn_peer_ip(s->conn),
	           s->server->settings->hostname, trace_with(s, tls), s->msg_id);
	if (tls && tls_desc != NULL)
		buf_printf(b, "\r\n\t(using %s)", tls_desc);
	if (s->rcpts.count == 1)
		buf_printf(b, "\r\n\tfor <%s>", s->rcpts.items[0]);
	buf_append_str(b, ";\r\n\t");
	append_date(b);
	buf_append_str(b, "\r\n");
}

static int start_delivery(struct smtp_session *s)
{
	const char *error;

	if (delivery_begin(s->server->settings->mail_dir, &s->delivery, &error) < 0) {
		log_error(s->sid, "event=smtp.delivery_error stage=begin error=\"%s\"", error);
		return -1;
	}
	return 0;
}

/* What a DATA or the first BDAT of a transaction needs: 0, or -1 with
   the refusal in code_r, enhanced_r and text_r. */
static int message_check(struct smtp_session *s, unsigned *code_r, const char **enhanced_r,
                         const char **text_r)
{
	*code_r = 0;
	if (!s->has_mail) {
		*code_r = 503;
		*enhanced_r = "5.5.1";
		*text_r = "Error: need MAIL command";
	} else if (s->rcpts.count == 0) {
		*code_r = 554;
		*enhanced_r = "5.5.1";
		*text_r = "Error: no valid recipients";
	}
	return *code_r == 0 ? 0 : -1;
}

/* Open the spool and the header keeper for a new message; -1 (logged)
   when the spool cannot be opened. */
static int message_begin(struct smtp_session *s)
{
	const struct tern_settings *set = s->server->settings;

	session_id_new(s->msg_id);
	if (start_delivery(s) < 0)
		return -1;
	smtp_header_init(&s->header, (size_t)smtp_settings(set)->max_header_size);
	return 0;
}

void smtp_cmd_data(struct smtp_session *s, struct smtp_command *cmd)
{
	const struct tern_settings *set = s->server->settings;
	unsigned code;
	const char *enhanced, *text;

	if (message_check(s, &code, &enhanced, &text) < 0) {
		smtp_reply(s, code, enhanced, "%s", text);
		return;
	}
	/* RFC 3030 section 3: a BINARYMIME message can only come by BDAT, and
	   a transaction begun with BDAT goes on with BDAT (section 2). */
	if (s->mail_body == SMTP_BODY_BINARYMIME || s->bdat_used) {
		smtp_reply(s, 503, "5.5.1",
		           s->bdat_used ? "Error: DATA after BDAT"
		                        : "Error: BODY=BINARYMIME requires BDAT");
		return;
	}
	if (message_begin(s) < 0) {
		smtp_reply(s, 451, "4.3.0", "Error: local problem, try again later");
		return;
	}
	smtp_data_init(&s->decoder, smtp_settings(set)->max_message_size);
	s->in_data = true;
	/* 354 has no enhanced code (RFC 2034 section 4: only 2xx, 4xx, 5xx). */
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void write_body(struct smtp_session *s, const char *data, size_t len)
{
	if (len > 0 && s->write_error == NULL &&
	    delivery_write(s->delivery, data, len, &s->write_error) < 0)
		log_error(s->sid, "event=smtp.delivery_error stage=write error=\"%s\"",
		          s->write_error);
}

/* Hand the decoded bytes on: all to the policy, the header section
   to memory, the body to the delivery. A write error is remembered and the
   body is still read to its end, so the session stays in step. */
static void flush_data(struct smtp_session *s)
{
	const char *p = s->data_out.data;
	size_t len = s->data_out.len, used;

	if (len == 0)
		return;
	if (s->policy->ops->data_feed != NULL)
		s->policy->ops->data_feed(s->policy_ctx, p, len);
	if (!s->header.ended) {
		if (smtp_header_feed(&s->header, p, len, &used) == 1)
			write_body(s, p + used, len - used);
	} else {
		write_body(s, p, len);
	}
	buf_clear(&s->data_out);
}

/* The message's decoded size so far, by DATA or BDAT. */
static uint64_t message_size(const struct smtp_session *s)
{
	return s->bdat_used ? s->bdat.size : s->decoder.size;
}

static void refuse(struct smtp_session *s, unsigned code, const char *enhanced, const char *text,
                   const char *reason)
{
	log_info(s->sid, "event=smtp.message_refused id=%s reason=%s size=%llu code=%u", s->msg_id,
	         reason, (unsigned long long)message_size(s), code);
	smtp_reply_message(s, code, enhanced, text); /* LMTP: one per recipient */
	smtp_transaction_reset(s);                   /* aborts the delivery: nothing is stored */
}

/* The message as the policy sees it (valid until the stage's reply). */
static void hand_over(struct smtp_session *s)
{
	struct smtp_message *m = &s->message;

	build_trace(s, &s->trace);
	m->id = s->msg_id;
	m->mail_from = s->mail_from_text;
	m->rcpts = (const char *const *)s->rcpts.items;
	m->rcpt_count = s->rcpts.count;
	m->trace = s->trace.data;
	m->trace_len = s->trace.len;
	m->header = s->header.fields.data != NULL ? s->header.fields.data : "";
	m->header_len = s->header.fields.len;
	m->header_ended = s->header.ended;
	m->size = message_size(s);
	m->body = s->mail_body;
	m->smtputf8 = s->mail_smtputf8;
	m->requiretls = s->mail_requiretls;
	m->dsn_ret = s->mail_ret;
	m->dsn_envid = s->mail_envid;
	m->chunked = s->bdat_used;
	m->rcpt_params = s->rcpt_params.items;
	m->delivery = s->delivery;
	s->delivery = NULL;
	smtp_stage_begin(s, SMTP_STAGE_DATA_END, NULL);
}

/* The message is complete (DATA's end marker, BDAT LAST) with the
   decoder's verdict: refuse it, or hand it to the policy. */
static void message_end(struct smtp_session *s, enum smtp_data_result result)
{
	switch (result) {
	case SMTP_DATA_TOO_BIG:
		refuse(s, 552, "5.3.4", "Error: message size exceeds fixed limit", "size");
		return;
	case SMTP_DATA_BARE_LF:
		refuse(s, 554, "5.6.0", "Message contains bare CR or LF", "bare_lf");
		return;
	case SMTP_DATA_OK:
		break;
	}
	if (s->header.too_big) {
		refuse(s, 552, "5.3.4", "Error: message header size exceeds limit", "header_size");
		return;
	}
	if (s->write_error != NULL) {
		refuse(s, 451, "4.3.0", "Error: local problem, try again later", "write_error");
		return;
	}
	hand_over(s);
}

static void data_end(struct smtp_session *s)
{
	s->in_data = false;
	flush_data(s);
	message_end(s, smtp_data_result(&s->decoder));
}

/* ---- BDAT (RFC 3030) ---- */

/* The octets of the current chunk are all in. */
static void bdat_chunk_end(struct smtp_session *s)
{
	uint64_t size = s->bdat.size;

	s->in_data = false;
	s->in_bdat = false;
	if (s->bdat_fail_code != 0) {
		smtp_reply(s, s->bdat_fail_code, s->bdat_fail_enhanced, "%s", s->bdat_fail_text);
		s->bdat_fail_code = 0;
		return;
	}
	flush_data(s);
	if (s->bdat_last) {
		smtp_bdat_finish(&s->bdat);
		message_end(s, smtp_bdat_result(&s->bdat));
		return;
	}
	/* section 2: an error ends the transaction; the client learns it at
	   the chunk that crossed the limit */
	if (smtp_bdat_result(&s->bdat) == SMTP_DATA_TOO_BIG) {
		refuse(s, 552, "5.3.4", "Error: message size exceeds fixed limit", "size");
		return;
	}
	smtp_reply(s, 250, "2.0.0", "Ok: %llu octets received", (unsigned long long)size);
}

/* The command order checks the command table makes for other verbs
   (smtp-commands.c): BDAT is flagged to pass them, so that a refused BDAT
   still has its octets read instead of running them as commands. */
static int bdat_order_check(struct smtp_session *s, unsigned *code_r, const char **enhanced_r,
                            const char **text_r)
{
	*code_r = 0;
	if (s->policy->tls_required && !conn_is_tls(s->conn) && s->auth_user == NULL) {
		*code_r = 530;
		*enhanced_r = "5.7.0";
		*text_r = "Must issue a STARTTLS command first";
	} else if (s->helo == NULL) {
		*code_r = 503;
		*enhanced_r = "5.5.1";
		*text_r = "Error: send HELO/EHLO first";
	}
	return *code_r == 0 ? 0 : -1;
}

/* The first BDAT of a transaction: begin the message, or set the reply
   owed once the chunk's octets are dropped (bdat_fail_code). */
static void bdat_begin(struct smtp_session *s)
{
	uint64_t max = smtp_settings(s->server->settings)->max_message_size;
	unsigned code;
	const char *enhanced, *text;

	if (bdat_order_check(s, &code, &enhanced, &text) < 0 ||
	    message_check(s, &code, &enhanced, &text) < 0 || message_begin(s) < 0) {
		if (code == 0) {
			code = 451;
			enhanced = "4.3.0";
			text = "Error: local problem, try again later";
		}
		s->bdat_fail_code = code;
		s->bdat_fail_enhanced = enhanced;
		s->bdat_fail_text = text;
		/* a reader that only counts, so that the chunk is skipped */
		smtp_bdat_init(&s->bdat, max, true);
		return;
	}
	smtp_bdat_init(&s->bdat, max, s->mail_body == SMTP_BODY_BINARYMIME);
	s->bdat_used = true;
}

void smtp_cmd_bdat(struct smtp_session *s, struct smtp_command *cmd)
{
	uint64_t size;
	bool last;

	if (smtp_bdat_parse_args(cmd->arg, &size, &last) < 0) {
		/* the chunk's length is unknown: what follows cannot be told
		   from commands, so the session cannot go on */
		smtp_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		smtp_session_close(s);
		return;
	}
	if (!s->bdat_used)
		bdat_begin(s);
	if (smtp_bdat_chunk_absurd(&s->bdat, size)) {
		/* too far over the limit to be worth reading: refuse and close
		   rather than swallow it (docs/smtp.md) */
		log_info(s->sid, "event=smtp.message_refused id=%s reason=chunk_size chunk=%llu",
		         s->msg_id, (unsigned long long)size);
		s->bdat_fail_code = 0;
		smtp_reply(s, 552, "5.3.4", "Error: message size exceeds fixed limit");
		smtp_transaction_reset(s);
		smtp_session_close(s);
		return;
	}
	smtp_bdat_chunk(&s->bdat, size);
	s->bdat_last = last && s->bdat_fail_code == 0;
	s->in_data = true;
	s->in_bdat = true;
	if (size == 0)
		bdat_chunk_end(s);
}

/* Take the octets of the current BDAT chunk that have arrived. */
static int bdat_input(struct smtp_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	struct evbuffer_iovec vec;
	int ended = 0;

	while (!ended && evbuffer_peek(in, -1, NULL, &vec, 1) > 0 && vec.iov_len > 0) {
		size_t used;

		ended = smtp_bdat_feed(&s->bdat, vec.iov_base, vec.iov_len, &used,
		                       s->bdat_fail_code != 0 ? NULL : &s->data_out);
		evbuffer_drain(in, used);
		if (s->data_out.len >= SMTP_DATA_CHUNK)
			flush_data(s);
	}
	if (ended)
		bdat_chunk_end(s);
	return ended;
}

int smtp_data_input(struct smtp_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	struct evbuffer_iovec vec;
	int ended = 0;

	if (s->in_bdat)
		return bdat_input(s);
	while (!ended && evbuffer_peek(in, -1, NULL, &vec, 1) > 0 && vec.iov_len > 0) {
		size_t used;

		ended = smtp_data_feed(&s->decoder, vec.iov_base, vec.iov_len, &used, &s->data_out);
		evbuffer_drain(in, used);
		if (s->data_out.len >= SMTP_DATA_CHUNK)
			flush_data(s);
	}
	if (ended)
		data_end(s);
	return ended;
}
