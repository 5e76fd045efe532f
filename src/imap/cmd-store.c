/* STORE and UID STORE (RFC 3501 6.4.6). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-condstore.h"
#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "imap/imap-slice.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

/* The flags argument(s): a list, or flags as separate atoms. Keywords go
   to *keywords (slices of args). -1 bad syntax; -2 more keywords than a
   mailbox can hold (MAIL_KEYWORDS_MAX). */
static int parse_flags(const struct imap_arg *args, size_t count, unsigned *flags_r,
                       const char **keywords, size_t *kw_count_r)
{
	*flags_r = 0;
	*kw_count_r = 0;
	if (count == 1 && args[0].type == IMAP_ARG_LIST) {
		count = args[0].count;
		args = args[0].list;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = imap_arg_atom(&args[i]);
		int ret = name == NULL ? -1 : imap_flag_parse(name, flags_r);

		if (ret < 0)
			return -1;
		if (ret == 1 && *kw_count_r == MAIL_KEYWORDS_MAX)
			return -2;
		if (ret == 1)
			keywords[(*kw_count_r)++] = name;
	}
	return 0;
}

static int parse_mode(const char *item, enum mail_flags_mode *mode_r, bool *silent_r)
{
	size_t len = strlen(item);

	*silent_r = len > 7 && strcasecmp(item + len - 7, ".SILENT") == 0;
	if (*silent_r)
		len -= 7;
	if (len == 5 && strncasecmp(item, "FLAGS", 5) == 0)
		*mode_r = MAIL_FLAGS_REPLACE;
	else if (len == 6 && strncasecmp(item, "+FLAGS", 6) == 0)
		*mode_r = MAIL_FLAGS_ADD;
	else if (len == 6 && strncasecmp(item, "-FLAGS", 6) == 0)
		*mode_r = MAIL_FLAGS_REMOVE;
	else
		return -1;
	return 0;
}

/* A STORE in progress: one message at a time, in slices (imap-slice.h). */
struct store_run {
	struct imap_session *s;
	char *tag;
	struct imap_seqset set;
	bool uid, silent, failed;
	bool conditional; /* UNCHANGEDSINCE given (RFC 7162 3.1.3) */
	uint64_t unchangedsince;
	ARRAY(uint32_t) modified; /* messages that failed it (seqs, or UIDs) */
	struct mail_flag_change change;
	uint32_t next; /* the next sequence number to look at */
};

static int store_one(struct imap_session *s, struct store_run *run, uint32_t seq)
{
	const struct mail_msg *msg;
	const char *error;
	struct buf b = BUF_INIT;

	/* Applied to the message's current flags, not this view's copy
	   (another session may have changed them since our last sync). */
	int ret = run->conditional ? mailbox_change_flags_unchangedsince(
	                                 s->box, seq, &run->change, run->unchangedsince, &error)
	                           : mailbox_change_flags(s->box, seq, &run->change, &error);

	if (ret < 0) {
		log_warn(s->sid, "event=imap.set_flags_failed error=\"%s\"", error);
		return -1;
	}
	msg = mailbox_msg(s->box, seq);
	if (ret == MAIL_FLAGS_MODIFIED) {
		array_append(&run->modified, run->uid ? msg->uid : seq);
		return 0;
	}
	/* RFC 7162 3.1.3: with UNCHANGEDSINCE the FETCH (MODSEQ) goes out
	   even for .SILENT */
	if (run->silent && !run->conditional)
		return 0;
	buf_printf(&b, "* %u FETCH (", seq);
	if (run->uid || s->condstore)
		buf_printf(&b, "UID %u ", msg->uid);
	if (!run->silent) {
		buf_append_str(&b, "FLAGS ");
		imap_session_msg_flags(s, &b, msg);
		imap_append_modseq(s, &b, seq);
	} else {
		buf_printf(&b, "MODSEQ (%llu)", (unsigned long long)msg->modseq);
	}
	buf_append_str(&b, ")\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	return 0;
}

static bool store_matches(const struct store_run *run, uint32_t seq)
{
	if (run->uid)
		return imap_seqset_contains(&run->set, mailbox_msg(run->s->box, seq)->uid);
	return imap_seqset_contains(&run->set, seq);
}

/* Each message is its own index transaction (mailbox_update_flags()), so a
   slice may end between any two. */
static int store_step(void *arg, uint64_t deadline)
{
	struct store_run *run = arg;
	struct imap_session *s = run->s;

	for (; run->next <= mailbox_count(s->box); run->next++) {
		if (!store_matches(run, run->next))
			continue;
		if (imap_slice_now_usec() >= deadline)
			return 0;
		if (store_one(s, run, run->next) < 0)
			run->failed = true;
	}
	imap_notify_changed(s);
	if (run->modified.count > 0 && !run->failed) {
		struct buf b = BUF_INIT;

		buf_append_str(&b, "[MODIFIED ");
		imap_seqset_format(&b, run->modified.items, run->modified.count);
		imap_reply(s, run->tag, "OK", "%s] Conditional store failed.", buf_cstr(&b));
		buf_free(&b);
	} else if (run->failed)
		imap_reply(s, run->tag, "NO", "[SERVERBUG] Some flags could not be stored.");
	else
		imap_reply(s, run->tag, "OK", "Store completed.");
	return 1;
}

static void store_run_free(void *arg)
{
	struct store_run *run = arg;

	imap_seqset_free(&run->set);
	array_free(&run->modified);
	free(run->tag);
	free(run);
}

/* The mask of the keywords of a STORE, new ones added to the mailbox
   (except for -FLAGS, which cannot need them) and announced with FLAGS
   before any FETCH shows them. -1 with the reply sent. */
static int store_keywords(struct imap_session *s, const char *tag, enum mail_flags_mode mode,
                          const char **keywords, size_t count, uint64_t *mask_r)
{
	const char *error;
	int ret;

	*mask_r = 0;
	if (count == 0)
		return 0;
	if (mode == MAIL_FLAGS_REMOVE) {
		for (size_t i = 0; i < count; i++) {
			int idx = mailbox_keyword_find(s->box, keywords[i]);
			if (idx >= 0)
				*mask_r |= (uint64_t)1 << idx;
		}
		return 0;
	}
	ret = mailbox_keywords_get(s->box, keywords, count, mask_r, &error);
	if (ret == MAIL_KEYWORDS_FULL) {
		imap_reply(s, tag, "NO", "[LIMIT] Too many keywords in this mailbox.");
		return -1;
	}
	if (ret < 0) {
		log_warn(s->sid, "event=imap.keywords_failed error=\"%s\"", error);
		imap_reply(s, tag, "NO", "[SERVERBUG] Keywords cannot be stored.");
		return -1;
	}
	imap_announce_keywords(s);
	return 0;
}

void cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
	/* STORE set [(UNCHANGEDSINCE n)] item flags (RFC 7162 3.1.3) */
	bool conditional = cmd->count >= 4 && cmd->args[1].type == IMAP_ARG_LIST;
	size_t at = conditional ? 2 : 1;
	uint64_t unchangedsince = 0;
	const char *item = cmd->count >= at + 2 ? imap_arg_atom(&cmd->args[at]) : NULL;
	const char *keywords[MAIL_KEYWORDS_MAX];
	struct store_run *run;
	enum mail_flags_mode mode;
	unsigned flags;
	size_t kw_count;
	uint64_t kw_mask = 0;
	bool silent;
	const char *error;
	int ret = -1;

	if (conditional &&
	    imap_store_mods_parse(&cmd->args[1], &unchangedsince, &conditional, &error) < 0)
		item = NULL;
	if (item == NULL || parse_mode(item, &mode, &silent) < 0 ||
	    (ret = parse_flags(&cmd->args[at + 1], cmd->count - at - 1, &flags, keywords,
	                       &kw_count)) < 0) {
		if (ret == -2)
			imap_reply(s, cmd->tag, "NO", "[LIMIT] Too many keywords.");
		else
			imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	run = xcalloc(1, sizeof(*run));
	if (imap_cmd_seqset(s, cmd, &cmd->args[0], &run->set) < 0) {
		free(run);
		return;
	}
	if (mailbox_is_readonly(s->box)) {
		imap_seqset_free(&run->set);
		free(run);
		imap_reply(s, cmd->tag, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (store_keywords(s, cmd->tag, mode, keywords, kw_count, &kw_mask) < 0) {
		imap_seqset_free(&run->set);
		free(run);
		return;
	}
	run->s = s;
	run->tag = xstrdup(cmd->tag);
	run->uid = cmd->uid;
	run->silent = silent;
	run->conditional = conditional;
	run->unchangedsince = unchangedsince;
	if (conditional)
		s->condstore = true; /* RFC 7162 3.1 */
	run->change = (struct mail_flag_change){mode, flags, mode, kw_mask};
	run->next = 1;
	imap_slice_run(s, store_step, store_run_free, run);
}
