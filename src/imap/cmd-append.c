/* APPEND (RFC 3501 6.3.11, RFC 9051 6.3.12) with UIDPLUS's APPENDUID
   (RFC 4315) and LITERAL+ (RFC 7888). The message literal streams into a
   delivery (store/delivery.h) through the parser's literal sink: it is
   never held in memory, and it is durable before the tagged OK: the
   commit (its fsyncs) runs on the role's worker pool, as COPY's does. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-date.h"
#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/mailbox.h"

/* The literal sink: only the message literal of APPEND streams, which
   comes after the mailbox name (a literal mailbox name stays in memory;
   the date-time is a quoted string in the grammar, never a literal). */
static bool sink_open(void *ctx, const struct imap_command *partial, uint64_t size)
{
	struct imap_session *s = ctx;
	const char *error;

	if (s->state == IMAP_STATE_NOAUTH || s->state == IMAP_STATE_LOGOUT || s->append != NULL ||
	    strcmp(partial->name, "APPEND") != 0 || partial->count == 0)
		return false;
	if (delivery_begin(s->server->settings->mail_dir, &s->append, &error) < 0) {
		log_error(s->sid, "event=imap.append_spool_failed error=\"%s\"", error);
		s->append = NULL;
		return false;
	}
	return true;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct imap_session *s = ctx;
	const char *error;

	if (s->append == NULL || delivery_write(s->append, data, len, &error) < 0)
		return -1;
	return 0;
}

static void sink_close(void *ctx)
{
}

void imap_append_install_sink(struct imap_session *s)
{
	struct imap_literal_sink sink = {sink_open, sink_write, sink_close, s};

	imap_parser_set_sink(s->parser, &sink);
}

void imap_append_abort(struct imap_session *s)
{
	delivery_abort(&s->append);
}

/* The flag list of APPEND: system flags and keywords (copied: they
   outlive the command line, until the append is finished). */
static int parse_flags(const struct imap_arg *arg, unsigned *flags_r, char ***keywords_r,
                       size_t *kw_count_r)
{
	*flags_r = 0;
	for (size_t i = 0; i < arg->count; i++) {
		const char *f = imap_arg_atom(&arg->list[i]);
		int ret = f == NULL ? -1 : imap_flag_parse(f, flags_r);

		if (ret < 0 || (ret == 1 && *kw_count_r == MAIL_KEYWORDS_MAX))
			return -1;
		if (ret == 1) {
			if (*keywords_r == NULL)
				*keywords_r = xcalloc(MAIL_KEYWORDS_MAX, sizeof(char *));
			(*keywords_r)[(*kw_count_r)++] = xstrdup(f);
		}
	}
	return 0;
}

static void keywords_free(char **keywords, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(keywords[i]);
	free(keywords);
}

struct append_args {
	const char *mailbox;
	unsigned flags;
	char **keywords; /* malloc'ed, NULL if none */
	size_t kw_count;
	int64_t date; /* 0: now */
	const struct imap_arg *message;
};

static int parse_args(const struct imap_cmd *cmd, struct append_args *a)
{
	size_t i = 1;

	memset(a, 0, sizeof(*a));
	if (cmd->count < 2 || cmd->count > 4 ||
	    (a->mailbox = imap_arg_astring(&cmd->args[0])) == NULL)
		return -1;
	if (cmd->args[i].type == IMAP_ARG_LIST &&
	    parse_flags(&cmd->args[i++], &a->flags, &a->keywords, &a->kw_count) < 0)
		return -1;
	if (i + 1 < cmd->count) {
		const struct imap_arg *d = &cmd->args[i++];

		if (d->type != IMAP_ARG_STRING || imap_parse_datetime(d->str, &a->date) < 0)
			return -1;
		/* The file's mtime holds it: before 1970 it cannot. */
		if (a->date <= 0)
			a->date = 1;
	}
	a->message = &cmd->args[i];
	return i + 1 == cmd->count && a->message->type == IMAP_ARG_LITERAL ? 0 : -1;
}

/* The message's delivery: the streamed one, or a new one for a literal
   the parser kept in memory. NULL after replying. */
static struct delivery *take_delivery(struct imap_session *s, const struct imap_cmd *cmd,
                                      const struct imap_arg *msg)
{
	struct delivery *d = NULL;
	const char *error;

	if (msg->streamed) {
		d = s->append;
		s->append = NULL;
	} else if (delivery_begin(s->server->settings->mail_dir, &d, &error) == 0 &&
	           delivery_write(d, msg->str, msg->len, &error) < 0) {
		delivery_abort(&d);
	}
	if (d == NULL)
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot store the message.");
	return d;
}

/* An APPEND waiting for its commit (the fsyncs) on a worker. */
struct append_job {
	struct imap_session *s;
	struct mail_append *append;
	char *tag;
	unsigned flags;
	char **keywords;
	size_t kw_count;
};

static void append_work(void *arg)
{
	struct append_job *job = arg;

	mail_append_commit(job->append);
}

/* Back on the loop, the message durable (or not stored): UID, flags, the
   answer. Finished even if the client went away meanwhile (the session
   lives until the release). */
static void append_done(void *arg)
{
	struct append_job *job = arg;
	struct imap_session *s = job->s;
	uint32_t uidvalidity, uid;
	const char *error;

	if (mail_user_append_finish(&job->append, job->flags, (const char *const *)job->keywords,
	                            job->kw_count, &uidvalidity, &uid, &error) < 0) {
		log_error(s->sid, "event=imap.append_failed error=\"%s\"", error);
		imap_reply(s, job->tag, "NO", "[SERVERBUG] Cannot store the message.");
	} else {
		imap_notify_changed(s);
		log_info(s->sid, "event=imap.append uid=%u", uid);
		imap_reply(s, job->tag, "OK", "[APPENDUID %u %u] Append completed.", uidvalidity,
		           uid);
	}
	keywords_free(job->keywords, job->kw_count);
	free(job->tag);
	free(job);
	(void)imap_session_release(s);
}

void cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct append_args a;
	struct delivery *d;
	struct mail_append *append;
	struct append_job *job;
	const char *error;

	if (parse_args(cmd, &a) < 0) {
		imap_append_abort(s);
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		keywords_free(a.keywords, a.kw_count);
		return;
	}
	if (!mail_user_mailbox_exists(s->user, a.mailbox)) {
		imap_append_abort(s);
		imap_reply(s, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist.");
		keywords_free(a.keywords, a.kw_count);
		return;
	}
	if ((d = take_delivery(s, cmd, a.message)) == NULL) {
		keywords_free(a.keywords, a.kw_count);
		return;
	}
	if (delivery_size(d) == 0) {
		delivery_abort(&d);
		imap_reply(s, cmd->tag, "NO", "Empty message.");
		keywords_free(a.keywords, a.kw_count);
		return;
	}
	if (mail_user_append_begin(s->user, a.mailbox, d, a.date, &append, &error) < 0) {
		log_error(s->sid, "event=imap.append_failed error=\"%s\"", error);
		imap_reply(s, cmd->tag, "NO", "[SERVERBUG] Cannot store the message.");
		keywords_free(a.keywords, a.kw_count);
		return;
	}
	/* The fsyncs run on a worker; the session reads no command meanwhile
	   and the tagged OK goes out only once the message is durable. */
	job = xcalloc(1, sizeof(*job));
	*job = (struct append_job){s, append, xstrdup(cmd->tag), a.flags, a.keywords, a.kw_count};
	imap_session_hold(s);
	workpool_submit(s->server->pool, append_work, append_done, job);
}
