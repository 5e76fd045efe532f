/* SEARCH and UID SEARCH (RFC 3501 6.4.4): flag keys, sequence and UID
   sets, LARGER/SMALLER, NOT, OR and parenthesised groups. Keys that need
   message contents or dates are not supported yet (BAD). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

/* Nesting of NOT/OR/() in one search. */
#define MAX_SEARCH_DEPTH 32

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
	KEY_AND
};

struct search_key {
	enum key_type type;
	unsigned flags;
	unsigned clear; /* KEY_FLAG_SET: flags that must also be clear */
	uint64_t n;
	struct imap_seqset set;
	struct search_key *sub; /* NOT, OR (two), AND (count) */
	size_t sub_count;
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
	for (size_t i = 0; i < key->sub_count; i++)
		key_free(&key->sub[i]);
	free(key->sub);
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
	key->sub = xcalloc(n, sizeof(*key->sub));
	key->sub_count = n;
	for (size_t i = 0; i < n; i++) {
		if (compile_key(c, &key->sub[i]) < 0)
			return -1;
	}
	return 0;
}

static int compile_list(struct compiler *c, struct search_key *key, const struct imap_arg *list,
                        size_t count)
{
	struct compiler sub = {c->s, c->cmd, list, count, 0, c->depth};
	size_t n = 0;

	key->type = KEY_AND;
	while (sub.pos < sub.count) {
		key->sub = xreallocarray(key->sub, n + 1, sizeof(*key->sub));
		memset(&key->sub[n], 0, sizeof(key->sub[n]));
		key->sub_count = ++n;
		if (compile_key(&sub, &key->sub[n - 1]) < 0)
			return -1;
	}
	return n == 0 ? -1 : 0;
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

	if (uid)
		star = count == 0 ? 0 : mailbox_msg(c->s->box, count)->uid;
	key->type = uid ? KEY_UID : KEY_SEQ;
	return imap_seqset_parse(text, star, &key->set, &error);
}

static int compile_key(struct compiler *c, struct search_key *key)
{
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
	if (strcasecmp(name, "LARGER") == 0)
		return compile_number(c, key, KEY_LARGER);
	if (strcasecmp(name, "SMALLER") == 0)
		return compile_number(c, key, KEY_SMALLER);
	if (strcasecmp(name, "UID") == 0) {
		if (c->pos >= c->count || (name = imap_arg_atom(&c->args[c->pos++])) == NULL)
			return -1;
		return compile_set(c, key, name, true);
	}
	return compile_set(c, key, name, false);
}

static bool match(struct imap_session *s, const struct search_key *key, uint32_t seq)
{
	const struct mail_msg *msg = mailbox_msg(s->box, seq);
	bool all = true;

	switch (key->type) {
	case KEY_ALL:
		return true;
	case KEY_FLAG_SET:
		return (msg->flags & key->flags) == key->flags && (msg->flags & key->clear) == 0;
	case KEY_FLAG_CLEAR:
		return (msg->flags & key->flags) == 0;
	case KEY_SEQ:
		return imap_seqset_contains(&key->set, seq);
	case KEY_UID:
		return imap_seqset_contains(&key->set, msg->uid);
	case KEY_LARGER:
		return msg->size > key->n;
	case KEY_SMALLER:
		return msg->size < key->n;
	case KEY_NOT:
		return !match(s, &key->sub[0], seq);
	case KEY_OR:
		return match(s, &key->sub[0], seq) || match(s, &key->sub[1], seq);
	case KEY_AND:
		for (size_t i = 0; i < key->sub_count && all; i++)
			all = match(s, &key->sub[i], seq);
		return all;
	}
	return false;
}

void cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct compiler c = {s, cmd, cmd->args, cmd->count, 0, 0};
	struct search_key key = {0};
	struct buf b = BUF_INIT;
	const char *charset;

	/* RFC 3501 6.4.4: CHARSET; US-ASCII and UTF-8 are the same here as no
	   text key is supported. */
	if (cmd->count >= 2 && (charset = imap_arg_atom(&cmd->args[0])) != NULL &&
	    strcasecmp(charset, "CHARSET") == 0) {
		charset = imap_arg_astring(&cmd->args[1]);
		if (charset == NULL ||
		    (strcasecmp(charset, "UTF-8") != 0 && strcasecmp(charset, "US-ASCII") != 0)) {
			imap_reply(s, cmd->tag, "NO",
			           "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.");
			return;
		}
		c.pos = 2;
	}
	if (compile_list(&c, &key, c.args + c.pos, c.count - c.pos) < 0) {
		key_free(&key);
		imap_reply_bad(s, cmd->tag, "Invalid or unsupported search key.");
		return;
	}
	buf_append_str(&b, "* SEARCH");
	for (uint32_t seq = 1; seq <= mailbox_count(s->box); seq++) {
		if (match(s, &key, seq))
			buf_printf(&b, " %u", cmd->uid ? mailbox_msg(s->box, seq)->uid : seq);
	}
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	key_free(&key);
	imap_reply(s, cmd->tag, "OK", "Search completed.");
}
