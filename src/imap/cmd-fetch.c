/* FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2). Bodies are read from the
   message file in chunks; between messages the command waits for output
   to drain when much is queued. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "imap/imap-seqset.h"
#include "lib/xalloc.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"
#include "store/mailbox.h"

#define READ_CHUNK (64 * 1024)

struct fetch_ctx {
	struct imap_cmd cmd; /* tag copied; args not used after the start */
	char *tag;
	struct fetch_request req;
	struct imap_seqset set;
	uint32_t next; /* next sequence number to look at */
	bool gone;     /* some message file had vanished */
	bool failed;   /* an I/O error */
};

/* One message file opened for its body sections, with its MIME tree
   parsed once for all the items of the command (caching the tree in the
   index is a later optimisation). */
struct msg_file {
	int fd;
	uint64_t size;
	struct mime_part *tree; /* NULL until parsed */
};

static void fetch_ctx_free(void *arg)
{
	struct fetch_ctx *ctx = arg;

	imap_fetch_request_free(&ctx->req);
	imap_seqset_free(&ctx->set);
	free(ctx->tag);
	free(ctx);
}

static int msg_file_open(struct imap_session *s, uint32_t seq, struct msg_file *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = open(mailbox_msg_path(s->box, seq), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return -1;
	if (fstat(f->fd, &st) < 0) {
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	f->size = (uint64_t)st.st_size;
	return 0;
}

static void msg_file_close(struct msg_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	mime_part_free(&f->tree);
}

int imap_pread(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(offset + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* struct mime_source reading the message file. */
static int source_read(void *arg, uint64_t offset, size_t len, struct buf *out,
                       const char **error_r)
{
	struct msg_file *f = arg;

	buf_reserve(out, len);
	if (imap_pread(f->fd, out->data + out->len, len, offset) < 0) {
		*error_r = "message file read failed";
		return -1;
	}
	out->len += len;
	return 0;
}

/* Parse the whole file, streaming it through the parser in chunks. */
static int parse_tree(struct msg_file *f)
{
	struct mime_parser *p = mime_parser_new(NULL);
	char *chunk = xmalloc(READ_CHUNK);
	uint64_t pos = 0;
	int ret = 0;

	while (pos < f->size && ret == 0) {
		size_t want = f->size - pos < READ_CHUNK ? (size_t)(f->size - pos) : READ_CHUNK;

		ret = imap_pread(f->fd, chunk, want, pos);
		if (ret == 0)
			mime_parser_feed(p, chunk, want);
		pos += want;
	}
	free(chunk);
	(void)mime_parser_finish(p, &f->tree);
	mime_parser_free(&p);
	return ret;
}

/* First read of a header; doubled until the empty line shows up. */
#define HEADER_FIRST_READ (8 * 1024)

int imap_msg_read_header(int fd, uint64_t size, struct mime_part **root_r)
{
	size_t cap = size < IMAP_MAX_HEADER ? (size_t)size : IMAP_MAX_HEADER;
	size_t have = 0, want = cap < HEADER_FIRST_READ ? cap : HEADER_FIRST_READ, hdr_len = 0;
	char *hdr = xmalloc(cap + 1);
	bool complete = false;

	/* Most headers are a few KiB: read only what is needed, not the
	   1 MiB cap, so ENVELOPE of a big message stays cheap. */
	while (!complete) {
		if (imap_pread(fd, hdr + have, want - have, have) < 0) {
			free(hdr);
			return -1;
		}
		have = want;
		hdr_len = imap_header_length(hdr, have, &complete);
		if (have == cap)
			break;
		want = have * 2 < cap ? have * 2 : cap;
	}
	*root_r = mime_parse(hdr, hdr_len, NULL);
	free(hdr);
	(*root_r)->body.start = (*root_r)->hdr.start + (*root_r)->hdr.size;
	(*root_r)->body.size = size - (*root_r)->body.start;
	return 0;
}

static int msg_file_parse(struct msg_file *f, const struct fetch_request *req)
{
	if (f->tree != NULL)
		return 0;
	if (imap_fetch_needs_tree(req))
		return parse_tree(f);
	/* ENVELOPE, HEADER, HEADER.FIELDS and TEXT need only the top-level
	   header, not a read of the whole body. */
	return imap_msg_read_header(f->fd, f->size, &f->tree);
}

/* Send the extents' bytes [start, start + len) in windows of READ_CHUNK. A
   read error sends spaces so the literal's byte count stays right. */
static void stream_extents(struct imap_session *s, struct fetch_ctx *ctx, struct msg_file *f,
                           const struct mime_extent *ext, size_t count, uint64_t start,
                           uint64_t len)
{
	struct mime_source src = {source_read, f, NULL, 0};
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

static void send_body(struct imap_session *s, struct fetch_ctx *ctx, const struct fetch_body *body,
                      struct msg_file *f, const char *sep)
{
	struct mime_extent whole = {0, f->size}, *ext = &whole;
	size_t count = f->size > 0 ? 1 : 0;
	uint64_t size = f->size, start, len;
	const char *error;

	if (body->sec->path_len > 0 || body->sec->kind != MIME_SECTION_ALL) {
		if (msg_file_parse(f, &ctx->req) < 0) {
			ctx->failed = true;
			imap_printf(s, "%s%s NIL", sep, body->name);
			return;
		}
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

/* ENVELOPE, BODY, BODYSTRUCTURE of an open message. */
static void send_structure(struct imap_session *s, struct fetch_ctx *ctx, struct msg_file *f,
                           const char **sep)
{
	static const struct {
		unsigned item;
		const char *name;
	} items[] = {
	    {FETCH_ENVELOPE, "ENVELOPE"},
	    {FETCH_BODY, "BODY"},
	    {FETCH_BODYSTRUCTURE, "BODYSTRUCTURE"},
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if (!(ctx->req.items & items[i].item))
			continue;
		if (msg_file_parse(f, &ctx->req) < 0) {
			ctx->failed = true;
			break;
		}
		buf_printf(&b, "%s%s ", *sep, items[i].name);
		if (items[i].item == FETCH_ENVELOPE)
			mime_imap_envelope(f->tree, &b);
		else
			mime_imap_bodystructure(f->tree, items[i].item == FETCH_BODYSTRUCTURE, &b);
		*sep = " ";
	}
	imap_write(s, b.data, b.len);
	buf_free(&b);
}

static bool wants_file(const struct fetch_request *req)
{
	return req->body_count > 0 ||
	       (req->items & (FETCH_ENVELOPE | FETCH_BODY | FETCH_BODYSTRUCTURE));
}

/* sep: what goes before the first item ("" if it opens the list). */
static void send_bodies(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                        const char *sep)
{
	struct msg_file f;

	if (!wants_file(&ctx->req))
		return;
	if (msg_file_open(s, seq, &f) < 0) {
		/* Expunged by another session meanwhile (RFC 3501 allows
		   NIL); the tagged reply says so. */
		ctx->gone = true;
		for (size_t i = 0; i < ctx->req.body_count; i++)
			imap_printf(s, "%s%s NIL", i == 0 ? sep : " ", ctx->req.bodies[i].name);
		return;
	}
	send_structure(s, ctx, &f, &sep);
	for (size_t i = 0; i < ctx->req.body_count; i++)
		send_body(s, ctx, &ctx->req.bodies[i], &f, i == 0 ? sep : " ");
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
	if (mailbox_set_flags(s->box, seq, (msg->flags | MAIL_SEEN) & MAIL_STORED_FLAGS, &error) <
	    0) {
		log_warn(s->sid, "event=imap.set_flags_failed error=\"%s\"", error);
		return false;
	}
	return true;
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
		imap_append_flags(&b, msg->flags);
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
	imap_write(s, b.data, b.len);
	buf_free(&b);
	send_bodies(s, ctx, seq, sep);
	imap_printf(s, ")\r\n");
}

static void fetch_finish(struct imap_session *s, struct fetch_ctx *ctx)
{
	if (ctx->failed)
		imap_reply(s, ctx->tag, "NO", "[SERVERBUG] Some messages could not be read.");
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

		if (!imap_cmd_seq_matches(s, &ctx->cmd, &ctx->set, seq))
			continue;
		fetch_one(s, ctx, seq);
		if (conn_output_pending(s->conn) > IMAP_OUTPUT_HIGH_WATER)
			return 0;
	}
	fetch_finish(s, ctx);
	return 1;
}

void cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx;
	struct imap_resumable r = {fetch_resume, fetch_ctx_free, NULL};
	const char *error;

	if (cmd->count != 2) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	ctx = xcalloc(1, sizeof(*ctx));
	if (imap_fetch_parse(&cmd->args[1], cmd->uid, &ctx->req, &error) < 0) {
		imap_reply_bad(s, cmd->tag, error);
		free(ctx);
		return;
	}
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
	if (fetch_resume(s, ctx) == 1) {
		fetch_ctx_free(ctx);
		return;
	}
	r.ctx = ctx;
	imap_session_resumable(s, &r);
}
