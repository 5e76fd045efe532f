/* Redirect, vacation and rejection messages through the outbound spool:
   see smtp-sieve-private.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/spool-envelope.h"
#include "queue/spool.h"
#include "queue/srs.h"
#include "smtp/smtp-sieve-private.h"

/* Write data for one recipient with sender; logs what happened. */
static int queue(const char *what, const char *user, const char *sender, const char *to,
                 const char *data, size_t len, char **id_r)
{
	struct spool_envelope env = {0};
	const char *error;
	int ret;

	if (smtp_sieve_env.spool == NULL) {
		log_warn(NULL, "event=sieve.%s_failed user=%s to=<%s> error=\"no outbound spool\"",
		         what, user, to);
		return -1;
	}
	env.arrival = (int64_t)time(NULL);
	env.sender = xstrdup(sender);
	env.auth_user = NULL;
	env.client_ip = xstrdup("127.0.0.1");
	spool_envelope_add_rcpt(&env, to, 0, NULL, NULL, NULL);
	ret = spool_write_data(smtp_sieve_env.spool, data, len, &env, &error);
	if (ret < 0)
		log_warn(NULL, "event=sieve.%s_failed user=%s to=<%s> error=\"%s\"", what, user, to,
		         error);
	else {
		log_info(NULL, "event=sieve.%s user=%s to=<%s> queue_id=%s", what, user, to,
		         env.id);
		*id_r = xstrdup(env.id);
	}
	spool_envelope_clear(&env);
	return ret;
}

/* The sender a redirect leaves with: SRS0 in the user's domain (as port
   25's alias forwarding does), or the sender itself. */
static char *redirect_sender(const struct smtp_sieve_msg *m, const char *user)
{
	const char *domain = strrchr(user, '@'), *error;
	char *out;

	if (m->sender[0] == '\0' || smtp_sieve_env.srs == NULL || domain == NULL)
		return xstrdup(m->sender);
	if (srs_forward(smtp_sieve_env.srs, m->sender, domain + 1, time(NULL), &out, &error) < 0)
		return xstrdup(m->sender);
	return out;
}

int smtp_sieve_send_redirect(const struct smtp_sieve_msg *m, const char *user, const char *to,
                             char **id_r)
{
	char *sender = redirect_sender(m, user);
	int ret = queue("redirect", user, sender, to, m->data + m->skip, m->len - m->skip, id_r);

	free(sender);
	return ret;
}

static void add_date_and_id(struct buf *b)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	unsigned long long rnd = 0;

	(void)gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned long long)now;
	buf_printf(b, "Date: %s\r\nMessage-ID: <sieve.%llx.%lld@%s>\r\n", date, rnd, (long long)now,
	           smtp_sieve_env.hostname);
}

/* text with bare LF made CRLF. */
static void append_crlf(struct buf *b, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			buf_append_char(b, '\r');
		buf_append_char(b, *p);
	}
}

int smtp_sieve_send_vacation(const struct smtp_sieve_msg *m, const char *user,
                             const struct sieve_action *a, char **id_r)
{
	struct buf b = BUF_INIT;
	char *msgid = smtp_sieve_msg_header(m, "Message-ID");
	int ret;

	buf_printf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n",
	           a->from != NULL ? a->from : user, a->recipient,
	           a->subject != NULL ? a->subject : "Auto: (no subject)");
	add_date_and_id(&b);
	if (msgid != NULL)
		buf_printf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", msgid, msgid);
	buf_append_str(&b, "Auto-Submitted: auto-replied (vacation)\r\nPrecedence: bulk\r\n"
	                   "MIME-Version: 1.0\r\n");
	if (!a->mime)
		buf_append_str(&b, "Content-Type: text/plain; charset=utf-8\r\n"
		                   "Content-Transfer-Encoding: 8bit\r\n\r\n");
	append_crlf(&b, a->target != NULL ? a->target : "");
	buf_append_str(&b, "\r\n");
	/* RFC 3834 section 3.3: the reply goes from the null sender */
	ret = queue("vacation", user, "", a->recipient, b.data, b.len, id_r);
	free(msgid);
	buf_free(&b);
	return ret;
}

int smtp_sieve_send_rejection(const struct smtp_sieve_msg *m, const char *user, const char *reason,
                              char **id_r)
{
	struct buf b = BUF_INIT;
	char *subject = smtp_sieve_msg_header(m, "Subject");
	char *msgid = smtp_sieve_msg_header(m, "Message-ID");
	int ret;

	if (m->sender[0] == '\0') {
		log_info(NULL, "event=sieve.reject_dropped user=%s reason=\"null sender\"", user);
		free(subject);
		free(msgid);
		return 0;
	}
	buf_printf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <%s>\r\n",
	           smtp_sieve_env.hostname, m->sender);
	buf_printf(&b, "Subject: Rejected: %s\r\n", subject != NULL ? subject : "(no subject)");
	add_date_and_id(&b);
	if (msgid != NULL)
		buf_printf(&b, "In-Reply-To: %s\r\n", msgid);
	buf_append_str(&b, "Auto-Submitted: auto-replied (rejected)\r\nMIME-Version: 1.0\r\n"
	                   "Content-Type: text/plain; charset=utf-8\r\n"
	                   "Content-Transfer-Encoding: 8bit\r\n\r\n");
	buf_printf(&b, "Your message to <%s> was rejected by the recipient's filter:\r\n\r\n",
	           user);
	append_crlf(&b, reason);
	buf_append_str(&b, "\r\n");
	ret = queue("reject", user, "", m->sender, b.data, b.len, id_r);
	free(subject);
	free(msgid);
	buf_free(&b);
	return ret;
}
