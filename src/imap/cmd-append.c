/* APPEND (RFC 3501 6.3.11, RFC 9051 6.3.12) with UIDPLUS's APPENDUID
   (RFC 4315), LITERAL+ (RFC 7888), MULTIAPPEND (RFC 3502), CATENATE
   (RFC 4469, imap-catenate.h) and REPLACE (RFC 8508). Each message literal
   streams into a delivery (store/delivery.h) through the parser's literal
   sink: it is never held in memory, and it is durable before the tagged
   OK: the commits (their fsyncs) run on the role's worker pool, as COPY's
   do. Several messages are all or nothing: any bad one refuses the command
   before anything is stored, and a commit that fails removes the others. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-catenate.h"
#include "imap/imap-date.h"
#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-settings.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "lib/mutf7.h"
#include "store/mailbox.h"

/* Messages of one APPEND at most (each streamed one holds a spool file
   open until the command runs). */
#define APPEND_MAX_MESSAGES 100

/* APPEND or REPLACE (also as UID REPLACE), and not inside CATENATE's
   part list (the list being parsed is already the last argument, after
   the atom CATENATE, its last element the TEXT of this literal: an odd
   count, where a closed part list has pairs): TEXT parts are read into
   memory (bounded by IMAP_MAX_LITERALS_IN_MEMORY). */
static bool streams(const struct imap_command *partial)
{
	size_t first = 0, n = partial->count;
	const char *kw;

	if (strcmp(partial->name, "UID") == 0) {
		const char *sub = n > 0 ? imap_arg_atom(&partial->args[0]) : NULL;

		if (sub == NULL || strcasecmp(sub, "REPLACE") != 0)
			return false;
		first = 1;
	} else if (strcmp(partial->name, "APPEND") != 0 && strcmp(partial->name, "REPLACE") != 0) {
		return false;
	}
	/* REPLACE has its message number before the mailbox */
	if (strcmp(partial->name, "APPEND") != 0)
		first++;
	if (n <= first)
		return false;
	/* args[first] is the mailbox: a mailbox named CATENATE is no part list */
	if (n >= first + 3 && partial->args[n - 1].type == IMAP_ARG_LIST &&
	    partial->args[n - 1].count % 2 == 1 &&
	    (kw = imap_arg_atom(&partial->args[n - 2])) != NULL && strcasecmp(kw, "CATENATE") == 0)
		return false;
	return true;
}

/* The literal sink: only message literals stream, which come after the
   mailbox name (a literal mailbox name stays in memory; the date-time is
   a quoted string in the grammar, never a literal). */
static bool sink_open(void *ctx, const struct imap_command *partial, uint64_t size)
{
	struct imap_session *s = ctx;
	struct delivery *d;
	const char *error;

	if (s->state == IMAP_STATE_NOAUTH || s->state == IMAP_STATE_LOGOUT ||
	    s->append_count >= APPEND_MAX_MESSAGES || !streams(partial))
		return false;
	if (delivery_begin(s->server->settings->mail_dir, &d, &error) < 0) {
		log_error(s->sid, "event=imap.append_spool_failed error=\"%s\"", error);
		return false;
	}
	s->append = xrealloc(s->append, (s->append_count + 1) * sizeof(*s->append));
	s->append[s->append_count++] = d;
	return true;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct imap_session *s = ctx;
	const char *error;

	if (s->append_count == 0 ||
	    delivery_write(s->append[s->append_count - 1], data, len, &error) < 0)
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
	for (size_t i = 0; i < s->append_count; i++)
		delivery_abort(&s->append[i]);
	free(s->append);
	s->append = NULL;
	s->append_count = 0;
}

/* The flag list of one message: system flags and keywords (copied: they
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

/* One message of the command, then its delivery and its stored form. */
struct append_msg {
	unsigned flags;
	char **keywords; /* malloc'ed, NULL if none */
	size_t kw_count;
	int64_t date;                    /* 0: now */
	const struct imap_arg *literal;  /* the message, or NULL for: */
	const struct imap_arg *catenate; /* CATENATE's part list */
	struct delivery *d;
	struct mail_append *append;
	uint32_t uid; /* once finished; 0 if not stored */
};

static void msgs_free(struct append_msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t k = 0; k < msgs[i].kw_count; k++)
			free(msgs[i].keywords[k]);
		free(msgs[i].keywords);
		delivery_abort(&msgs[i].d);
	}
	free(msgs);
}

/* CATENATE's parts: TEXT literal or URL string, at least one. */
static bool catenate_valid(const struct imap_arg *parts)
{
	if (parts->type != IMAP_ARG_LIST || parts->count == 0 || parts->count % 2 != 0)
		return false;
	for (size_t i = 0; i < parts->count; i += 2) {
		const char *kind = imap_arg_atom(&parts->list[i]);
		const struct imap_arg *v = &parts->list[i + 1];

		if (kind == NULL)
			return false;
		if (strcasecmp(kind, "TEXT") == 0 && v->type == IMAP_ARG_LITERAL && !v->streamed)
			continue;
		if (strcasecmp(kind, "URL") == 0 && imap_arg_astring(v) != NULL)
			continue;
		return false;
	}
	return true;
}

/* One append-message at args[*i]: [flags] [date-time] (literal | CATENATE
   (parts) | UTF8 (literal8), the last with utf8 only: RFC 6855 4); *i is
   moved past it. */
static int parse_msg(const struct imap_arg *args, size_t count, size_t *i, struct append_msg *m,
                     bool utf8)
{
	const char *kw;

	if (*i < count && args[*i].type == IMAP_ARG_LIST &&
	    parse_flags(&args[(*i)++], &m->flags, &m->keywords, &m->kw_count) < 0)
		return -1;
	if (*i < count && args[*i].type == IMAP_ARG_STRING) {
		if (imap_parse_datetime(args[(*i)++].str, &m->date) < 0)
			return -1;
		/* The file's mtime holds it: before 1970 it cannot. */
		if (m->date <= 0)
			m->date = 1;
	}
	if (*i >= count)
		return -1;
	if (args[*i].type == IMAP_ARG_LITERAL) {
		m->literal = &args[(*i)++];
		return 0;
	}
	kw = imap_arg_atom(&args[*i]);
	if (utf8 && kw != NULL && strcasecmp(kw, "UTF8") == 0 && *i + 1 < count &&
	    args[*i + 1].type == IMAP_ARG_LIST && args[*i + 1].count == 1 &&
	    args[*i + 1].list[0].type == IMAP_ARG_LITERAL && args[*i + 1].list[0].literal8) {
		m->literal = &args[*i + 1].list[0];
		*i += 2;
		return 0;
	}
	if (kw == NULL || strcasecmp(kw, "CATENATE") != 0 || *i + 1 >= count ||
	    !catenate_valid(&args[*i + 1]))
		return -1;
	m->catenate = &args[*i + 1];
	*i += 2;
	return 0;
}

/* The messages of args[0..count) (at least one; one only if single). */
static int parse_msgs(const struct imap_arg *args, size_t count, bool single, bool utf8,
                      struct append_msg **msgs_r, size_t *count_r)
{
	struct append_msg *msgs = NULL;
	size_t n = 0, i = 0;

	while (i < count && n < APPEND_MAX_MESSAGES && (!single || n == 0)) {
		msgs = xrealloc(msgs, (n + 1) * sizeof(*msgs));
		memset(&msgs[n], 0, sizeof(*msgs));
		if (parse_msg(args, count, &i, &msgs[n++], utf8) < 0)
			break;
	}
	*msgs_r = msgs;
	*count_r = n;
	return n > 0 && i == count ? 0 : -1;
}

/* An APPEND waiting for its commits (the fsyncs) on a worker. */
struct append_job {
	struct imap_session *s;
	char *tag, *mailbox;
	struct append_msg *msgs;
	size_t count;
	uint32_t replace_uid; /* REPLACE: the message to expunge; 0 for APPEND */
	/* The message being committed: one at a time, each finished (given
	   its UID) before the next file lands, so the UIDs follow the
	   messages' order whatever their INTERNALDATEs. */
	size_t next;
	bool failed;
};

/* RFC 5092 3.2: an IMAP URL names the mailbox in UTF-8; the store's
   name is modified UTF-7. A name of ASCII only is taken as it is. */
static int url_mailbox_mutf7(struct imap_url *u)
{
	struct buf b = BUF_INIT;

	if (!mutf7_has_8bit(u->mailbox))
		return 0;
	if (mutf7_from_utf8(u->mailbox, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	free(u->mailbox);
	u->mailbox = buf_steal(&b);
	return 0;
}

/* Build message m's delivery: the streamed literal (the next of
   s->append), one for a literal held in memory, or CATENATE's parts. 0;
   -1 after replying. */
static int build_delivery(struct imap_session *s, const char *tag, struct append_msg *m,
                          size_t *streamed)
{
	const char *error = NULL, *mail_dir = s->server->settings->mail_dir;

	if (m->literal != NULL && m->literal->streamed) {
		if (*streamed < s->append_count) {
			m->d = s->append[*streamed];
			s->append[(*streamed)++] = NULL;
		}
	} else if (delivery_begin(mail_dir, &m->d, &error) == 0 && m->literal != NULL &&
	           delivery_write(m->d, m->literal->str, m->literal->len, &error) < 0) {
		delivery_abort(&m->d);
	}
	for (size_t i = 0; m->catenate != NULL && m->d != NULL && i < m->catenate->count; i += 2) {
		const struct imap_arg *v = &m->catenate->list[i + 1];
		struct imap_url u;
		int ret;

		if (v->type == IMAP_ARG_LITERAL) {
			if (delivery_write(m->d, v->str, v->len, &error) < 0)
				delivery_abort(&m->d);
			continue;
		}
		ret = imap_url_parse(imap_arg_astring(v), &u) < 0 || url_mailbox_mutf7(&u) < 0
		          ? -1
		          : imap_url_write(s->user, &u, m->d, &error);
		imap_url_free(&u);
		if (ret == -1) {
			struct buf b = BUF_INIT;

			imap_append_astring(&b, imap_arg_astring(v));
			imap_reply(s, tag, "NO", "[BADURL %s] Bad URL.", b.data);
			buf_free(&b);
			return -1;
		}
		if (ret < 0)
			delivery_abort(&m->d);
	}
	if (m->d == NULL) {
		if (error != NULL)
			log_error(s->sid, "event=imap.append_spool_failed error=\"%s\"", error);
		imap_reply(s, tag, "NO", "[SERVERBUG] Cannot store the message.");
		return -1;
	}
	if (delivery_size(m->d) == 0) {
		imap_reply(s, tag, "NO", "Empty message.");
		return -1;
	}
	/* CATENATE's URL parts can make it bigger than any literal may be
	   (RFC 4469 5: TOOBIG) */
	if (delivery_size(m->d) > imap_settings(s->server->settings)->max_literal_size) {
		imap_reply(s, tag, "NO", "[TOOBIG] Message too large.");
		return -1;
	}
	return 0;
}

static void append_work(void *arg)
{
	struct append_job *job = arg;

	if (job->msgs[job->next].append != NULL)
		mail_append_commit(job->msgs[job->next].append);
}

/* All or nothing: the messages stored before one failed are expunged
   again. */
static void remove_stored(struct imap_session *s, struct append_job *job)
{
	struct mailbox *box;
	uint32_t *uids = xcalloc(job->count, sizeof(*uids)), *seqs = NULL;
	size_t n = 0, gone = 0;
	const char *error;

	for (size_t i = 0; i < job->count; i++) {
		if (job->msgs[i].uid != 0)
			uids[n++] = job->msgs[i].uid;
	}
	if (n > 0 && mailbox_open(s->user, job->mailbox, false, &box, &error) == 0) {
		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
			for (size_t k = 0; k < n; k++) {
				if (mailbox_msg(box, seq)->uid == uids[k])
					(void)mailbox_update_flags(box, seq, MAIL_FLAGS_ADD,
					                           MAIL_DELETED, &error);
			}
		}
		if (mailbox_expunge_uids(box, uids, n, &seqs, &gone, &error) < 0 || gone != n)
			log_error(s->sid,
			          "event=imap.append_rollback_failed stored=%zu removed=%zu", n,
			          gone);
		free(seqs);
		mailbox_close(&box);
	}
	free(uids);
}

/* "uid" or the set "a:b,c" of the stored UIDs (ascending, as assigned). */
static void append_uid_set(struct buf *b, const struct append_job *job)
{
	for (size_t i = 0; i < job->count;) {
		size_t j = i;

		while (j + 1 < job->count && job->msgs[j + 1].uid == job->msgs[j].uid + 1)
			j++;
		buf_printf(b, "%s%u", i > 0 ? "," : "", job->msgs[i].uid);
		if (j > i)
			buf_printf(b, ":%u", job->msgs[j].uid);
		i = j + 1;
	}
}

/* REPLACE's second half (RFC 8508 3.3): the old message goes. */
static void replace_expunge(struct imap_session *s, uint32_t uid)
{
	uint32_t *seqs = NULL, *gone = NULL;
	size_t n = 0;
	const char *error;

	for (uint32_t seq = 1; s->box != NULL && seq <= mailbox_count(s->box); seq++) {
		if (mailbox_msg(s->box, seq)->uid != uid)
			continue;
		if (mailbox_update_flags(s->box, seq, MAIL_FLAGS_ADD, MAIL_DELETED, &error) < 0 ||
		    mailbox_expunge_uids_report(s->box, &uid, 1, &seqs, &gone, &n, &error) < 0)
			log_warn(s->sid, "event=imap.replace_expunge_failed error=\"%s\"", error);
		break;
	}
	imap_send_expunges(s, seqs, gone, n);
	free(seqs);
	free(gone);
}

static void job_free(struct append_job *job)
{
	msgs_free(job->msgs, job->count);
	free(job->tag);
	free(job->mailbox);
	free(job);
}

/* Back on the loop, the messages durable (or not stored): UIDs, flags, the
   answer. Finished even if the client went away meanwhile (the session
   lives until the release). */
static void append_done(void *arg);

/* The answer, all messages committed and finished (or failed). */
static void append_answer(struct append_job *job, uint32_t uidvalidity)
{
	struct imap_session *s = job->s;
	struct buf set = BUF_INIT;

	if (job->failed) {
		remove_stored(s, job);
		imap_reply(s, job->tag, "NO", "[SERVERBUG] Cannot store the message.");
		return;
	}
	append_uid_set(&set, job);
	imap_notify_changed(s);
	log_info(s->sid, "event=imap.append uid=%s count=%zu", set.data, job->count);
	if (job->replace_uid != 0) {
		imap_printf(s, "* OK [APPENDUID %u %s] Replacement stored.\r\n", uidvalidity,
		            set.data);
		replace_expunge(s, job->replace_uid);
		imap_reply(s, job->tag, "OK", "Replace completed.");
	} else {
		imap_reply(s, job->tag, "OK", "[APPENDUID %u %s] Append completed.", uidvalidity,
		           set.data);
	}
	buf_free(&set);
}

/* Back on the loop, message job->next durable (or not stored): its UID
   and flags; then the next message's commit, or the answer. Finished even
   if the client went away meanwhile (the session lives until the
   release). A failed message does not stop the others (each begun append
   must be finished): they are removed again at the end. */
static void append_done(void *arg)
{
	struct append_job *job = arg;
	struct imap_session *s = job->s;
	struct append_msg *m = &job->msgs[job->next];
	uint32_t uidvalidity = 0;
	const char *error = NULL;

	if (m->append == NULL) {
		job->failed = true;
	} else if (mail_user_append_finish(&m->append, m->flags, (const char *const *)m->keywords,
	                                   m->kw_count, &uidvalidity, &m->uid, &error) < 0) {
		log_error(s->sid, "event=imap.append_failed error=\"%s\"", error);
		job->failed = true;
	}
	if (++job->next < job->count) {
		workpool_submit(s->server->pool, append_work, append_done, job);
		return;
	}
	append_answer(job, uidvalidity);
	job_free(job);
	(void)imap_session_release(s);
}

/* The shared half of APPEND and REPLACE: args[0] the mailbox, then the
   messages. Replies unless it submits the job. */
static void append_run(struct imap_session *s, const struct imap_cmd *cmd,
                       const struct imap_arg *args, size_t count, uint32_t replace_uid)
{
	const char *mailbox = count > 0 ? imap_mailbox_arg(s, &args[0]) : NULL;
	struct append_job *job;
	struct append_msg *msgs = NULL;
	size_t n = 0, streamed = 0;
	const char *error;

	if (mailbox == NULL ||
	    parse_msgs(args + 1, count - 1, replace_uid != 0, s->utf8_accept, &msgs, &n) < 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		msgs_free(msgs, n);
		return;
	}
	if (!mail_user_mailbox_exists(s->user, mailbox)) {
		imap_reply(s, cmd->tag, "NO", "[TRYCREATE] Mailbox doesn't exist.");
		msgs_free(msgs, n);
		return;
	}
	uint64_t total = 0; /* quota */

	for (size_t i = 0; i < n; i++) {
		if (build_delivery(s, cmd->tag, &msgs[i], &streamed) < 0) {
			msgs_free(msgs, n);
			return;
		}
		total += delivery_size(msgs[i].d);
	}
	/* quota (RFC 9208 NO [OVERQUOTA]), before anything is linked */
	if (imap_quota_allows(s, cmd->tag, total, n) < 0) {
		msgs_free(msgs, n);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	*job = (struct append_job){.s = s,
	                           .tag = xstrdup(cmd->tag),
	                           .mailbox = xstrdup(mailbox),
	                           .msgs = msgs,
	                           .count = n,
	                           .replace_uid = replace_uid};
	/* begin takes the delivery (on failure too); a message that could
	   not begin makes the job fail and remove the others */
	for (size_t i = 0; i < n; i++) {
		struct delivery *d = msgs[i].d;

		msgs[i].d = NULL;
		if (mail_user_append_begin(s->user, mailbox, d, msgs[i].date, &msgs[i].append,
		                           &error) < 0) {
			log_error(s->sid, "event=imap.append_failed error=\"%s\"", error);
			msgs[i].append = NULL;
			break;
		}
	}
	/* The fsyncs run on a worker; the session reads no command meanwhile
	   and the tagged OK goes out only once the messages are durable. */
	imap_session_hold(s);
	workpool_submit(s->server->pool, append_work, append_done, job);
}

void cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
	append_run(s, cmd, cmd->args, cmd->count, 0);
	imap_append_abort(s);
}

/* RFC 8508: REPLACE msg mailbox message; UID REPLACE uid ... */
void cmd_replace(struct imap_session *s, const struct imap_cmd *cmd)
{
	uint64_t n;
	uint32_t uid = 0;

	if (cmd->count < 3 || imap_arg_number(&cmd->args[0], &n) < 0 || n == 0 || n > UINT32_MAX ||
	    (!cmd->uid && n > mailbox_count(s->box))) {
		imap_append_abort(s);
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (mailbox_is_readonly(s->box)) {
		imap_append_abort(s);
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	for (uint32_t seq = 1; seq <= mailbox_count(s->box) && uid == 0; seq++) {
		if (cmd->uid ? mailbox_msg(s->box, seq)->uid == n : seq == n)
			uid = mailbox_msg(s->box, seq)->uid;
	}
	if (uid == 0) {
		imap_append_abort(s);
		imap_reply(s, cmd->tag, "NO", "[NONEXISTENT] No such message.");
		return;
	}
	append_run(s, cmd, cmd->args + 1, cmd->count - 1, uid);
	imap_append_abort(s);
}
