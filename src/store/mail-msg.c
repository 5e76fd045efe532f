/* The message reader (mail-msg.h): a file found by its key, then read by
   offset. */
#include "store/mail-msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-parser.h"
#include "store/mailbox-private.h"

#define READ_CHUNK (64 * 1024)
/* First read of a header; doubled until its empty line shows up. */
#define HEADER_FIRST_READ (8 * 1024)

struct mail_msg_reader {
	int fd;
	uint64_t size;
	struct mime_part *header; /* top-level header only, or NULL */
	struct mime_part *tree;   /* the whole tree, or NULL */
	struct buf error;
};

struct open_op {
	int fd;
};

static int open_file(struct mailbox *box, const char *path, const char *name, void *arg)
{
	struct open_op *op = arg;

	(void)box;
	(void)name;
	/* O_NOFOLLOW: a symlink planted in cur/ must not be followed */
	op->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return op->fd < 0 ? -1 : 0;
}

int mail_msg_open(struct mailbox *box, uint32_t seq, struct mail_msg_reader **reader_r,
                  const char **error_r)
{
	struct open_op op = {-1};
	struct mail_msg_reader *r;
	struct stat st;
	int ret, bad;

	(void)mailbox_msg(box, seq); /* aborts on a bad seq */
	ret = view_msg_file_op(box, &box->msgs[seq - 1], open_file, &op, error_r);
	if (ret <= 0)
		return ret;
	bad = fstat(op.fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
	if (bad != 0) {
		errno = bad;
		ret = mailbox_fail_errno(box, "message file", error_r);
		close(op.fd);
		return ret;
	}
	r = xcalloc(1, sizeof(*r));
	r->fd = op.fd;
	r->size = (uint64_t)st.st_size;
	*reader_r = r;
	return 1;
}

void mail_msg_close(struct mail_msg_reader **readerp)
{
	struct mail_msg_reader *r = *readerp;

	if (r == NULL)
		return;
	close(r->fd);
	mime_part_free(&r->header);
	mime_part_free(&r->tree);
	buf_free(&r->error);
	free(r);
	*readerp = NULL;
}

uint64_t mail_msg_size(const struct mail_msg_reader *reader)
{
	return reader->size;
}

static int reader_fail(struct mail_msg_reader *r, const char *what, const char **error_r)
{
	buf_clear(&r->error);
	buf_printf(&r->error, "%s", what);
	*error_r = buf_cstr(&r->error);
	return -1;
}

int mail_msg_read(struct mail_msg_reader *r, uint64_t offset, void *buf, size_t len,
                  const char **error_r)
{
	size_t got = 0;

	if (offset > r->size || len > r->size - offset)
		return reader_fail(r, "read past the end of the message", error_r);
	while (got < len) {
		ssize_t n = pread(r->fd, (char *)buf + got, len - got, (off_t)(offset + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return reader_fail(
			    r, n == 0 ? "message file truncated" : "message file read failed",
			    error_r);
		got += (size_t)n;
	}
	return 0;
}

static int source_read(void *arg, uint64_t offset, size_t len, struct buf *out,
                       const char **error_r)
{
	struct mail_msg_reader *r = arg;

	buf_reserve(out, len);
	if (mail_msg_read(r, offset, out->data + out->len, len, error_r) < 0)
		return -1;
	out->len += len;
	return 0;
}

struct mime_source mail_msg_source(struct mail_msg_reader *reader)
{
	return (struct mime_source){source_read, reader, NULL, 0};
}

size_t mail_msg_header_length(const char *data, size_t len, bool *complete_r)
{
	/* Line by line: the header ends at the first empty line (CRLF, or a
	   bare LF as found in broken mail). */
	size_t pos = 0;

	while (pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t line_len;

		if (lf == NULL)
			break;
		line_len = (size_t)(lf - (data + pos));
		pos += line_len + 1;
		if (line_len == 0 || (line_len == 1 && data[pos - 2] == '\r')) {
			*complete_r = true;
			return pos;
		}
	}
	*complete_r = false;
	return len;
}

int mail_msg_header(struct mail_msg_reader *r, const struct mime_part **root_r,
                    const char **error_r)
{
	size_t cap = r->size < MAIL_MSG_MAX_HEADER ? (size_t)r->size : MAIL_MSG_MAX_HEADER;
	size_t have = 0, want = cap < HEADER_FIRST_READ ? cap : HEADER_FIRST_READ, hdr_len = 0;
	bool complete = false;
	char *hdr;

	if (r->tree != NULL || r->header != NULL) {
		*root_r = r->tree != NULL ? r->tree : r->header;
		return 0;
	}
	hdr = xmalloc(cap + 1);
	/* Most headers are a few KiB: read only what is needed. */
	while (!complete) {
		if (mail_msg_read(r, have, hdr + have, want - have, error_r) < 0) {
			free(hdr);
			return -1;
		}
		have = want;
		hdr_len = mail_msg_header_length(hdr, have, &complete);
		if (have == cap)
			break;
		want = have * 2 < cap ? have * 2 : cap;
	}
	r->header = mime_parse(hdr, hdr_len, NULL);
	free(hdr);
	r->header->body.start = r->header->hdr.start + r->header->hdr.size;
	r->header->body.size = r->size - r->header->body.start;
	*root_r = r->header;
	return 0;
}

int mail_msg_tree(struct mail_msg_reader *r, const struct mime_part **tree_r, const char **error_r)
{
	struct mime_parser *p;
	char *chunk;
	uint64_t pos = 0;
	int ret = 0;

	if (r->tree != NULL) {
		*tree_r = r->tree;
		return 0;
	}
	p = mime_parser_new(NULL);
	chunk = xmalloc(READ_CHUNK);
	while (pos < r->size && ret == 0) {
		size_t want = r->size - pos < READ_CHUNK ? (size_t)(r->size - pos) : READ_CHUNK;

		ret = mail_msg_read(r, pos, chunk, want, error_r);
		if (ret == 0)
			mime_parser_feed(p, chunk, want);
		pos += want;
	}
	free(chunk);
	(void)mime_parser_finish(p, &r->tree);
	mime_parser_free(&p);
	if (ret < 0) {
		mime_part_free(&r->tree);
		return -1;
	}
	*tree_r = r->tree;
	return 0;
}
