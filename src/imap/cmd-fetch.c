/* FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2). Bodies are read from the
   message file in chunks; between messages the command waits for output
   to drain when much is queued. */
#include <stdlib.h>
#include <string.h>

#include "imap/imap-condstore.h"
#include "imap/imap-fetch.h"
#include "imap/imap-search-headers.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/xalloc.h"
#include "mime/mime-binary.h"
#include "mime/mime-imap.h"
#include "store/mail-msg.h"
#include "store/mail-objects.h"
#include "store/mailbox.h"

#define READ_CHUNK (64 * 1024)

/* Messages whose cache entries are read, and stored, in one index query
   (one transaction): a per-message query cost more in locking than the
   lookup itself. */
#define CACHE_WINDOW 256

struct cache_window {
	uint32_t first, count;     /* sequence numbers first..first+count-1 */
	struct mail_cache *cached; /* [count], from the index, then filled */
	struct mail_cache *fresh;  /* [count], rendered by this FETCH: to store
	                              (borrows cached's strings) */
	bool dirty;                /* some fresh entry has data */
};

struct fetch_ctx {
	struct imap_cmd cmd; /* tag copied; args not used after the start */
	char *tag;
	struct fetch_request req;
	struct imap_seqset set;
	uint64_t changedsince; /* CHANGEDSINCE (RFC 7162 3.1.4.1), 0: none */
	uint32_t next;         /* next sequence number to look at */
	bool gone;             /* some message file had vanished */
	bool failed;           /* an I/O error */
	bool unknown_cte;      /* BINARY of a part whose encoding is unknown */
	struct cache_window win;
	/* EMAILID, THREADID, SAVEDATE, PREVIEW of messages obj_first..
	   (obj_count), read from the index CACHE_WINDOW at a time */
	uint32_t obj_first, obj_count;
	struct mail_objects *objs;
};

/* One message opened for its body sections, with its MIME tree parsed
   once for all the items of the command (caching the tree in the index is
   a later optimisation). */
struct msg_file {
	struct mail_msg_reader *reader; /* NULL until opened: a warm FETCH
	                                   ENVELOPE never opens it */
	bool gone;                      /* expunged: no file with its key */
	bool open_failed;               /* gone, or an I/O error (sticks) */
	uint64_t size;
	const struct mime_part *tree; /* owned by reader; NULL until parsed */
	bool full_tree;               /* tree is the whole message, not the header */
	bool need_tree;               /* some item of this message needs the whole tree */
};

static void window_free(struct cache_window *w)
{
	for (uint32_t i = 0; w->cached != NULL && i < w->count; i++)
		mail_cache_free(&w->cached[i]);
	free(w->cached);
	free(w->fresh);
	memset(w, 0, sizeof(*w));
}

/* Also when the session goes away in the middle: what the window
   rendered is then not stored (the next FETCH renders it again). */
static void objects_window_free(struct fetch_ctx *ctx)
{
	for (uint32_t i = 0; ctx->objs != NULL && i < ctx->obj_count; i++)
		mail_objects_free(&ctx->objs[i]);
	free(ctx->objs);
	ctx->objs = NULL;
	ctx->obj_count = 0;
}

static void fetch_ctx_free(void *arg)
{
	struct fetch_ctx *ctx = arg;

	objects_window_free(ctx);
	window_free(&ctx->win);
	imap_fetch_request_free(&ctx->req);
	imap_seqset_free(&ctx->set);
	free(ctx->tag);
	free(ctx);
}

/* Open message seq once, by its key (a failure sticks). */
static int msg_file_open(struct imap_session *s, uint32_t seq, struct msg_file *f)
{
	const char *error;
	int ret;

	if (f->reader != NULL)
		return 0;
	if (f->open_failed)
		return -1;
	ret = mail_msg_open(s->box, seq, &f->reader, &error);
	if (ret <= 0) {
		if (ret < 0)
			log_warn(s->sid, "event=imap.message_open_failed error=\"%s\"", error);
		f->gone = ret == 0;
		f->open_failed = true;
		return -1;
	}
	f->size = mail_msg_size(f->reader);
	return 0;
}

static void msg_file_close(struct msg_file *f)
{
	mail_msg_close(&f->reader);
	f->tree = NULL;
}

/* Parse what the message's items need: the whole tree (BODY,
   BODYSTRUCTURE not cached, part numbers) or, for ENVELOPE, HEADER,
   HEADER.FIELDS and TEXT, only the top-level header, not a read of the
   whole body. A header-only tree is replaced when a later item needs the
   whole one. */
static int msg_file_parse(struct imap_session *s, uint32_t seq, struct msg_file *f, bool need_tree)
{
	const char *error;
	int ret;

	if (f->tree != NULL && (f->full_tree || !need_tree))
		return 0;
	if (msg_file_open(s, seq, f) < 0)
		return -1;
	f->full_tree = need_tree;
	ret = need_tree ? mail_msg_tree(f->reader, &f->tree, &error)
	                : mail_msg_header(f->reader, &f->tree, &error);
	if (ret < 0)
		log_warn(s->sid, "event=imap.message_read_failed error=\"%s\"", error);
	return ret;
}

/* Send the extents' bytes [start, start + len) in windows of READ_CHUNK. A
   read error sends spaces so the literal's byte count stays right. */
static void stream_extents(struct imap_session *s, struct fetch_ctx *ctx, struct msg_file *f,
                           const struct mime_extent *ext, size_t count, uint64_t start,
                           uint64_t len)
{
	struct mime_source src = mail_msg_source(f->reader);
	struct buf b = BUF_INIT;
	const char *error;

	while (len > 0) {
		uint64_t want = len < READ_CHUNK ? len : READ_CHUNK;

		buf_clear(&b);
		if (mime_extents_read(&src, ext, count, start, want, &b, &error) < 0 ||
		    b.len != want) {
			ctx->failed = true;
			buf_clear(&b);
			for (uint64_t i = 0; i < want; i++)
				buf_append_char(&b, ' ');
		}
		imap_write(s, b.data, b.len);
		start += want;
		len -= want;
	}
	buf_free(&b);
}

/* Open and parse as body needs; false (with NIL sent) if that failed. */
static bool body_prepare(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                         const struct fetch_body *body, struct msg_file *f, const char *sep)
{
	bool whole = body->sec->path_len == 0 && body->sec->kind == MIME_SECTION_ALL;

	if (msg_file_open(s, seq, f) < 0) {
		/* Expunged by another session meanwhile (RFC 3501 allows
		   NIL); the tagged reply says so. */
		if (f->gone)
			ctx->gone = true;
		else
			ctx->failed = true;
	} else if (whole || msg_file_parse(s, seq, f, f->need_tree) == 0) {
		return true;
	} else {
		ctx->failed = true;
	}
	imap_printf(s, "%s%s NIL", sep, body->name);
	return false;
}

static void send_body(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                      const struct fetch_body *body, struct msg_file *f, const char *sep)
{
	struct mime_extent whole, *ext = &whole;
	size_t count;
	uint64_t size, start, len;
	const char *error;

	if (!body_prepare(s, ctx, seq, body, f, sep))
		return;
	whole = (struct mime_extent){0, f->size};
	count = f->size > 0 ? 1 : 0;
	size = f->size;
	if (body->sec->path_len > 0 || body->sec->kind != MIME_SECTION_ALL) {
		if (mime_section_resolve(f->tree, body->sec, &ext, &count, &size, &error) < 0) {
			/* A part that does not exist (RFC 9051 allows NIL). */
			imap_printf(s, "%s%s NIL", sep, body->name);
			return;
		}
	}
	imap_printf(s, "%s%s ", sep, body->name);
	imap_fetch_clip(body, size, &start, &len);
	imap_printf(s, "{%llu}\r\n", (unsigned long long)len);
	stream_extents(s, ctx, f, ext, count, start, len);
	if (ext != &whole)
		free(ext);
}

/* Resolve a BINARY section: 0 with *bin_r, or -1 with the item already
   answered (NIL). BINARY[] is the message as stored (RFC 3516 4.2). */
static int binary_resolve(struct imap_session *s, struct fetch_ctx *ctx,
                          const struct fetch_body *body, struct msg_file *f,
                          struct mime_binary *bin_r, const char *sep)
{
	const char *error;
	int ret;

	if (body->sec->path_len == 0) {
		*bin_r = (struct mime_binary){0, f->size, MIME_ENCODING_IDENTITY};
		return 0;
	}
	ret = mime_binary_resolve(f->tree, body->sec, bin_r, &error);
	if (ret == 0)
		return 0;
	/* An unknown encoding fails the command (RFC 3516 4.1: NO
	   [UNKNOWN-CTE]); a part that does not exist is NIL, as for BODY. */
	if (ret == 1)
		ctx->unknown_cte = true;
	imap_printf(s, "%s%s NIL", sep, body->name);
	return -1;
}

/* BINARY[part]<o.n> as literal8 (RFC 3516 4.2: the decoded data may hold
   NUL), and BINARY.SIZE[part]. The decoded window is built in memory: it
   is never bigger than the stored part, itself bounded by the message
   size limit. */
static void send_binary(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                        const struct fetch_body *body, struct msg_file *f, const char *sep)
{
	struct mime_source src;
	struct mime_binary bin;
	struct buf b = BUF_INIT;
	uint64_t size;
	const char *error;

	if (!body_prepare(s, ctx, seq, body, f, sep) ||
	    binary_resolve(s, ctx, body, f, &bin, sep) < 0)
		return;
	src = mail_msg_source(f->reader);
	if (body->kind == FETCH_KIND_BINARY_SIZE) {
		if (mime_binary_size(&src, &bin, &size, &error) < 0) {
			ctx->failed = true;
			size = 0;
		}
		imap_printf(s, "%s%s %llu", sep, body->name, (unsigned long long)size);
		return;
	}
	if (mime_binary_read(&src, &bin, body->partial ? body->offset : 0,
	                     body->partial ? body->length : UINT64_MAX, &b, &error) < 0) {
		ctx->failed = true;
		buf_clear(&b);
	}
	imap_printf(s, "%s%s ~{%zu}\r\n", sep, body->name, b.len);
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

static const struct {
	unsigned item;
	enum mail_cache_field field;
	const char *name;
} structure_items[] = {
    {FETCH_ENVELOPE, MAIL_CACHE_ENVELOPE, "ENVELOPE"},
    {FETCH_BODY, MAIL_CACHE_BODY, "BODY"},
    {FETCH_BODYSTRUCTURE, MAIL_CACHE_BODYSTRUCTURE, "BODYSTRUCTURE"},
};
#define STRUCTURE_ITEMS (sizeof(structure_items) / sizeof(structure_items[0]))

/* Render one structure item from the parsed tree into v (malloc'ed). */
static void render_structure(const struct mime_part *tree, enum mail_cache_field field,
                             struct mail_cache_value *v)
{
	struct buf b = BUF_INIT;

	if (field == MAIL_CACHE_ENVELOPE)
		mime_imap_envelope(tree, &b);
	else if (field == MAIL_CACHE_SEARCH_HEADERS)
		imap_search_headers_render(tree, &b);
	else
		mime_imap_bodystructure(tree, field == MAIL_CACHE_BODYSTRUCTURE, &b);
	v->len = b.len;
	v->data = buf_steal(&b);
}

/* Fill the structure items that cache lacks: each is rendered from the
   message once and marked in fresh (which borrows cache's strings) to be
   stored at the end of the window, so the next FETCH reads no file. A
   full tree fills all, a header only ENVELOPE and the SEARCH header cache
   (whose fields are the header's: cheap while the header is parsed). */
static void fill_cache(struct fetch_ctx *ctx, struct msg_file *f, struct mail_cache *cache,
                       struct mail_cache *fresh)
{
	for (size_t i = 0; i < MAIL_CACHE_FIELDS; i++) {
		if (cache->field[i].data != NULL ||
		    (i != MAIL_CACHE_ENVELOPE && i != MAIL_CACHE_SEARCH_HEADERS && !f->full_tree))
			continue;
		render_structure(f->tree, (enum mail_cache_field)i, &cache->field[i]);
		if (fresh != NULL) {
			fresh->field[i] = cache->field[i];
			ctx->win.dirty = true;
		}
	}
}

/* ENVELOPE, BODY, BODYSTRUCTURE: from the index cache, or rendered from
   the message (and then cached). */
static void send_structure(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                           struct msg_file *f, struct mail_cache *cache, struct mail_cache *fresh,
                           const char **sep)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < STRUCTURE_ITEMS; i++) {
		struct mail_cache_value *v = &cache->field[structure_items[i].field];

		if (!(ctx->req.items & structure_items[i].item))
			continue;
		if (v->data == NULL) {
			if (msg_file_parse(s, seq, f, f->need_tree) < 0) {
				if (f->gone)
					ctx->gone = true;
				else
					ctx->failed = true;
				break;
			}
			fill_cache(ctx, f, cache, fresh);
		}
		buf_printf(&b, "%s%s ", *sep, structure_items[i].name);
		buf_append(&b, v->data, v->len);
		*sep = " ";
	}
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

/* Whether the message's items need its whole MIME tree, knowing what the
   cache holds. */
static bool need_tree(const struct fetch_request *req, const struct mail_cache *cache)
{
	for (size_t i = 0; i < req->bodies.count; i++) {
		if (req->bodies.items[i].sec->path_len > 0)
			return true;
	}
	return ((req->items & FETCH_BODY) && cache->field[MAIL_CACHE_BODY].data == NULL) ||
	       ((req->items & FETCH_BODYSTRUCTURE) &&
	        cache->field[MAIL_CACHE_BODYSTRUCTURE].data == NULL);
}

/* Store the window's fresh entries (one transaction) and free it. A
   failed store costs speed, not correctness. */
static void window_flush(struct imap_session *s, struct fetch_ctx *ctx)
{
	struct cache_window *w = &ctx->win;
	const char *error;

	if (w->dirty && mailbox_cache_set(s->box, w->first, w->count, w->fresh, &error) < 0)
		log_warn(s->sid, "event=imap.cache_store_failed error=\"%s\"", error);
	window_free(w);
}

/* The cache entry of seq (and in *fresh_r where to mark what this FETCH
   renders), reading the index CACHE_WINDOW messages at a time; NULL if
   the request has no structure item. */
static struct mail_cache *window_get(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                                     struct mail_cache **fresh_r)
{
	struct cache_window *w = &ctx->win;
	uint32_t count = mailbox_count(s->box) - seq + 1;
	const char *error;

	*fresh_r = NULL;
	if (!(ctx->req.items & (FETCH_ENVELOPE | FETCH_BODY | FETCH_BODYSTRUCTURE)))
		return NULL;
	if (w->cached == NULL || seq < w->first || seq >= w->first + w->count) {
		window_flush(s, ctx);
		w->first = seq;
		w->count = count < CACHE_WINDOW ? count : CACHE_WINDOW;
		w->cached = xcalloc(w->count, sizeof(*w->cached));
		w->fresh = xcalloc(w->count, sizeof(*w->fresh));
		if (mailbox_cache_get(s->box, w->first, w->count, w->cached, &error) < 0)
			log_warn(s->sid, "event=imap.cache_read_failed error=\"%s\"", error);
	}
	*fresh_r = &w->fresh[seq - w->first];
	return &w->cached[seq - w->first];
}

/* sep: what goes before the first item ("" if it opens the list). */
static void send_bodies(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                        const char *sep)
{
	struct msg_file f = {0};
	struct mail_cache none = {0}, *fresh, *cache = window_get(s, ctx, seq, &fresh);

	if (cache == NULL)
		cache = &none;
	f.need_tree = need_tree(&ctx->req, cache);
	send_structure(s, ctx, seq, &f, cache, fresh, &sep);
	for (size_t i = 0; i < ctx->req.bodies.count; i++) {
		const struct fetch_body *body = &ctx->req.bodies.items[i];

		if (body->kind == FETCH_KIND_BODY)
			send_body(s, ctx, seq, body, &f, i == 0 ? sep : " ");
		else
			send_binary(s, ctx, seq, body, &f, i == 0 ? sep : " ");
	}
	mail_cache_free(&none);
	msg_file_close(&f);
}

/* BODY[] without PEEK sets \Seen (RFC 3501 6.4.5); returns true if it
   did, so FLAGS is sent. */
static bool set_seen(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq)
{
	const struct mail_msg *msg = mailbox_msg(s->box, seq);
	const char *error;

	if (!ctx->req.sets_seen || (msg->flags & MAIL_SEEN) || mailbox_is_readonly(s->box))
		return false;
	if (mailbox_update_flags(s->box, seq, MAIL_FLAGS_ADD, MAIL_SEEN, &error) < 0) {
		log_warn(s->sid, "event=imap.set_flags_failed error=\"%s\"", error);
		return false;
	}
	return true;
}

#define OBJECT_ITEMS (FETCH_EMAILID | FETCH_THREADID | FETCH_SAVEDATE | FETCH_PREVIEW)

/* The index values of seq, read for a window of messages at a time (one
   query), or NULL if the index failed. */
static struct mail_objects *objects_window_get(struct imap_session *s, struct fetch_ctx *ctx,
                                               uint32_t seq)
{
	uint32_t count = mailbox_count(s->box) - seq + 1;
	const char *error;

	if (ctx->objs == NULL || seq < ctx->obj_first || seq >= ctx->obj_first + ctx->obj_count) {
		objects_window_free(ctx);
		ctx->obj_first = seq;
		ctx->obj_count = count < CACHE_WINDOW ? count : CACHE_WINDOW;
		ctx->objs = xcalloc(ctx->obj_count, sizeof(*ctx->objs));
		if (mailbox_objects_read(s->box, seq, ctx->obj_count, ctx->objs, &error) < 0) {
			log_warn(s->sid, "event=imap.objects_failed error=\"%s\"", error);
			objects_window_free(ctx);
			return NULL;
		}
	}
	return &ctx->objs[seq - ctx->obj_first];
}

/* EMAILID, THREADID (RFC 8474 5), SAVEDATE (RFC 8514), PREVIEW (RFC 8970):
   from the index, computed from the message (and cached) when missing. A
   message gone meanwhile gets NILs, as its bodies do. */
static void append_objects(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                           struct buf *b, const char **sep)
{
	unsigned items = ctx->req.items, want = 0;
	struct mail_objects *objp, obj;
	const char *error;
	int ret;

	if (!(items & OBJECT_ITEMS))
		return;
	want |= (items & FETCH_EMAILID) ? MAIL_OBJ_EMAILID : 0;
	want |= (items & FETCH_THREADID) ? MAIL_OBJ_THREADID : 0;
	want |= (items & FETCH_PREVIEW) ? MAIL_OBJ_PREVIEW : 0;
	objp = objects_window_get(s, ctx, seq);
	ret = objp != NULL ? mailbox_objects_fill(s->box, seq, want, objp, &error) : -1;
	if (objp != NULL)
		obj = *objp;
	else
		memset(&obj, 0, sizeof(obj));
	if (ret < 0) {
		log_warn(s->sid, "event=imap.objects_failed error=\"%s\"", error);
		ctx->failed = true;
	} else if (ret == 0) {
		ctx->gone = true;
	}
	if (items & FETCH_EMAILID) {
		if (obj.emailid != NULL)
			buf_printf(b, "%sEMAILID (%s)", *sep, obj.emailid);
		else
			buf_printf(b, "%sEMAILID NIL", *sep);
		*sep = " ";
	}
	if (items & FETCH_THREADID) {
		if (obj.threadid != NULL)
			buf_printf(b, "%sTHREADID (%s)", *sep, obj.threadid);
		else
			buf_printf(b, "%sTHREADID NIL", *sep);
		*sep = " ";
	}
	if (items & FETCH_SAVEDATE) {
		buf_printf(b, "%sSAVEDATE ", *sep);
		if (obj.savedate != 0)
			imap_append_datetime(b, obj.savedate);
		else
			buf_append_str(b, "NIL");
		*sep = " ";
	}
	if (items & FETCH_PREVIEW) {
		buf_printf(b, "%sPREVIEW ", *sep);
		if (obj.preview != NULL)
			imap_append_astring(b, obj.preview);
		else
			buf_append_str(b, "NIL");
		*sep = " ";
	}
}

static void fetch_one(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq)
{
	bool flags = set_seen(s, ctx, seq) || (ctx->req.items & FETCH_FLAGS);
	const struct mail_msg *msg = mailbox_msg(s->box, seq);
	struct buf b = BUF_INIT;
	const char *sep = "";

	buf_printf(&b, "* %u FETCH (", seq);
	if (ctx->req.items & FETCH_UID) {
		buf_printf(&b, "UID %u", msg->uid);
		sep = " ";
	}
	if (flags) {
		buf_printf(&b, "%sFLAGS ", sep);
		imap_session_msg_flags(s, &b, msg);
		sep = " ";
	}
	/* MODSEQ asked for, or with CONDSTORE on beside FLAGS (3.1.4.1) */
	if ((ctx->req.items & FETCH_MODSEQ) || (flags && s->condstore)) {
		buf_printf(&b, "%sMODSEQ (%llu)", sep, (unsigned long long)msg->modseq);
		sep = " ";
	}
	if (ctx->req.items & FETCH_RFC822_SIZE) {
		buf_printf(&b, "%sRFC822.SIZE %llu", sep, (unsigned long long)msg->size);
		sep = " ";
	}
	if (ctx->req.items & FETCH_INTERNALDATE) {
		buf_printf(&b, "%sINTERNALDATE ", sep);
		imap_append_datetime(&b, (int64_t)msg->internaldate);
		sep = " ";
	}
	append_objects(s, ctx, seq, &b, &sep);
	imap_write(s, b.data, b.len);
	buf_free(&b);
	send_bodies(s, ctx, seq, sep);
	imap_printf(s, ")\r\n");
}

static void fetch_finish(struct imap_session *s, struct fetch_ctx *ctx)
{
	window_flush(s, ctx);
	if (ctx->failed)
		imap_reply(s, ctx->tag, "NO", "[SERVERBUG] Some messages could not be read.");
	else if (ctx->unknown_cte)
		imap_reply(s, ctx->tag, "NO", "[UNKNOWN-CTE] Cannot decode a part's encoding.");
	else if (ctx->gone)
		imap_reply(s, ctx->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged.");
	else
		imap_reply(s, ctx->tag, "OK", "Fetch completed.");
}

/* Send messages until done (1) or much output is queued (0). */
static int fetch_resume(struct imap_session *s, void *arg)
{
	struct fetch_ctx *ctx = arg;

	if (s->closed)
		return 1;
	while (ctx->next <= mailbox_count(s->box)) {
		uint32_t seq = ctx->next++;

		if (!imap_cmd_seq_matches(s, &ctx->cmd, &ctx->set, seq) ||
		    mailbox_msg(s->box, seq)->modseq <= ctx->changedsince)
			continue;
		fetch_one(s, ctx, seq);
		if (conn_output_pending(s->conn) > IMAP_OUTPUT_HIGH_WATER)
			return 0;
	}
	fetch_finish(s, ctx);
	return 1;
}

/* UID FETCH (CHANGEDSINCE n VANISHED): the UIDs of set expunged after n
   (RFC 7162 3.2.6), before the FETCH responses. */
static void send_vanished(struct imap_session *s, const struct imap_seqset *set, uint64_t since)
{
	uint32_t *uids;
	size_t count, out = 0;
	const char *error;

	if (mailbox_vanished_since(s->box, since, &uids, &count, &error) < 0) {
		log_warn(s->sid, "event=imap.vanished_failed error=\"%s\"", error);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (imap_seqset_contains(set, uids[i]))
			uids[out++] = uids[i];
	}
	imap_send_vanished(s, uids, out, true);
	free(uids);
}

void cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx;
	struct imap_resumable r = {fetch_resume, fetch_ctx_free, NULL};
	const char *error;

	uint64_t changedsince;
	bool vanished;

	if (cmd->count != 2 && cmd->count != 3) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	if (imap_fetch_mods_parse(cmd->count == 3 ? &cmd->args[2] : NULL, &changedsince, &vanished,
	                          &error) < 0 ||
	    (vanished && (!cmd->uid || !s->qresync))) {
		/* RFC 7162 3.2.6: VANISHED needs UID FETCH and QRESYNC */
		imap_reply_bad(s, cmd->tag,
		               vanished ? "VANISHED needs UID FETCH and QRESYNC." : error);
		return;
	}
	ctx = xcalloc(1, sizeof(*ctx));
	if (imap_fetch_parse(&cmd->args[1], cmd->uid, &ctx->req, &error) < 0) {
		imap_reply_bad(s, cmd->tag, error);
		free(ctx);
		return;
	}
	if (changedsince > 0 || (ctx->req.items & FETCH_MODSEQ))
		s->condstore = true; /* RFC 7162 3.1: these enable CONDSTORE */
	if (changedsince > 0)
		ctx->req.items |= FETCH_MODSEQ;
	ctx->changedsince = changedsince;
	if (imap_cmd_seqset(s, cmd, &cmd->args[0], &ctx->set) < 0) {
		imap_fetch_request_free(&ctx->req);
		free(ctx);
		return;
	}
	ctx->tag = xstrdup(cmd->tag);
	ctx->cmd = *cmd;
	ctx->cmd.tag = ctx->tag;
	ctx->cmd.args = NULL;
	ctx->cmd.count = 0;
	ctx->next = 1;
	if (vanished)
		send_vanished(s, &ctx->set, changedsince);
	imap_announce_keywords(s); /* RFC 3501 7.2.6: FLAGS before a keyword is shown */
	if (fetch_resume(s, ctx) == 1) {
		fetch_ctx_free(ctx);
		return;
	}
	r.ctx = ctx;
	imap_session_resumable(s, &r);
}
