/* Reports to the sender, into the spool (bounce.h, docs/queue.md
   "Bounces"). */
#include "queue/bounce.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"

bool bounce_wanted(unsigned notify, enum dsn_action action)
{
	if (notify & SPOOL_NOTIFY_NEVER)
		return false;
	switch (action) {
	case DSN_ACTION_FAILED:
		return notify == 0 || (notify & SPOOL_NOTIFY_FAILURE) != 0;
	case DSN_ACTION_DELAYED:
		return notify == 0 || (notify & SPOOL_NOTIFY_DELAY) != 0;
	case DSN_ACTION_DELIVERED:
	case DSN_ACTION_RELAYED:
	case DSN_ACTION_EXPANDED:
		break;
	}
	return (notify & SPOOL_NOTIFY_SUCCESS) != 0;
}

/* The original is a report itself (RFC 3461 6.2, RFC 5321 4.5.5): a null
   reverse-path, or one of a mailer daemon that sent it without <>. */
static bool sender_is_bounce(const char *sender)
{
	size_t n = strlen("MAILER-DAEMON");

	return sender == NULL || sender[0] == '\0' ||
	       (strncasecmp(sender, "MAILER-DAEMON", n) == 0 &&
	        (sender[n] == '@' || sender[n] == '\0'));
}

/* Who gets the report: the sender, or what its SRS address stands for. */
static char *report_to(const struct bounce_settings *set, const char *sender, time_t now)
{
	enum srs_error kind;
	char *decoded;

	if (set->srs != NULL && srs_is_srs(sender) &&
	    srs_reverse(set->srs, sender, now, &decoded, &kind) == 0)
		return decoded;
	return xstrdup(sender);
}

/* A key for domain or its nearest parent (with at least one dot left):
   0 with *pkey_r, *domain_r (points into hostname), *selector_r. */
static int find_key(const char *data_dir, const char *hostname, EVP_PKEY **pkey_r,
                    const char **domain_r, char **selector_r)
{
	for (const char *d = hostname; d != NULL && strchr(d, '.') != NULL;
	     d = strchr(d, '.') + 1) {
		char **selectors;
		size_t count = 0;
		const char *error;

		if (dkim_key_selectors(data_dir, d, &selectors, &count) < 0 || count == 0)
			continue;
		dkim_selectors_free(selectors, count);
		if (dkim_key_find(data_dir, d, NULL, pkey_r, selector_r, &error) == 0) {
			*domain_r = d;
			return 0;
		}
		log_warn(NULL, "event=queue.bounce_key_failed domain=%s error=\"%s\"", d, error);
		return -1;
	}
	return -1;
}

/* Put a DKIM-Signature in front of msg when a key is there. */
static void sign(const struct bounce_settings *set, time_t now, struct buf *msg)
{
	struct dkim_sign_params params = {.now = now};
	struct dkim_signer *signer = NULL;
	EVP_PKEY *pkey = NULL;
	char *selector = NULL, *field = NULL;
	const char *error = NULL;

	if (set->data_dir == NULL ||
	    find_key(set->data_dir, set->hostname, &pkey, &params.domain, &selector) < 0)
		return;
	params.selector = selector;
	params.key = pkey;
	if (dkim_signer_new(&params, &signer, &error) == 0 &&
	    dkim_signer_feed(signer, msg->data, msg->len, &error) == 0 &&
	    dkim_signer_finish(signer, &field, &error) == 0) {
		struct buf signed_msg = BUF_INIT;

		buf_append_str(&signed_msg, field);
		buf_append(&signed_msg, msg->data, msg->len);
		buf_free(msg);
		*msg = signed_msg;
	} else {
		log_warn(NULL, "event=queue.bounce_sign_failed domain=%s error=\"%s\"",
		         params.domain, error != NULL ? error : "?");
	}
	free(field);
	dkim_signer_free(&signer);
	EVP_PKEY_free(pkey);
	free(selector);
}

/* The envelope of the report: from <>, to one address, flags after the
   DSN's bytes. */
static void report_envelope(const struct spool_envelope *env, const char *to, time_t now,
                            bool eight_bit, struct spool_envelope *out)
{
	memset(out, 0, sizeof(*out));
	out->arrival = (int64_t)now;
	out->sender = xstrdup("");
	out->client_ip = xstrdup("local");
	out->body = eight_bit ? SPOOL_BODY_8BITMIME : SPOOL_BODY_7BIT;
	out->smtputf8 = env->smtputf8;
	/* RFC 3461 6.2: the report itself asks for no report */
	spool_envelope_add_rcpt(out, to, SPOOL_NOTIFY_NEVER, NULL, NULL, NULL);
}

/* Compose, sign and spool the report of the picked results. */
static int write_report(struct spool *sp, const struct bounce_settings *set,
                        const struct spool_envelope *env, const char *data_path,
                        const struct dsn_rcpt *picked, size_t count, time_t now, char **id_r,
                        const char **error_r)
{
	char *to = report_to(set, env->sender, now);
	struct dsn_params p = {set->hostname, env, to, picked, count, (int64_t)now};
	struct dsn_original orig;
	struct spool_envelope out;
	struct buf msg = BUF_INIT;
	bool eight_bit = false;
	int ret = -1;

	if (dsn_load_original(data_path, env, &orig, error_r) < 0) {
		free(to);
		return -1;
	}
	if (dsn_compose(&p, &orig, &msg, &eight_bit, error_r) == 0) {
		sign(set, now, &msg);
		report_envelope(env, to, now, eight_bit, &out);
		if (spool_write_data(sp, msg.data, msg.len, &out, error_r) == 0) {
			log_info(NULL, "event=queue.bounce id=%s orig=%s action=%s rcpts=%zu",
			         out.id, env->id != NULL ? env->id : "-",
			         dsn_action_name(picked[0].action), count);
			*id_r = xstrdup(out.id);
			ret = 1;
		}
		spool_envelope_clear(&out);
	}
	dsn_original_clear(&orig);
	buf_free(&msg);
	free(to);
	return ret;
}

int bounce_write(struct spool *sp, const struct bounce_settings *set,
                 const struct spool_envelope *env, const char *data_path,
                 const struct dsn_rcpt *results, size_t count, char **id_r, const char **error_r)
{
	ARRAY(struct dsn_rcpt) picked = ARRAY_INIT;
	time_t now = set->now != 0 ? (time_t)set->now : time(NULL);
	int ret = 0;

	*id_r = NULL;
	if (sender_is_bounce(env->sender))
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (results[i].rcpt != NULL &&
		    bounce_wanted(results[i].rcpt->notify, results[i].action))
			array_append(&picked, results[i]);
	}
	if (picked.count > 0)
		ret = write_report(sp, set, env, data_path, picked.items, picked.count, now, id_r,
		                   error_r);
	array_free(&picked);
	return ret;
}
