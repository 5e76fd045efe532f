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

/* One message file opened for its body sections. */
struct msg_file {
	int fd;
	uint64_t size;
	char *hdr; /* the header, read on first use */
	size_t hdr_len;
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
	free(f->hdr);
}

/* Read the header (up to IMAP_MAX_HEADER bytes of it). */
static int msg_file_header(struct msg_file *f)
{
	size_t want = f->size < IMAP_MAX_HEADER ? (size_t)f->size : IMAP_MAX_HEADER;
	size_t got = 0;
	bool complete;

	if (f->hdr != NULL)
		return 0;
	f->hdr = xmalloc(want + 1);
	while (got < want) {
		ssize_t n = pread(f->fd, f->hdr + got, want - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	f->hdr_len = imap_header_length(f->hdr, got, &complete);
	return 0;
}

/* Send len bytes of the file from start as the literal's data. A file
   that shrank meanwhile is padded with spaces so the literal's byte count
   stays right. */
static void stream_range(struct imap_session *s, struct fetch_ctx *ctx, struct msg_file *f,
                         uint64_t start, uint64_t len)
{
	char *chunk = xmalloc(READ_CHUNK);

	while (len > 0) {
		size_t want = len < READ_CHUNK ? (size_t)len : READ_CHUNK;
		ssize_t n = pread(f->fd, chunk, want, (off_t)start);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ctx->failed = true;
			memset(chunk, ' ', want);
			n = (ssize_t)want;
		}
		imap_write(s, chunk, (size_t)n);
		start += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(chunk);
}

static void send_memory(struct imap_session *s, const struct fetch_body *body, const char *data,
                        size_t len)
{
	uint64_t start, n;

	imap_fetch_clip(body, len, &start, &n);
	imap_printf(s, "{%llu}\r\n", (unsigned long long)n);
	imap_write(s, data + start, (size_t)n);
}

static void send_body(struct imap_session *s, struct fetch_ctx *ctx, const struct fetch_body *body,
                      struct msg_file *f, const char *sep)
{
	uint64_t base = 0, size = f->size, start, len;
	struct buf filtered = BUF_INIT;

	if (body->section != FETCH_SECTION_ALL && msg_file_header(f) < 0) {
		ctx->failed = true;
		imap_printf(s, "%s%s NIL", sep, body->name);
		return;
	}
	imap_printf(s, "%s%s ", sep, body->name);
	switch (body->section) {
	case FETCH_SECTION_ALL:
		break;
	case FETCH_SECTION_HEADER:
		send_memory(s, body, f->hdr, f->hdr_len);
		return;
	case FETCH_SECTION_TEXT:
		base = f->hdr_len;
		size = f->size - f->hdr_len;
		break;
	case FETCH_SECTION_HEADER_FIELDS:
	case FETCH_SECTION_HEADER_FIELDS_NOT:
		imap_header_filter(f->hdr, f->hdr_len, body->fields, body->field_count,
		                   body->section == FETCH_SECTION_HEADER_FIELDS_NOT, &filtered);
		send_memory(s, body, filtered.data, filtered.len);
		buf_free(&filtered);
		return;
	}
	imap_fetch_clip(body, size, &start, &len);
	imap_printf(s, "{%llu}\r\n", (unsigned long long)len);
	stream_range(s, ctx, f, base + start, len);
}

/* sep: what goes before the first body item ("" if it opens the list). */
static void send_bodies(struct imap_session *s, struct fetch_ctx *ctx, uint32_t seq,
                        const char *sep)
{
	struct msg_file f;

	if (ctx->req.body_count == 0)
		return;
	if (msg_file_open(s, seq, &f) < 0) {
		/* Expunged by another session meanwhile (RFC 3501 allows
		   NIL); the tagged reply says so. */
		ctx->gone = true;
		for (size_t i = 0; i < ctx->req.body_count; i++)
			imap_printf(s, "%s%s NIL", i == 0 ? sep : " ", ctx->req.bodies[i].name);
		return;
	}
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
