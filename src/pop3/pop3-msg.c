/* Dot-stuffing, line ends, TOP and UIDLs: see pop3-msg.h. */
#include "pop3/pop3-msg.h"

#include <stdio.h>

void pop3_uidl_format(char out[POP3_UIDL_MAX], uint32_t uid, uint32_t uidvalidity)
{
	snprintf(out, POP3_UIDL_MAX, "%08X%08X", (unsigned)uid, (unsigned)uidvalidity);
}

void pop3_stuff_init(struct pop3_stuff *st, int64_t body_lines)
{
	*st = (struct pop3_stuff){.in_header = true, .body_lines = body_lines};
}

static void emit(struct pop3_stuff *st, struct buf *out, const char *data, size_t len)
{
	st->size += len;
	if (out != NULL)
		buf_append(out, data, len);
}

/* A line end: CR LF goes out, and TOP counts the line. */
static void end_line(struct pop3_stuff *st, struct buf *out)
{
	bool empty = st->line_len == 0;

	emit(st, out, "\r\n", 2);
	st->line_len = 0;
	if (st->in_header) {
		if (empty) {
			st->in_header = false;
			st->done = st->body_lines == 0;
		}
		return;
	}
	if (st->body_lines > 0 && --st->body_lines == 0)
		st->done = true;
}

/* A content byte (not a line end). */
static void content(struct pop3_stuff *st, struct buf *out, char c)
{
	/* RFC 1939 3: a line starting with "." gets another one */
	if (st->line_len == 0 && c == '.' && out != NULL)
		buf_append(out, ".", 1);
	emit(st, out, &c, 1);
	st->line_len++;
}

bool pop3_stuff_feed(struct pop3_stuff *st, const char *data, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len && !st->done; i++) {
		char c = data[i];

		if (st->pending_cr) {
			st->pending_cr = false;
			if (c == '\n') {
				end_line(st, out);
				continue;
			}
			content(st, out, '\r'); /* a bare CR is kept as it is */
		}
		if (c == '\r')
			st->pending_cr = true;
		else if (c == '\n')
			end_line(st, out); /* a bare LF goes out as CR LF */
		else
			content(st, out, c);
	}
	return st->done;
}

void pop3_stuff_finish(struct pop3_stuff *st, struct buf *out)
{
	if (!st->done && (st->pending_cr || st->line_len > 0)) {
		st->pending_cr = false;
		end_line(st, out);
	}
	if (out != NULL)
		buf_append(out, ".\r\n", 3);
}
