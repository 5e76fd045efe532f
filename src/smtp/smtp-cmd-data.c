/* DATA: stream the body through the decoder into a delivery, then commit
   it on the workpool and answer only once it is durable (RFC 5321 section
   4.1.1.4; DESIGN.md "a message that got a 2xx is on disk"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "smtp/smtp-mailauth.h"
#include "smtp/smtp-server-private.h"
#include "store/delivery.h"

struct commit_job {
	struct smtp_session *s;
	struct delivery *delivery;
	const char *error;
	int ret;
};

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
	const char *with = !s->esmtp ? "SMTP" : tls ? "ESMTPS" : "ESMTP";

	buf_printf(b, "Return-Path: <%s>\r\n", s->mail_from_text);
	buf_printf(b, "Received: from %s (unknown [%s])\r\n\tby %s (Tern) with %s id %s", s->helo,
	           conn_peer_ip(s->conn), s->server->settings->hostname, with, s->msg_id);
	if (tls && tls_desc != NULL)
		buf_printf(b, "\r\n\t(using %s)", tls_desc);
	if (s->rcpt_count == 1)
		buf_printf(b, "\r\n\tfor <%s>", s->rcpts[0].address);
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
	if (s->rcpt_count == 0) {
		smtp_reply(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	session_id_new(s->msg_id);
	if (start_delivery(s) < 0) {
		smtp_reply(s, 451, "4.3.0", "Error: local problem, try again later");
		return;
	}
	smtp_data_init(&s->decoder, set->smtp.max_message_size);
	smtp_header_init(&s->header, (size_t)set->smtp.max_header_size);
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

/* Hand the decoded bytes on: all to mail authentication, the header section
   to memory, the body to the delivery. A write error is remembered and the
   body is still read to its end, so the session stays in step. */
static void flush_data(struct smtp_session *s)
{
	const char *p = s->data_out.data;
	size_t len = s->data_out.len, used;

	if (len == 0)
		return;
	smtp_mailauth_feed(s, p, len);
	if (!s->header.ended) {
		if (smtp_header_feed(&s->header, p, len, &used) == 1)
			write_body(s, p + used, len - used);
	} else {
		write_body(s, p, len);
	}
	buf_clear(&s->data_out);
}

static void commit_work(void *ctx)
{
	struct commit_job *job = ctx;
	struct smtp_session *s = job->s;

	job->ret = delivery_commit(job->delivery, (const char *const *)s->maildirs,
	                           s->maildir_count, &job->error);
}

static void commit_done(void *ctx)
{
	struct commit_job *job = ctx;
	struct smtp_session *s = job->s;

	if (job->ret < 0) {
		log_error(s->sid, "event=smtp.delivery_error stage=commit id=%s error=\"%s\"",
		          s->msg_id, job->error);
	} else {
		char *from = log_value(s->mail_from_text, strlen(s->mail_from_text), 300);

		s->messages++;
		smtp_notify_delivered(s);
		log_info(s->sid,
		         "event=smtp.message id=%s from=<%s> size=%llu rcpts=%zu maildirs=%zu",
		         s->msg_id, from, (unsigned long long)s->decoder.size, s->rcpt_count,
		         s->maildir_count);
		free(from);
	}
	if (!s->closed) {
		if (job->ret < 0)
			smtp_reply(s, 451, "4.3.0",
			           "Error: local delivery failed, try again later");
		else
			smtp_reply(s, 250, "2.0.0", "Ok: queued as %s", s->msg_id);
	}
	free(job);
	smtp_transaction_reset(s);
	smtp_session_job_done(s);
}

/* fsync is slow: commit on the workpool with reading paused; the reply is
   sent from commit_done, once the message is durable. */
static void commit(struct smtp_session *s)
{
	struct commit_job *job = xcalloc(1, sizeof(*job));

	job->s = s;
	job->delivery = s->delivery;
	s->delivery = NULL;
	s->busy = true;
	conn_pause_reading(s->conn);
	workpool_submit(s->server->role->pool, commit_work, commit_done, job);
}

static void refuse(struct smtp_session *s, unsigned code, const char *enhanced, const char *text,
                   const char *reason)
{
	log_info(s->sid, "event=smtp.message_refused id=%s reason=%s size=%llu code=%u", s->msg_id,
	         reason, (unsigned long long)s->decoder.size, code);
	smtp_reply(s, code, enhanced, "%s", text);
	smtp_transaction_reset(s); /* aborts the delivery: nothing is stored */
}

/* What goes in front of the body: the trace fields, our
   Authentication-Results (ar, may be empty), the header section without
   forged claims of our authserv-id (RFC 8601 section 5). */
static void set_prefix(struct smtp_session *s, const struct buf *ar)
{
	struct buf b = BUF_INIT;
	unsigned removed;

	build_trace(s, &b);
	buf_append(&b, ar->data, ar->len);
	removed = smtp_header_filter(s->header.fields.data, s->header.fields.len,
	                             s->server->settings->hostname, &b);
	if (s->header.ended)
		buf_append_str(&b, "\r\n");
	if (removed > 0)
		log_info(s->sid, "event=smtp.auth_results_removed id=%s count=%u", s->msg_id,
		         removed);
	delivery_set_prefix(s->delivery, b.data, b.len);
	buf_free(&b);
}

/* DMARC quarantine: the same recipients' Maildir++ .Junk folders (the
   commit creates a missing one). */
static void target_junk(struct smtp_session *s)
{
	for (size_t i = 0; i < s->maildir_count; i++) {
		char *junk = xasprintf("%s/.Junk", s->maildirs[i]);

		free(s->maildirs[i]);
		s->maildirs[i] = junk;
	}
}

/* Apply the mail authentication verdict; 0 if the message is to be
   stored, -1 if it was refused. */
static int apply_verdict(struct smtp_session *s, struct buf *ar)
{
	switch (smtp_mailauth_result(s, ar)) {
	case SMTP_AUTH_REJECT:
		refuse(s, 550, "5.7.1",
		       "Message rejected: it fails the DMARC policy of its From domain",
		       "dmarc_reject");
		return -1;
	case SMTP_AUTH_DEFER:
		refuse(s, 451, "4.7.1",
		       "Temporary DNS failure while checking SPF/DKIM/DMARC, try again later",
		       "dns_temperror");
		return -1;
	case SMTP_AUTH_JUNK:
		target_junk(s);
		return 0;
	case SMTP_AUTH_DELIVER:
		break;
	}
	return 0;
}

/* The checks are done (reading is still paused). */
static void mailauth_done(struct smtp_session *s)
{
	struct buf ar = BUF_INIT;

	if (s->closed) {
		smtp_transaction_reset(s);
		smtp_session_job_done(s); /* frees the session */
		return;
	}
	if (apply_verdict(s, &ar) < 0) {
		buf_free(&ar);
		smtp_session_job_done(s);
		return;
	}
	set_prefix(s, &ar);
	buf_free(&ar);
	commit(s);
}

static void data_end(struct smtp_session *s)
{
	struct buf none = BUF_INIT;

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
	if (s->auth != NULL) {
		/* wait for SPF, the DKIM keys and DMARC with reading paused */
		s->busy = true;
		conn_pause_reading(s->conn);
		smtp_mailauth_finish(s, mailauth_done);
		return;
	}
	set_prefix(s, &none);
	commit(s);
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
