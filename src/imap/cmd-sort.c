/* SORT and THREAD, UID SORT and UID THREAD (RFC 5256, RFC 5957's
   DISPLAYFROM/DISPLAYTO), with ESORT's RETURN options (RFC 5267). The
   search runs through cmd-search.c's engine (imap-search.h); the header
   fields come from the SEARCH header cache of the index
   (imap-search-headers.h), the file being parsed only for messages whose
   entry is missing (or older than References coverage), and the entry
   made then is stored. The keys and the algorithms are pure:
   imap-sort.h, imap-thread.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imap-private.h"
#include "imap/imap-search-headers.h"
#include "imap/imap-search.h"
#include "imap/imap-seqset.h"
#include "imap/imap-sort.h"
#include "imap/imap-thread.h"
#include "lib/xalloc.h"
#include "store/mail-msg.h"
#include "store/mailbox.h"

/* Messages whose header cache is read (and written) in one index query. */
#define SORT_WINDOW 256

enum hdr { H_SUBJECT, H_FROM, H_TO, H_CC, H_DATE, H_MSGID, H_REFS, H_IRT, H_COUNT };
static const char *const hdr_names[H_COUNT] = {
    "Subject", "From", "To", "Cc", "Date", "Message-ID", "References", "In-Reply-To",
};

/* The fields of one message: malloc'ed, NULL when absent. */
struct msg_headers {
	char *v[H_COUNT];
};

/* What one gather cost (logged: the figure of docs/imap.md). */
struct gather_stats {
	size_t cached, parsed;
	uint64_t usec;
};

struct sort_cmd {
	bool thread;
	enum imap_thread_alg alg;
	struct imap_sort_crit crits[IMAP_SORT_MAX_CRITS];
	size_t ncrits;
	unsigned opts; /* RETURN options; 0: a plain "* SORT" */
	bool uid;
	/* the fields of the matching messages, gathered in slices */
	struct msg_headers *h;
	size_t next; /* h[0..next) are gathered */
	struct gather_stats st;
};

static void headers_free(struct msg_headers *h)
{
	for (int i = 0; i < H_COUNT; i++)
		free(h->v[i]);
	memset(h, 0, sizeof(*h));
}

/* Fill h from a header cache entry; -1 if it is not a valid entry or was
   made before References was covered (the file is read instead). */
static int headers_from_entry(const char *data, size_t len, struct msg_headers *h)
{
	const char *v;
	size_t vlen;

	if (imap_search_headers_first(data, len, IMAP_SEARCH_HEADER_REFERENCES, &v, &vlen) != 1)
		return -1;
	for (int i = 0; i < H_COUNT; i++) {
		int code = i == H_REFS ? IMAP_SEARCH_HEADER_REFERENCES
		                       : imap_search_header_code(hdr_names[i]);

		if (imap_search_headers_first(data, len, code, &v, &vlen) == 1)
			h->v[i] = xstrndup(v, vlen);
	}
	return 0;
}

/* Parse message seq's header and render its cache entry into slot
   (malloc'ed, stored by the caller); the fields into h. A message gone or
   unreadable keeps h empty (it sorts as if it had no fields). */
static void headers_from_file(struct imap_session *s, uint32_t seq, struct mail_cache_value *slot,
                              struct msg_headers *h)
{
	struct mail_msg_reader *reader = NULL;
	const struct mime_part *hdr;
	const char *error;
	struct buf b = BUF_INIT;

	if (mail_msg_open(s->box, seq, &reader, &error) <= 0 ||
	    mail_msg_header(reader, &hdr, &error) < 0) {
		mail_msg_close(&reader);
		return;
	}
	imap_search_headers_render(hdr, &b);
	mail_msg_close(&reader);
	slot->len = b.len;
	slot->data = buf_steal(&b);
	(void)headers_from_entry(slot->data, slot->len, h);
}

/* Store the entries made in the window (marked in fresh), then free it. */
static void window_done(struct imap_session *s, uint32_t first, uint32_t count,
                        struct mail_cache *win, const bool *fresh)
{
	struct mail_cache *store = xcalloc(count + 1, sizeof(*store));
	bool any = false;
	const char *error;

	for (uint32_t i = 0; i < count; i++) {
		if (fresh[i]) {
			store[i].field[MAIL_CACHE_SEARCH_HEADERS] =
			    win[i].field[MAIL_CACHE_SEARCH_HEADERS];
			any = true;
		}
	}
	if (any && mailbox_cache_set(s->box, first, count, store, &error) < 0)
		log_warn(s->sid, "event=imap.sort_cache_failed error=\"%s\"", error);
	free(store);
	for (uint32_t i = 0; i < count; i++)
		mail_cache_free(&win[i]);
}

/* Gather the fields of the window of messages starting at seqs[*i] into
   h[*i..], advancing *i past it. */
static void gather_window(struct imap_session *s, const uint32_t *seqs, size_t n, size_t *i,
                          struct msg_headers *h, struct gather_stats *st)
{
	uint32_t total = mailbox_count(s->box), first = seqs[*i];
	uint32_t count = total - first + 1 < SORT_WINDOW ? total - first + 1 : SORT_WINDOW;
	struct mail_cache *win = xcalloc(count, sizeof(*win));
	bool *fresh = xcalloc(count, sizeof(*fresh));
	bool ok = true;
	const char *error;

	if (mailbox_cache_get(s->box, first, count, win, &error) < 0) {
		log_warn(s->sid, "event=imap.sort_cache_failed error=\"%s\"", error);
		ok = false;
	}
	for (; *i < n && seqs[*i] < first + count; (*i)++) {
		struct mail_cache_value *slot =
		    &win[seqs[*i] - first].field[MAIL_CACHE_SEARCH_HEADERS];

		if (slot->data != NULL && headers_from_entry(slot->data, slot->len, &h[*i]) == 0) {
			st->cached++;
			continue;
		}
		headers_free(&h[*i]);
		free(slot->data);
		slot->data = NULL;
		headers_from_file(s, seqs[*i], slot, &h[*i]);
		fresh[seqs[*i] - first] = ok && slot->data != NULL;
		st->parsed++;
	}
	window_done(s, first, count, win, fresh);
	free(win);
	free(fresh);
}

/* modseq: the highest of the matches when a MODSEQ key was used (RFC 7162
   3.1.5 answers it after the numbers, or as ESEARCH's MODSEQ), else 0. */
static void write_sort(struct imap_session *s, const char *tag, const struct sort_cmd *c,
                       const uint32_t *seqs, size_t n, const struct msg_headers *h, uint64_t modseq)
{
	struct imap_sort_msg *m = xcalloc(n + 1, sizeof(*m));
	uint32_t *nums = xcalloc(n + 1, sizeof(*nums));
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct mail_msg *msg = mailbox_msg(s->box, seqs[i]);

		m[i].seq = seqs[i];
		m[i].uid = msg->uid;
		m[i].size = msg->size;
		m[i].arrival = (int64_t)msg->internaldate;
		imap_sort_msg_fill(&m[i], c->crits, c->ncrits, h[i].v[H_SUBJECT], h[i].v[H_FROM],
		                   h[i].v[H_TO], h[i].v[H_CC], h[i].v[H_DATE]);
	}
	imap_sort_messages(m, n, c->crits, c->ncrits);
	for (size_t i = 0; i < n; i++) {
		nums[i] = c->uid ? m[i].uid : m[i].seq;
		imap_sort_msg_free(&m[i]);
	}
	if (c->opts & IMAP_RETURN_SAVE) {
		/* the whole result, as a set (SEARCHRES has no order) */
		imap_searchres_set(s, NULL, 0);
		if (n > 0) {
			uint32_t *uids = xcalloc(n, sizeof(*uids));

			for (size_t i = 0; i < n; i++)
				uids[i] = mailbox_msg(s->box, seqs[i])->uid;
			imap_searchres_set(s, uids, n);
			free(uids);
		}
	}
	if (c->opts != 0) {
		imap_esearch_write(s, tag, c->uid, c->opts, nums, n, modseq);
	} else {
		buf_append_str(&b, "* SORT");
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, " %u", nums[i]);
		if (modseq > 0 && n > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)modseq);
		buf_append_str(&b, "\r\n");
		imap_write(s, b.data, b.len);
	}
	buf_free(&b);
	free(nums);
	free(m);
}

static void write_thread(struct imap_session *s, const struct sort_cmd *c, const uint32_t *seqs,
                         size_t n, const struct msg_headers *h)
{
	struct imap_thread_msg *m = xcalloc(n + 1, sizeof(*m));
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct mail_msg *msg = mailbox_msg(s->box, seqs[i]);

		m[i].id = c->uid ? msg->uid : seqs[i];
		m[i].message_id = h[i].v[H_MSGID];
		m[i].references = h[i].v[H_REFS];
		m[i].in_reply_to = h[i].v[H_IRT];
		m[i].subject = h[i].v[H_SUBJECT];
		if (imap_sort_parse_date(h[i].v[H_DATE], &m[i].date) < 0)
			m[i].date = (int64_t)msg->internaldate;
	}
	buf_append_str(&b, "* THREAD");
	if (n > 0)
		buf_append_char(&b, ' ');
	imap_thread(c->alg, m, n, &b);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	free(m);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* imap_search_step_fn: gather the matching messages' fields, a window of
   the index at a time, until the deadline. */
static int sort_step(struct imap_session *s, const uint32_t *seqs, size_t n, void *ctx,
                     uint64_t deadline_usec)
{
	struct sort_cmd *c = ctx;
	uint64_t start = now_usec();

	if (c->h == NULL)
		c->h = xcalloc(n + 1, sizeof(*c->h));
	while (c->next < n) {
		gather_window(s, seqs, n, &c->next, c->h, &c->st);
		if (c->next < n && now_usec() >= deadline_usec) {
			c->st.usec += now_usec() - start;
			return 0;
		}
	}
	c->st.usec += now_usec() - start;
	return 1;
}

static void sort_done(struct imap_session *s, const char *tag, const uint32_t *seqs, size_t n,
                      uint64_t modseq, void *ctx)
{
	struct sort_cmd *c = ctx;
	uint64_t start = now_usec();

	if (c->thread)
		write_thread(s, c, seqs, n, c->h);
	else
		write_sort(s, tag, c, seqs, n, c->h, modseq);
	log_info(s->sid,
	         "event=imap.%s messages=%zu cached=%zu parsed=%zu fields_usec=%llu "
	         "order_usec=%llu",
	         c->thread ? "thread" : "sort", n, c->st.cached, c->st.parsed,
	         (unsigned long long)c->st.usec, (unsigned long long)(now_usec() - start));
	imap_reply(s, tag, "OK", c->thread ? "Thread completed." : "Sort completed.");
}

static void sort_cmd_free(void *ctx)
{
	struct sort_cmd *c = ctx;

	for (size_t i = 0; c->h != NULL && i < c->next; i++)
		headers_free(&c->h[i]);
	free(c->h);
	free(c);
}

/* The criteria list of SORT into c; 0 or -1. */
static int parse_crits(const struct imap_arg *arg, struct sort_cmd *c)
{
	const char *names[IMAP_SORT_MAX_CRITS * 2];
	int n;

	if (arg->type != IMAP_ARG_LIST || arg->count == 0 || arg->count > IMAP_SORT_MAX_CRITS * 2)
		return -1;
	for (size_t i = 0; i < arg->count; i++) {
		if ((names[i] = imap_arg_atom(&arg->list[i])) == NULL)
			return -1;
	}
	if ((n = imap_sort_parse(names, arg->count, c->crits)) < 0)
		return -1;
	c->ncrits = (size_t)n;
	return 0;
}

/* After the criteria or the algorithm: the charset, then the keys. */
static void start(struct imap_session *s, const struct imap_cmd *cmd, size_t pos,
                  struct sort_cmd *c)
{
	if (pos >= cmd->count) {
		free(c);
		imap_reply_bad(s, cmd->tag, "Missing charset.");
		return;
	}
	if (!imap_search_charset_ok(imap_arg_astring(&cmd->args[pos]))) {
		free(c);
		imap_reply(s, cmd->tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.");
		return;
	}
	pos++;
	if (imap_search_start(s, cmd, pos < cmd->count ? cmd->args + pos : NULL, cmd->count - pos,
	                      sort_step, sort_done, c, sort_cmd_free) < 0) {
		free(c);
		imap_reply_bad(s, cmd->tag, "Invalid or unsupported search key.");
	}
}

void cmd_sort(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct sort_cmd *c = xcalloc(1, sizeof(*c));
	const char *word;
	size_t pos = 0;

	c->uid = cmd->uid;
	/* RFC 5267: SORT RETURN (options) (criteria) charset keys */
	if (cmd->count >= 2 && (word = imap_arg_atom(&cmd->args[0])) != NULL &&
	    strcasecmp(word, "RETURN") == 0) {
		if (imap_search_return_parse(&cmd->args[1], &c->opts) < 0) {
			free(c);
			imap_reply_bad(s, cmd->tag, "Invalid RETURN options.");
			return;
		}
		pos = 2;
	}
	if (pos >= cmd->count || parse_crits(&cmd->args[pos], c) < 0) {
		free(c);
		imap_reply_bad(s, cmd->tag, "Invalid sort criteria.");
		return;
	}
	start(s, cmd, pos + 1, c);
}

void cmd_thread(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct sort_cmd *c = xcalloc(1, sizeof(*c));
	const char *alg = cmd->count > 0 ? imap_arg_atom(&cmd->args[0]) : NULL;

	c->uid = cmd->uid;
	c->thread = true;
	if (alg == NULL || imap_thread_alg_parse(alg, &c->alg) < 0) {
		free(c);
		imap_reply_bad(s, cmd->tag, "Unknown threading algorithm.");
		return;
	}
	start(s, cmd, 1, c);
}
