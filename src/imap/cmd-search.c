/* SEARCH and UID SEARCH (RFC 3501 6.4.4): flag keys, sequence and UID
   sets, LARGER/SMALLER, NOT, OR and parenthesised groups, dates
   (SINCE/BEFORE/ON on INTERNALDATE, SENT* on the Date: header), header
   keys (HEADER, SUBJECT, FROM, TO, CC, BCC) and BODY/TEXT. Contents are
   searched naively: each message file is read when a key needs it, as
   stored (no MIME decoding, no charset conversion; substring match
   ignoring ASCII case). An FTS index is the later optimisation. Header
   keys on the ENVELOPE's fields read the SEARCH header cache of the index
   instead (imap-search-headers.h), filling it from the file when empty. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imap-date.h"
#include "imap/imap-fetch.h"
#include "imap/imap-condstore.h"
#include "imap/imap-private.h"
#include "imap/imap-search.h"
#include "imap/imap-search-headers.h"
#include "imap/imap-seqset.h"
#include "lib/array.h"
#include "lib/xalloc.h"
#include "mime/mime-parser.h"
#include "store/mail-msg.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

/* Nesting of NOT/OR/() in one search. */
#define MAX_SEARCH_DEPTH 32
/* Longest search string. */
#define MAX_SEARCH_STRING 4096
#define SEARCH_CHUNK      (64 * 1024)
/* Messages whose cache is read (and written) in one index query. */
#define SEARCH_WINDOW 256

enum key_type {
	KEY_ALL,
	KEY_FLAG_SET,
	KEY_FLAG_CLEAR,
	KEY_SEQ,
	KEY_UID,
	KEY_LARGER,
	KEY_SMALLER,
	KEY_NOT,
	KEY_OR,
	KEY_AND,
	KEY_NONE,      /* KEYWORD of a keyword the mailbox does not have */
	KEY_KEYWORD,   /* keywords mask in n: any set */
	KEY_UNKEYWORD, /* none of n set */
	KEY_SINCE,     /* INTERNALDATE day >= n */
	KEY_BEFORE,    /* INTERNALDATE day < n */
	KEY_ON,        /* INTERNALDATE day == n */
	KEY_SENTSINCE, /* Date: header day */
	KEY_SENTBEFORE,
	KEY_SENTON,
	KEY_HEADER, /* field name in field, substring in text */
	KEY_BODY,   /* the body */
	KEY_TEXT,   /* header and body */
	KEY_MODSEQ, /* RFC 7162 3.1.5: modseq >= n */
	/* RFC 8474 6 and RFC 8514 */
	KEY_EMAILID,  /* EMAILID text */
	KEY_THREADID, /* THREADID text */
	KEY_SAVEDSINCE,
	KEY_SAVEDBEFORE,
	KEY_SAVEDON,
};

struct search_key {
	enum key_type type;
	unsigned flags;
	unsigned clear; /* KEY_FLAG_SET: flags that must also be clear */
	uint64_t n;
	struct imap_seqset set;
	char *field;                  /* KEY_HEADER (malloc'ed: a search outlives its
	                                 command line, see search_resume()) */
	char *text;                   /* KEY_HEADER, BODY, TEXT (malloc'ed) */
	int code;                     /* KEY_HEADER: imap_search_header_code() */
	ARRAY(struct search_key) sub; /* NOT, OR (two), AND (count) */
};

static const struct {
	const char *name;
	enum key_type type;
	unsigned flags;
} flag_keys[] = {
    {"ALL", KEY_ALL, 0},
    {"ANSWERED", KEY_FLAG_SET, MAIL_ANSWERED},
    {"DELETED", KEY_FLAG_SET, MAIL_DELETED},
    {"DRAFT", KEY_FLAG_SET, MAIL_DRAFT},
    {"FLAGGED", KEY_FLAG_SET, MAIL_FLAGGED},
    {"RECENT", KEY_FLAG_SET, MAIL_RECENT},
    {"SEEN", KEY_FLAG_SET, MAIL_SEEN},
    {"OLD", KEY_FLAG_CLEAR, MAIL_RECENT},
    {"UNANSWERED", KEY_FLAG_CLEAR, MAIL_ANSWERED},
    {"UNDELETED", KEY_FLAG_CLEAR, MAIL_DELETED},
    {"UNDRAFT", KEY_FLAG_CLEAR, MAIL_DRAFT},
    {"UNFLAGGED", KEY_FLAG_CLEAR, MAIL_FLAGGED},
    {"UNSEEN", KEY_FLAG_CLEAR, MAIL_SEEN},
};

static void key_free(struct search_key *key)
{
	for (size_t i = 0; i < key->sub.count; i++)
		key_free(&key->sub.items[i]);
	array_free(&key->sub);
	free(key->field);
	free(key->text);
	imap_seqset_free(&key->set);
}

struct compiler {
	struct imap_session *s;
	const struct imap_cmd *cmd;
	const struct imap_arg *args;
	size_t count, pos;
	unsigned depth;
};

static int compile_key(struct compiler *c, struct search_key *key);

static int compile_subs(struct compiler *c, struct search_key *key, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (compile_key(c, array_push(&key->sub)) < 0)
			return -1;
	}
	return 0;
}

static int compile_list(struct compiler *c, struct search_key *key, const struct imap_arg *list,
                        size_t count)
{
	struct compiler sub = {c->s, c->cmd, list, count, 0, c->depth};

	key->type = KEY_AND;
	while (sub.pos < sub.count) {
		if (compile_key(&sub, array_push(&key->sub)) < 0)
			return -1;
	}
	return key->sub.count == 0 ? -1 : 0;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162 3.1.5):
   the entry (a flag's own modseq) is accepted and ignored, as a server
   keeping one modseq per message may (3.1.5). Enables CONDSTORE. */
static int compile_modseq(struct compiler *c, struct search_key *key)
{
	key->type = KEY_MODSEQ;
	if (c->pos + 2 < c->count && c->args[c->pos].type == IMAP_ARG_STRING) {
		const char *type = imap_arg_atom(&c->args[c->pos + 1]);

		if (type == NULL ||
		    (strcasecmp(type, "priv") != 0 && strcasecmp(type, "shared") != 0 &&
		     strcasecmp(type, "all") != 0))
			return -1;
		c->pos += 2;
	}
	if (c->pos >= c->count || imap_modseq_parse(&c->args[c->pos++], &key->n) < 0)
		return -1;
	c->s->condstore = true;
	return 0;
}

static int compile_number(struct compiler *c, struct search_key *key, enum key_type type)
{
	key->type = type;
	if (c->pos >= c->count || imap_arg_number(&c->args[c->pos++], &key->n) < 0)
		return -1;
	return 0;
}

static int compile_set(struct compiler *c, struct search_key *key, const char *text, bool uid)
{
	uint32_t count = mailbox_count(c->s->box);
	uint32_t star = count;
	const char *error;

	if (strcmp(text, "$") == 0) {
		/* SEARCHRES (RFC 5182): the saved UIDs, whatever the key */
		key->type = KEY_UID;
		imap_searchres_seqset(c->s, true, &key->set);
		return 0;
	}
	if (uid)
		star = count == 0 ? 0 : mailbox_msg(c->s->box, count)->uid;
	key->type = uid ? KEY_UID : KEY_SEQ;
	return imap_seqset_parse(text, star, &key->set, &error);
}

/* The next argument as a string (astring or literal), malloc'ed. */
static char *next_string(struct compiler *c)
{
	const char *str;

	if (c->pos >= c->count || (str = imap_arg_astring(&c->args[c->pos++])) == NULL ||
	    strlen(str) > MAX_SEARCH_STRING)
		return NULL;
	return xstrdup(str);
}

static const struct {
	const char *name;
	enum key_type type;
} date_keys[] = {
    {"SINCE", KEY_SINCE},         {"BEFORE", KEY_BEFORE},         {"ON", KEY_ON},
    {"SENTSINCE", KEY_SENTSINCE}, {"SENTBEFORE", KEY_SENTBEFORE}, {"SENTON", KEY_SENTON},
};

static const char *const header_keys[] = {"SUBJECT", "FROM", "TO", "CC", "BCC"};

/* OBJECTID and SAVEDATE keys (RFC 8474 6, RFC 8514): 0, -1, or 1 if name is
   none of them. Every mailbox has save dates: SAVEDATESUPPORTED is ALL. */
static int compile_object_key(struct compiler *c, struct search_key *key, const char *name)
{
	static const struct {
		const char *name;
		enum key_type type;
	} saved[] = {{"SAVEDSINCE", KEY_SAVEDSINCE},
	             {"SAVEDBEFORE", KEY_SAVEDBEFORE},
	             {"SAVEDON", KEY_SAVEDON}};
	char *arg;
	int64_t day;
	int ret;

	if (strcasecmp(name, "SAVEDATESUPPORTED") == 0) {
		key->type = KEY_ALL;
		return 0;
	}
	if (strcasecmp(name, "EMAILID") == 0 || strcasecmp(name, "THREADID") == 0) {
		key->type = strcasecmp(name, "EMAILID") == 0 ? KEY_EMAILID : KEY_THREADID;
		return (key->text = next_string(c)) == NULL ? -1 : 0;
	}
	for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++) {
		if (strcasecmp(name, saved[i].name) != 0)
			continue;
		arg = next_string(c);
		ret = arg == NULL ? -1 : imap_parse_date(arg, &day);
		free(arg);
		if (ret < 0)
			return -1;
		key->type = saved[i].type;
		key->n = (uint64_t)day;
		return 0;
	}
	return 1;
}

/* The keys with a string or date argument; 1 if name is not one. */
static int compile_content(struct compiler *c, struct search_key *key, const char *name)
{
	char *arg;
	int64_t day;
	int ret;

	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++) {
		if (strcasecmp(name, date_keys[i].name) != 0)
			continue;
		arg = next_string(c);
		ret = arg == NULL ? -1 : imap_parse_date(arg, &day);
		free(arg);
		if (ret < 0)
			return -1;
		key->type = date_keys[i].type;
		key->n = (uint64_t)day;
		return 0;
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
		if (strcasecmp(name, header_keys[i]) == 0) {
			key->type = KEY_HEADER;
			key->field = xstrdup(header_keys[i]);
			key->code = imap_search_header_code(key->field);
			return (key->text = next_string(c)) == NULL ? -1 : 0;
		}
	}
	if (strcasecmp(name, "HEADER") == 0) {
		key->type = KEY_HEADER;
		if ((key->field = next_string(c)) == NULL)
			return -1;
		key->code = imap_search_header_code(key->field);
		return (key->text = next_string(c)) == NULL ? -1 : 0;
	}
	if (strcasecmp(name, "BODY") == 0 || strcasecmp(name, "TEXT") == 0) {
		key->type = strcasecmp(name, "BODY") == 0 ? KEY_BODY : KEY_TEXT;
		return (key->text = next_string(c)) == NULL ? -1 : 0;
	}
	if (strcasecmp(name, "KEYWORD") == 0 || strcasecmp(name, "UNKEYWORD") == 0) {
		bool set = strcasecmp(name, "KEYWORD") == 0;
		int idx;

		if ((arg = next_string(c)) == NULL)
			return -1;
		idx = mailbox_keyword_find(c->s->box, arg);
		free(arg);
		if (idx < 0) {
			/* a keyword no message of the mailbox has */
			key->type = set ? KEY_NONE : KEY_ALL;
			return 0;
		}
		key->type = set ? KEY_KEYWORD : KEY_UNKEYWORD;
		key->n = (uint64_t)1 << idx;
		return 0;
	}
	return compile_object_key(c, key, name);
}

static int compile_key(struct compiler *c, struct search_key *key)
{
	int ret;

	const struct imap_arg *arg;
	const char *name;

	if (c->pos >= c->count || ++c->depth > MAX_SEARCH_DEPTH)
		return -1;
	arg = &c->args[c->pos++];
	if (arg->type == IMAP_ARG_LIST)
		return compile_list(c, key, arg->list, arg->count);
	if ((name = imap_arg_atom(arg)) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		if (strcasecmp(name, flag_keys[i].name) == 0) {
			key->type = flag_keys[i].type;
			key->flags = flag_keys[i].flags;
			return 0;
		}
	}
	if (strcasecmp(name, "NEW") == 0) {
		/* RECENT UNSEEN */
		key->type = KEY_FLAG_SET;
		key->flags = MAIL_RECENT;
		key->clear = MAIL_SEEN;
		return 0;
	}
	if (strcasecmp(name, "NOT") == 0) {
		key->type = KEY_NOT;
		return compile_subs(c, key, 1);
	}
	if (strcasecmp(name, "OR") == 0) {
		key->type = KEY_OR;
		return compile_subs(c, key, 2);
	}
	if (strcasecmp(name, "MODSEQ") == 0)
		return compile_modseq(c, key);
	if (strcasecmp(name, "LARGER") == 0)
		return compile_number(c, key, KEY_LARGER);
	if (strcasecmp(name, "SMALLER") == 0)
		return compile_number(c, key, KEY_SMALLER);
	if (strcasecmp(name, "UID") == 0) {
		if (c->pos >= c->count || (name = imap_arg_atom(&c->args[c->pos++])) == NULL)
			return -1;
		return compile_set(c, key, name, true);
	}
	if ((ret = compile_content(c, key, name)) <= 0)
		return ret;
	return compile_set(c, key, name, false);
}

/* ---- matching message contents ---- */

/* One message, opened and its header parsed when a key first needs it. */
struct msg_data {
	struct imap_session *s;
	uint32_t seq;
	bool tried;
	struct mail_msg_reader *reader;
	uint64_t size;
	const struct mime_part *hdr; /* the top-level header only (reader's) */
	/* the SEARCH header cache of the message (the run's window), or NULL
	   when the search does not use it; data NULL: not cached */
	const struct mail_cache_value *cached;
};

static void msg_data_free(struct msg_data *m)
{
	mail_msg_close(&m->reader);
	m->hdr = NULL;
	m->tried = false;
}

/* Open the message by its key and parse its header; false if it is gone
   or cannot be read. */
static bool msg_data_load(struct msg_data *m)
{
	const char *error;

	if (m->tried)
		return m->hdr != NULL;
	m->tried = true;
	if (mail_msg_open(m->s->box, m->seq, &m->reader, &error) <= 0)
		return false;
	m->size = mail_msg_size(m->reader);
	if (mail_msg_header(m->reader, &m->hdr, &error) < 0)
		m->hdr = NULL;
	return m->hdr != NULL;
}

/* Stream the file from offset looking for text: chunks overlap by the
   needle's length so a match across two chunks is found. */
static bool file_contains(struct msg_data *m, uint64_t offset, const char *text)
{
	size_t nlen = strlen(text), keep = 0;
	char *buf = xmalloc(SEARCH_CHUNK + nlen + 1);
	bool found = nlen == 0;
	const char *error;

	while (!found && offset < m->size) {
		size_t want =
		    m->size - offset < SEARCH_CHUNK ? (size_t)(m->size - offset) : SEARCH_CHUNK;

		if (mail_msg_read(m->reader, offset, buf + keep, want, &error) < 0)
			break;
		offset += want;
		buf[keep + want] = '\0';
		/* strncasecmp stops at a NUL: binary bodies may hide a match
		   after one, which is acceptable for a naive search. */
		found = imap_search_contains(buf, keep + want, text, nlen);
		{
			size_t total = keep + want;

			keep = nlen - 1 < total ? nlen - 1 : total;
			memmove(buf, buf + total - keep, keep);
		}
	}
	free(buf);
	return found;
}

static bool header_matches(struct msg_data *m, const struct search_key *key)
{
	const char *field = key->field, *text = key->text;
	int ret;

	if (key->code >= 0 && m->cached != NULL && m->cached->data != NULL &&
	    (ret = imap_search_headers_match(m->cached->data, m->cached->len, key->code, text)) >=
	        0)
		return ret == 1;
	if (!msg_data_load(m))
		return false;
	for (size_t i = 0; i < m->hdr->fields.count; i++) {
		const struct mime_field *f = &m->hdr->fields.items[i];

		if (strcasecmp(f->name, field) == 0 &&
		    imap_search_value_matches(f->name, f->value, f->value_len, text))
			return true;
	}
	return false;
}

/* The day of the Date: header, else of INTERNALDATE (RFC 3501 leaves a
   missing or broken Date: open; Dovecot makes the same choice). */
static int64_t sent_day(struct msg_data *m, const struct mail_msg *msg)
{
	const struct mime_field *f;
	int64_t day;

	if (msg_data_load(m) && (f = mime_part_field(m->hdr, "Date")) != NULL &&
	    imap_parse_header_date(f->value, &day) == 0)
		return day;
	return imap_local_day((int64_t)msg->internaldate);
}

static bool match(struct msg_data *m, const struct search_key *key);

/* EMAILID, THREADID, SAVED*: the message's index values (mail-objects.h). */
static bool match_object(struct msg_data *m, const struct search_key *key)
{
	unsigned want = key->type == KEY_EMAILID    ? MAIL_OBJ_EMAILID
	                : key->type == KEY_THREADID ? MAIL_OBJ_THREADID
	                                            : 0;
	struct mail_objects obj;
	const char *error, *id;
	int64_t day, n = (int64_t)key->n;
	bool ret = false;

	if (mailbox_objects_get(m->s->box, m->seq, want, &obj, &error) <= 0)
		return false;
	day = imap_local_day(obj.savedate);
	id = key->type == KEY_EMAILID ? obj.emailid : obj.threadid;
	if (key->type == KEY_EMAILID || key->type == KEY_THREADID)
		ret = id != NULL && strcmp(id, key->text) == 0;
	else if (obj.savedate != 0)
		ret = key->type == KEY_SAVEDSINCE    ? day >= n
		      : key->type == KEY_SAVEDBEFORE ? day < n
		                                     : day == n;
	mail_objects_free(&obj);
	return ret;
}

static bool match_content(struct msg_data *m, const struct search_key *key,
                          const struct mail_msg *msg)
{
	int64_t n = (int64_t)key->n;

	switch (key->type) {
	case KEY_SINCE:
		return imap_local_day((int64_t)msg->internaldate) >= n;
	case KEY_BEFORE:
		return imap_local_day((int64_t)msg->internaldate) < n;
	case KEY_ON:
		return imap_local_day((int64_t)msg->internaldate) == n;
	case KEY_SENTSINCE:
		return sent_day(m, msg) >= n;
	case KEY_SENTBEFORE:
		return sent_day(m, msg) < n;
	case KEY_SENTON:
		return sent_day(m, msg) == n;
	case KEY_HEADER:
		return header_matches(m, key);
	case KEY_BODY:
		return msg_data_load(m) &&
		       file_contains(m, m->hdr->hdr.start + m->hdr->hdr.size, key->text);
	case KEY_TEXT:
		return msg_data_load(m) && file_contains(m, 0, key->text);
	case KEY_EMAILID:
	case KEY_THREADID:
	case KEY_SAVEDSINCE:
	case KEY_SAVEDBEFORE:
	case KEY_SAVEDON:
		return match_object(m, key);
	default:
		return false;
	}
}

static bool match(struct msg_data *m, const struct search_key *key)
{
	const struct mail_msg *msg = mailbox_msg(m->s->box, m->seq);
	bool all = true;

	switch (key->type) {
	case KEY_ALL:
		return true;
	case KEY_NONE:
		return false;
	case KEY_KEYWORD:
		return (msg->keywords & key->n) != 0;
	case KEY_UNKEYWORD:
		return (msg->keywords & key->n) == 0;
	case KEY_FLAG_SET:
		return (msg->flags & key->flags) == key->flags && (msg->flags & key->clear) == 0;
	case KEY_FLAG_CLEAR:
		return (msg->flags & key->flags) == 0;
	case KEY_SEQ:
		return imap_seqset_contains(&key->set, m->seq);
	case KEY_UID:
		return imap_seqset_contains(&key->set, msg->uid);
	case KEY_MODSEQ:
		return msg->modseq >= key->n;
	case KEY_LARGER:
		return msg->size > key->n;
	case KEY_SMALLER:
		return msg->size < key->n;
	case KEY_NOT:
		return !match(m, &key->sub.items[0]);
	case KEY_OR:
		return match(m, &key->sub.items[0]) || match(m, &key->sub.items[1]);
	case KEY_AND:
		for (size_t i = 0; i < key->sub.count && all; i++)
			all = match(m, &key->sub.items[i]);
		return all;
	default:
		return match_content(m, key, msg);
	}
}

/* A SEARCH in progress. Matching reads message files on the event loop
   (BODY, TEXT, headers): the search stops after SEARCH_SLICE_USEC of work
   and goes on at the next turn of the loop, so the other sessions of the
   role are served in between (docs/store.md). */
#define SEARCH_SLICE_USEC 5000

struct search_run {
	struct imap_session *s;
	struct search_key key;
	ARRAY(uint32_t) seqs; /* matched so far */
	bool modseq;          /* a MODSEQ key was used: answer "(MODSEQ n)" */
	uint64_t max_modseq;  /* the highest modseq of the matches */
	char *tag;
	imap_search_step_fn *step;
	imap_search_done_fn *done;
	void *ctx;
	void (*ctx_free)(void *ctx);
	uint32_t next; /* next sequence number to match */
	/* The SEARCH header cache of messages win_first.. (win_count), read
	   when a key can use it; fresh[i]: rendered here, to be stored. */
	bool use_cache;
	uint32_t win_first, win_count;
	struct mail_cache *win;
	bool *fresh;
};

/* Whether a key of the search can be answered from the header cache. */
static bool key_uses_cache(const struct search_key *key)
{
	if (key->type == KEY_HEADER)
		return key->code >= 0;
	for (size_t i = 0; i < key->sub.count; i++) {
		if (key_uses_cache(&key->sub.items[i]))
			return true;
	}
	return false;
}

static bool key_uses_modseq(const struct search_key *key)
{
	if (key->type == KEY_MODSEQ)
		return true;
	for (size_t i = 0; i < key->sub.count; i++) {
		if (key_uses_modseq(&key->sub.items[i]))
			return true;
	}
	return false;
}

static void window_free(struct search_run *run)
{
	for (uint32_t i = 0; i < run->win_count; i++)
		mail_cache_free(&run->win[i]);
	free(run->win);
	free(run->fresh);
	run->win = NULL;
	run->fresh = NULL;
	run->win_count = 0;
}

/* Store the header caches rendered in this window (one transaction), then
   drop the window. The cache is an optimisation: a failure is logged and
   the next search renders again. */
static void window_flush(struct search_run *run)
{
	struct mail_cache *store = xcalloc(run->win_count + 1, sizeof(*store));
	bool any = false;
	const char *error;

	for (uint32_t i = 0; i < run->win_count; i++) {
		if (run->fresh[i]) {
			store[i].field[MAIL_CACHE_SEARCH_HEADERS] =
			    run->win[i].field[MAIL_CACHE_SEARCH_HEADERS];
			any = true;
		}
	}
	if (any &&
	    mailbox_cache_set(run->s->box, run->win_first, run->win_count, store, &error) < 0)
		log_warn(run->s->sid, "event=imap.search_cache_failed error=\"%s\"", error);
	free(store);
	window_free(run);
}

/* The header cache slot of message seq, reading the window it starts
   when seq is outside the current one; NULL if the search does not use
   the cache or the index cannot be read. */
static struct mail_cache_value *window_slot(struct search_run *run, uint32_t seq)
{
	uint32_t count = mailbox_count(run->s->box);
	const char *error;

	if (!run->use_cache)
		return NULL;
	if (run->win_count == 0 || seq < run->win_first || seq >= run->win_first + run->win_count) {
		window_flush(run);
		run->win_first = seq;
		run->win_count = count - seq + 1 < SEARCH_WINDOW ? count - seq + 1 : SEARCH_WINDOW;
		run->win = xcalloc(run->win_count, sizeof(*run->win));
		run->fresh = xcalloc(run->win_count, sizeof(*run->fresh));
		if (mailbox_cache_get(run->s->box, seq, run->win_count, run->win, &error) < 0) {
			log_warn(run->s->sid, "event=imap.search_cache_failed error=\"%s\"", error);
			window_free(run);
			run->use_cache = false;
			return NULL;
		}
	}
	return &run->win[seq - run->win_first].field[MAIL_CACHE_SEARCH_HEADERS];
}

/* After matching message seq: if its header was parsed and its cache slot
   is empty, fill the slot (stored at the window's flush). */
static void window_fill(struct search_run *run, uint32_t seq, const struct msg_data *m,
                        struct mail_cache_value *slot)
{
	struct buf b = BUF_INIT;

	if (slot == NULL || slot->data != NULL || m->hdr == NULL)
		return;
	imap_search_headers_render(m->hdr, &b);
	slot->len = b.len;
	slot->data = buf_steal(&b);
	run->fresh[seq - run->win_first] = true;
}

static void search_run_free(struct search_run *run)
{
	window_free(run);
	key_free(&run->key);
	array_free(&run->seqs);
	if (run->ctx_free != NULL)
		run->ctx_free(run->ctx);
	free(run->tag);
	free(run);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Match messages until done (1) or the slice is used up (0). */
static int search_slice(struct search_run *run)
{
	struct imap_session *s = run->s;
	uint64_t end = now_usec() + SEARCH_SLICE_USEC;

	while (run->next <= mailbox_count(s->box)) {
		uint32_t seq = run->next++;
		struct mail_cache_value *slot = window_slot(run, seq);
		struct msg_data m = {s, seq, false, NULL, 0, NULL, slot};
		bool touched;

		if (match(&m, &run->key)) {
			const struct mail_msg *msg = mailbox_msg(s->box, seq);

			array_append(&run->seqs, seq);
			if (msg->modseq > run->max_modseq)
				run->max_modseq = msg->modseq;
		}
		window_fill(run, seq, &m, slot);
		touched = m.tried;
		msg_data_free(&m);
		/* only file reads cost enough to look at the clock */
		if (touched && now_usec() >= end && run->next <= mailbox_count(s->box))
			return 0;
	}
	window_flush(run);
	/* the caller's own work on the result, in the same slices */
	if (run->step != NULL && run->step(s, run->seqs.items, run->seqs.count, run->ctx, end) == 0)
		return 0;
	run->done(s, run->tag, run->seqs.items, run->seqs.count, run->modseq ? run->max_modseq : 0,
	          run->ctx);
	return 1;
}

static void search_continue(evutil_socket_t fd, short what, void *arg);

static void search_yield(struct search_run *run)
{
	/* Not a zero timeout: libevent would run an event made active at once
	   in the same pass over the active queue, before polling the other
	   connections again. */
	static const struct timeval now = {0, 1};

	if (event_base_once(run->s->server->base, -1, EV_TIMEOUT, search_continue, run, &now) < 0)
		log_panic("event_base_once failed");
}

static void search_continue(evutil_socket_t fd, short what, void *arg)
{
	struct search_run *run = arg;
	struct imap_session *s = run->s;

	(void)fd;
	(void)what;
	if (!s->closed && search_slice(run) == 0) {
		search_yield(run);
		return;
	}
	search_run_free(run);
	(void)imap_session_release(s);
}

bool imap_search_charset_ok(const char *charset)
{
	return charset != NULL &&
	       (strcasecmp(charset, "UTF-8") == 0 || strcasecmp(charset, "US-ASCII") == 0);
}

int imap_search_start(struct imap_session *s, const struct imap_cmd *cmd,
                      const struct imap_arg *args, size_t count, imap_search_step_fn *step,
                      imap_search_done_fn *done, void *ctx, void (*ctx_free)(void *ctx))
{
	struct compiler c = {s, cmd, args, count, 0, 0};
	struct search_run *run = xcalloc(1, sizeof(*run));

	/* "SEARCH" alone has no args at all (NULL): no pointer arithmetic */
	if (count == 0 || compile_list(&c, &run->key, args, count) < 0) {
		search_run_free(run);
		return -1;
	}
	run->s = s;
	run->tag = xstrdup(cmd->tag);
	run->step = step;
	run->done = done;
	run->ctx = ctx;
	run->ctx_free = ctx_free;
	run->next = 1;
	run->use_cache = key_uses_cache(&run->key);
	run->modseq = key_uses_modseq(&run->key);
	if (search_slice(run) == 1) {
		search_run_free(run);
		return 0;
	}
	/* The session reads no command until the search is over; the view
	   cannot change meanwhile. */
	imap_session_hold(s);
	search_yield(run);
	return 0;
}

/* ---- SEARCH RETURN (ESEARCH, RFC 4731), SEARCHRES (RFC 5182) ---- */

void imap_searchres_set(struct imap_session *s, const uint32_t *uids, size_t count)
{
	free(s->searchres);
	s->searchres = NULL;
	s->searchres_count = count;
	if (count == 0)
		return;
	s->searchres = xcalloc(count, sizeof(*uids));
	memcpy(s->searchres, uids, count * sizeof(*uids));
}

void imap_searchres_seqset(struct imap_session *s, bool uid, struct imap_seqset *set_r)
{
	uint32_t *nums = xcalloc(s->searchres_count + 1, sizeof(*nums));

	for (size_t i = 0; i < s->searchres_count; i++)
		nums[i] = uid || s->box == NULL ? s->searchres[i]
		                                : mailbox_seq_by_uid(s->box, s->searchres[i]);
	imap_seqset_from_nums(nums, s->searchres_count, set_r);
	free(nums);
}

int imap_search_return_parse(const struct imap_arg *list, unsigned *opts_r)
{
	static const struct {
		const char *name;
		unsigned opt;
	} names[] = {
	    {"MIN", IMAP_RETURN_MIN},     {"MAX", IMAP_RETURN_MAX},   {"ALL", IMAP_RETURN_ALL},
	    {"COUNT", IMAP_RETURN_COUNT}, {"SAVE", IMAP_RETURN_SAVE},
	};
	unsigned opts = 0;

	if (list->type != IMAP_ARG_LIST)
		return -1;
	for (size_t i = 0; i < list->count; i++) {
		const char *name = imap_arg_atom(&list->list[i]);
		size_t k;

		for (k = 0; name != NULL && k < sizeof(names) / sizeof(names[0]); k++) {
			if (strcasecmp(name, names[k].name) == 0)
				break;
		}
		if (name == NULL || k == sizeof(names) / sizeof(names[0]))
			return -1;
		opts |= names[k].opt;
	}
	/* RFC 4731 3.1: RETURN () is RETURN (ALL) */
	*opts_r = opts == 0 ? IMAP_RETURN_ALL : opts;
	return 0;
}

void imap_esearch_write(struct imap_session *s, const char *tag, bool uid, unsigned opts,
                        const uint32_t *nums, size_t count, uint64_t modseq)
{
	struct buf b = BUF_INIT;

	if ((opts & ~(unsigned)IMAP_RETURN_SAVE) == 0)
		return; /* RFC 5182 2.1: SAVE alone answers nothing */
	buf_append_str(&b, "* ESEARCH (TAG \"");
	for (const char *p = tag; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_char(&b, '\\');
		buf_append_char(&b, *p);
	}
	buf_append_str(&b, "\")");
	if (uid)
		buf_append_str(&b, " UID");
	if ((opts & IMAP_RETURN_MIN) && count > 0)
		buf_printf(&b, " MIN %u", nums[0]);
	if ((opts & IMAP_RETURN_MAX) && count > 0)
		buf_printf(&b, " MAX %u", nums[count - 1]);
	if ((opts & IMAP_RETURN_ALL) && count > 0) {
		buf_append_str(&b, " ALL ");
		imap_seqset_format(&b, nums, count);
	}
	if (opts & IMAP_RETURN_COUNT)
		buf_printf(&b, " COUNT %zu", count);
	if (modseq > 0 && count > 0)
		buf_printf(&b, " MODSEQ %llu", (unsigned long long)modseq);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

/* What a SEARCH answers: its RETURN options (0: a plain "* SEARCH"). */
struct search_answer {
	bool uid;
	unsigned opts;
};

/* RFC 5182 2.4: SAVE with MIN and/or MAX (and neither ALL nor COUNT)
   saves just those; otherwise the whole result. */
static void search_save(struct imap_session *s, unsigned opts, const uint32_t *uids, size_t count)
{
	uint32_t two[2];
	size_t n = 0;

	if ((opts & (IMAP_RETURN_ALL | IMAP_RETURN_COUNT)) != 0 ||
	    (opts & (IMAP_RETURN_MIN | IMAP_RETURN_MAX)) == 0 || count == 0) {
		imap_searchres_set(s, uids, count);
		return;
	}
	if (opts & IMAP_RETURN_MIN)
		two[n++] = uids[0];
	if ((opts & IMAP_RETURN_MAX) && (n == 0 || uids[count - 1] != two[0]))
		two[n++] = uids[count - 1];
	imap_searchres_set(s, two, n);
}

static void search_done(struct imap_session *s, const char *tag, const uint32_t *seqs, size_t count,
                        uint64_t modseq, void *ctx)
{
	const struct search_answer *a = ctx;
	uint32_t *nums = xcalloc(count + 1, sizeof(*nums));
	uint32_t *uids = xcalloc(count + 1, sizeof(*uids));
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < count; i++) {
		uids[i] = mailbox_msg(s->box, seqs[i])->uid;
		nums[i] = a->uid ? uids[i] : seqs[i];
	}
	if (a->opts & IMAP_RETURN_SAVE)
		search_save(s, a->opts, uids, count);
	if (a->opts != 0) {
		imap_esearch_write(s, tag, a->uid, a->opts, nums, count, modseq);
	} else {
		buf_append_str(&b, "* SEARCH");
		for (size_t i = 0; i < count; i++)
			buf_printf(&b, " %u", nums[i]);
		/* RFC 7162 3.1.5: the highest modseq of the matches, if any */
		if (modseq > 0 && count > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)modseq);
		buf_append_str(&b, "\r\n");
		imap_write(s, b.data, b.len);
		buf_free(&b);
	}
	free(nums);
	free(uids);
	imap_reply(s, tag, "OK", "Search completed.");
}

void cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct search_answer *a = xcalloc(1, sizeof(*a));
	const char *word;
	size_t pos = 0;

	a->uid = cmd->uid;
	/* RFC 4731: RETURN (options) first */
	if (cmd->count >= 2 && (word = imap_arg_atom(&cmd->args[0])) != NULL &&
	    strcasecmp(word, "RETURN") == 0) {
		if (imap_search_return_parse(&cmd->args[1], &a->opts) < 0) {
			free(a);
			imap_reply_bad(s, cmd->tag, "Invalid RETURN options.");
			return;
		}
		pos = 2;
	}
	/* RFC 9051 6.4.4, Appendix E: IMAP4rev2 answers ESEARCH only; no
	   RETURN is RETURN (ALL) */
	if (a->opts == 0 && s->rev2)
		a->opts = IMAP_RETURN_ALL;
	/* RFC 3501 6.4.4: CHARSET; US-ASCII and UTF-8 strings are both
	   matched against the stored bytes. */
	if (cmd->count >= pos + 2 && (word = imap_arg_atom(&cmd->args[pos])) != NULL &&
	    strcasecmp(word, "CHARSET") == 0) {
		if (!imap_search_charset_ok(imap_arg_astring(&cmd->args[pos + 1]))) {
			if (a->opts & IMAP_RETURN_SAVE)
				imap_searchres_set(s, NULL, 0);
			free(a);
			imap_reply(s, cmd->tag, "NO",
			           "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.");
			return;
		}
		pos += 2;
	}
	if (imap_search_start(s, cmd, pos < cmd->count ? cmd->args + pos : NULL, cmd->count - pos,
	                      NULL, search_done, a, free) < 0) {
		/* RFC 5182 2.1: a failed SEARCH RETURN (SAVE) empties "$" */
		if (a->opts & IMAP_RETURN_SAVE)
			imap_searchres_set(s, NULL, 0);
		free(a);
		imap_reply_bad(s, cmd->tag, "Invalid or unsupported search key.");
	}
}
