/* The command table (RFC 1939 5-7, RFC 2449, 2595, 5034) and the
   TRANSACTION commands: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP,
   QUIT and the UPDATE state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "master/role.h"
#include "pop3/pop3-private.h"
#include "store/mail-msg.h"
#include "store/mailbox.h"

enum pop3_cmd_state {
	POP3_CMD_AUTHORIZATION = 1u << 0,
	POP3_CMD_TRANSACTION = 1u << 1,
	POP3_CMD_ANY = POP3_CMD_AUTHORIZATION | POP3_CMD_TRANSACTION,
};

struct pop3_cmd_def {
	const char *name;
	unsigned states;
	void (*run)(struct pop3_session *s, const struct pop3_command *cmd);
};

/* ---- message numbers and sizes ---- */

/* Message n (RFC 1939: "1"..count, not deleted) of argument arg, or NULL
   after "-ERR". */
static struct pop3_msg *msg_arg(struct pop3_session *s, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = arg[0] >= '0' && arg[0] <= '9' ? strtoul(arg, &end, 10) : 0;
	if (n == 0 || errno != 0 || *end != '\0' || n > s->count) {
		pop3_printf(s, "-ERR There's no message %s.\r\n", arg);
		return NULL;
	}
	if (s->msgs[n - 1].deleted) {
		pop3_printf(s, "-ERR Message is deleted.\r\n");
		return NULL;
	}
	return &s->msgs[n - 1];
}

/* The size RETR of m sends (pop3-msg.h), counted once by reading the
   message; a message gone meanwhile gets its index size. */
static uint64_t msg_size(struct pop3_session *s, struct pop3_msg *m)
{
	struct mail_msg_reader *reader;
	struct pop3_stuff st;
	const char *error;
	char *chunk;
	uint64_t off = 0, total;

	if (m->size_known)
		return m->size;
	m->size_known = true;
	m->size = mailbox_msg(s->box, m->seq)->size;
	if (mail_msg_open(s->box, m->seq, &reader, &error) <= 0)
		return m->size;
	total = mail_msg_size(reader);
	chunk = xmalloc(POP3_READ_CHUNK);
	pop3_stuff_init(&st, -1);
	while (off < total) {
		size_t n = total - off < POP3_READ_CHUNK ? (size_t)(total - off) : POP3_READ_CHUNK;

		if (mail_msg_read(reader, off, chunk, n, &error) < 0)
			break;
		pop3_stuff_feed(&st, chunk, n, NULL);
		off += n;
	}
	if (off == total) {
		pop3_stuff_finish(&st, NULL);
		m->size = st.size;
	}
	free(chunk);
	mail_msg_close(&reader);
	return m->size;
}

/* ---- STAT, LIST, UIDL ---- */

static void cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint64_t total = 0;
	uint32_t n = 0;

	(void)cmd;
	for (uint32_t i = 0; i < s->count; i++) {
		if (!s->msgs[i].deleted) {
			n++;
			total += msg_size(s, &s->msgs[i]);
		}
	}
	pop3_printf(s, "+OK %u %llu\r\n", n, (unsigned long long)total);
}

/* One LIST or UIDL value of m into out. */
static void list_value(struct pop3_session *s, struct pop3_msg *m, bool uidl, struct buf *out)
{
	char text[POP3_UIDL_MAX];

	if (uidl) {
		pop3_uidl_format(text, m->uid, mailbox_uidvalidity(s->box));
		buf_append_str(out, text);
	} else {
		buf_printf(out, "%llu", (unsigned long long)msg_size(s, m));
	}
}

/* LIST and UIDL (RFC 1939 7): one message, or all not deleted. */
static void list_or_uidl(struct pop3_session *s, const struct pop3_command *cmd, bool uidl)
{
	struct buf b = BUF_INIT;
	struct pop3_msg *m;

	if (cmd->count > 1) {
		pop3_reply_bad(s, "Too many arguments.");
		return;
	}
	if (cmd->count == 1) {
		if ((m = msg_arg(s, cmd->args[0])) == NULL)
			return;
		buf_printf(&b, "+OK %s ", cmd->args[0]);
		list_value(s, m, uidl, &b);
		buf_append_str(&b, "\r\n");
	} else {
		buf_append_str(&b, "+OK\r\n");
		for (uint32_t i = 0; i < s->count; i++) {
			if (s->msgs[i].deleted)
				continue;
			buf_printf(&b, "%u ", i + 1);
			list_value(s, &s->msgs[i], uidl, &b);
			buf_append_str(&b, "\r\n");
		}
		buf_append_str(&b, ".\r\n");
	}
	pop3_write(s, b.data, b.len);
	buf_free(&b);
}

static void cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	list_or_uidl(s, cmd, false);
}

static void cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	list_or_uidl(s, cmd, true);
}

/* ---- RETR, TOP ---- */

void pop3_retr_free(struct pop3_retr **retr)
{
	if (*retr == NULL)
		return;
	mail_msg_close(&(*retr)->reader);
	free(*retr);
	*retr = NULL;
}

/* Write the message on until the output is above the high water mark
   (then on_drained calls again) or it is all out. */
void pop3_retr_continue(struct pop3_session *s)
{
	struct pop3_retr *r = s->retr;
	struct buf b = BUF_INIT;
	char *chunk = xmalloc(POP3_READ_CHUNK);
	const char *error;
	bool done = false;

	while (!done && conn_output_pending(s->conn) < POP3_OUTPUT_HIGH_WATER) {
		size_t n = r->total - r->offset < POP3_READ_CHUNK ? (size_t)(r->total - r->offset)
		                                                  : POP3_READ_CHUNK;

		if (n > 0 && mail_msg_read(r->reader, r->offset, chunk, n, &error) < 0) {
			log_error(s->sid, "event=pop3.read_failed error=\"%s\"", error);
			free(chunk);
			/* the message is half out: only closing tells the client */
			pop3_retr_free(&s->retr);
			pop3_session_close(s, false, "[SYS/TEMP] Message cannot be read.");
			return;
		}
		r->offset += n;
		done = pop3_stuff_feed(&r->stuff, chunk, n, &b) || r->offset == r->total;
		if (done)
			pop3_stuff_finish(&r->stuff, &b);
		pop3_write(s, b.data, b.len);
		b.len = 0;
	}
	free(chunk);
	buf_free(&b);
	if (done) {
		if (r->msg != NULL)
			r->msg->retrieved = true;
		pop3_retr_free(&s->retr);
		pop3_session_resume(s);
	}
}

/* RETR n and TOP n lines: body_lines -1 for RETR. */
static void retr_start(struct pop3_session *s, struct pop3_msg *m, int64_t body_lines)
{
	struct pop3_retr *r = xcalloc(1, sizeof(*r));
	const char *error;
	int ret = mail_msg_open(s->box, m->seq, &r->reader, &error);

	if (ret <= 0) {
		if (ret < 0)
			log_error(s->sid, "event=pop3.read_failed error=\"%s\"", error);
		pop3_printf(s, "-ERR %s\r\n",
		            ret == 0 ? "Message was expunged by another session."
		                     : "[SYS/TEMP] Message cannot be read.");
		free(r);
		return;
	}
	r->total = mail_msg_size(r->reader);
	r->msg = body_lines < 0 ? m : NULL; /* TOP does not make it seen */
	pop3_stuff_init(&r->stuff, body_lines);
	if (body_lines < 0)
		pop3_printf(s, "+OK %llu octets\r\n", (unsigned long long)msg_size(s, m));
	else
		pop3_printf(s, "+OK\r\n");
	s->retr = r;
	pop3_session_pause(s);
	pop3_retr_continue(s);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m;

	if (cmd->count != 1) {
		pop3_reply_bad(s, "RETR takes a message number.");
		return;
	}
	if ((m = msg_arg(s, cmd->args[0])) != NULL)
		retr_start(s, m, -1);
}

static void cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m;
	unsigned long long lines;
	char *end;

	if (cmd->count != 2 || cmd->args[1][0] < '0' || cmd->args[1][0] > '9') {
		pop3_reply_bad(s, "TOP takes a message number and a line count.");
		return;
	}
	errno = 0;
	lines = strtoull(cmd->args[1], &end, 10);
	if (*end != '\0' || errno != 0 || lines > INT64_MAX) {
		pop3_reply_bad(s, "Invalid line count.");
		return;
	}
	if ((m = msg_arg(s, cmd->args[0])) != NULL)
		retr_start(s, m, (int64_t)lines);
}

/* ---- DELE, RSET, NOOP, QUIT ---- */

static void cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m;

	if (cmd->count != 1) {
		pop3_reply_bad(s, "DELE takes a message number.");
		return;
	}
	if ((m = msg_arg(s, cmd->args[0])) == NULL)
		return;
	/* RFC 1939 6: only marked; the UPDATE state removes it */
	m->deleted = true;
	pop3_printf(s, "+OK Marked to be deleted.\r\n");
}

static void cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	for (uint32_t i = 0; i < s->count; i++)
		s->msgs[i].deleted = false;
	pop3_printf(s, "+OK Maildrop has %u messages.\r\n", s->count);
}

static void cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	pop3_printf(s, "+OK\r\n");
}

/* One message at UPDATE: a deleted one gets \Deleted (so the store's
   expunge takes it; its UID goes to uids[*n]), a retrieved one \Seen, as
   Dovecot's POP3 does. */
static void update_msg(struct pop3_session *s, const struct pop3_msg *m, uint32_t *uids, size_t *n,
                       bool *failed_r)
{
	const char *error;
	int r;

	if (!m->deleted && !m->retrieved)
		return;
	r = mailbox_update_flags(s->box, m->seq, MAIL_FLAGS_ADD,
	                         m->deleted ? MAIL_DELETED : MAIL_SEEN, &error);
	if (r < 0) {
		log_warn(s->sid, "event=pop3.update_failed uid=%u error=\"%s\"", m->uid, error);
		*failed_r = true;
	}
	if (r == 1 && m->deleted) /* 0: gone already (expunged by another session) */
		uids[(*n)++] = m->uid;
}

/* Flag the messages; returns the UIDs to expunge (ascending, as the view's
   seqs are) in uids. */
static size_t update_mark(struct pop3_session *s, uint32_t *uids, bool *failed_r)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->count; i++)
		update_msg(s, &s->msgs[i], uids, &n, failed_r);
	return n;
}

void pop3_update(struct pop3_session *s)
{
	uint32_t *uids = xcalloc(s->count + 1, sizeof(*uids)), *seqs = NULL;
	bool failed = false, changed = false;
	size_t n = update_mark(s, uids, &failed), count = 0;
	const char *error;

	if (n > 0 && mailbox_expunge_uids(s->box, uids, n, &seqs, &count, &error) < 0) {
		log_warn(s->sid, "event=pop3.expunge_failed error=\"%s\"", error);
		failed = true;
	}
	free(seqs);
	free(uids);
	log_info(s->sid, "event=pop3.update deleted=%zu", count);
	for (uint32_t i = 0; i < s->count && !changed; i++)
		changed = s->msgs[i].retrieved && !s->msgs[i].deleted;
	if (changed || count > 0) {
		/* IDLE sessions of every imap process see the changes now */
		if (s->server->role != NULL)
			role_notify_mailbox_changed(s->server->role, s->username);
		else
			mail_user_registry_notify(s->server->users, s->username);
	}
	pop3_maildrop_release(s);
	if (failed)
		pop3_session_close(s, false, "[SYS/TEMP] Some deleted messages were not removed.");
	else
		pop3_session_close(s, true, "Logging out.");
}

static void cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	(void)cmd;
	if (s->state == POP3_STATE_TRANSACTION)
		pop3_update(s);
	else
		pop3_session_close(s, true, "Logging out.");
}

/* ---- the table ---- */

static const struct pop3_cmd_def commands[] = {
    {"CAPA", POP3_CMD_ANY, pop3_cmd_capa},
    {"QUIT", POP3_CMD_ANY, cmd_quit},
    {"NOOP", POP3_CMD_TRANSACTION, cmd_noop},
    {"STLS", POP3_CMD_AUTHORIZATION, pop3_cmd_stls},
    {"USER", POP3_CMD_AUTHORIZATION, pop3_cmd_user},
    {"PASS", POP3_CMD_AUTHORIZATION, pop3_cmd_pass},
    {"AUTH", POP3_CMD_AUTHORIZATION, pop3_cmd_auth},
    {"STAT", POP3_CMD_TRANSACTION, cmd_stat},
    {"LIST", POP3_CMD_TRANSACTION, cmd_list},
    {"UIDL", POP3_CMD_TRANSACTION, cmd_uidl},
    {"RETR", POP3_CMD_TRANSACTION, cmd_retr},
    {"TOP", POP3_CMD_TRANSACTION, cmd_top},
    {"DELE", POP3_CMD_TRANSACTION, cmd_dele},
    {"RSET", POP3_CMD_TRANSACTION, cmd_rset},
};

void pop3_command_dispatch(struct pop3_session *s, const struct pop3_command *cmd)
{
	unsigned state =
	    s->state == POP3_STATE_AUTHORIZATION ? POP3_CMD_AUTHORIZATION : POP3_CMD_TRANSACTION;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->name) != 0)
			continue;
		if ((commands[i].states & state) == 0) {
			pop3_reply_bad(s, state == POP3_CMD_AUTHORIZATION ? "Not logged in."
			                                                  : "Already logged in.");
			return;
		}
		/* USER then anything but PASS forgets the name (RFC 1939 7) */
		if (strcmp(cmd->name, "PASS") != 0 && strcmp(cmd->name, "USER") != 0) {
			free(s->user_arg);
			s->user_arg = NULL;
		}
		commands[i].run(s, cmd);
		return;
	}
	pop3_reply_bad(s, "Unknown command.");
}
