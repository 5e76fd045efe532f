/* DATA: stream the body through the decoder into a spool file, check what
   the protocol checks (size, bare LF, header size), then hand the message
   to the policy's DATA stage, which answers once it is durable (RFC 5321
   section 4.1.1.4; DESIGN.md "a message that got a 2xx is on disk"). */
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

/* The trace fields of RFC 5321 section 4.4; "with" per RFC 3848. There is
   no reverse DNS yet, so the peer's name is "unknown". */
static void build_trace(struct smtp_session *s, struct buf *b)
{
	bool tls = conn_is_tls(s->conn);
	const char *tls_desc = conn_tls_description(s->conn);
	const char *with = s->lmtp     ? (tls ? "LMTPS" : "LMTP")
	                   : !s->esmtp ? "SMTP"
	                   : tls       ? "ESMTPS"
	                               : "ESMTP";

	buf_printf(b, "Return-Path: <%s>\r\n", s->mail_from_text);
	buf_printf(b, "Received: from %s (unknown [%s])\r\n\tby %s (Tern) with %s id %s", s->helo,
	           conn_peer_ip(s->conn), s->server->settings->hostname, with, s->msg_id);
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

void smtp_cmd_data(struct smtp_session *s, struct smtp_command *cmd)
{
	const struct tern_settings *set = s->server->settings;

	if (!s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->rcpts.count == 0) {
		smtp_reply(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	session_id_new(s->msg_id);
	if (start_delivery(s) < 0) {
		smtp_reply(s, 451, "4.3.0", "Error: local problem, try again later");
		return;
	}
	smtp_data_init(&s->decoder, smtp_settings(set)->max_message_size);
	smtp_header_init(&s->header, (size_t)smtp_settings(set)->max_header_size);
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

static void refuse(struct smtp_session *s, unsigned code, const char *enhanced, const char *text,
                   const char *reason)
{
	log_info(s->sid, "event=smtp.message_refused id=%s reason=%s size=%llu code=%u", s->msg_id,
	         reason, (unsigned long long)s->decoder.size, code);
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
	m->size = s->decoder.size;
	m->delivery = s->delivery;
	s->delivery = NULL;
	smtp_stage_begin(s, SMTP_STAGE_DATA_END, NULL);
}

static void data_end(struct smtp_session *s)
{
	s->in_data = false;
	flush_data(s);
	switch (smtp_data_result(&s->decoder)) {
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

int smtp_data_input(struct smtp_session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	struct evbuffer_iovec vec;
	int ended = 0;

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
