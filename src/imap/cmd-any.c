/* Commands valid in any state (RFC 3501 6.1, ID of RFC 2971), NAMESPACE
   (RFC 2342) and ENABLE (RFC 5161). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-private.h"

void cmd_capability(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct buf b = BUF_INIT;

	buf_append_str(&b, "* CAPABILITY ");
	imap_capability(s, &b);
	buf_append_str(&b, "\r\n");
	imap_write(s, b.data, b.len);
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Capability completed.");
}

void cmd_noop(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->count != 0) {
		imap_reply_bad(s, cmd->tag, "Too many arguments.");
		return;
	}
	imap_reply(s, cmd->tag, "OK", "%s completed.", cmd->name);
}

void cmd_logout(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_printf(s, "* BYE Logging out\r\n");
	imap_reply(s, cmd->tag, "OK", "Logout completed.");
	log_info(s->sid, "event=imap.logout");
	s->state = IMAP_STATE_LOGOUT;
	conn_close(s->conn);
}

void cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
	/* One personal namespace with '/' as the separator. */
	imap_printf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_reply(s, cmd->tag, "OK", "Namespace completed.");
}

/* ENABLE IMAP4rev2 (RFC 9051) and UTF8=ACCEPT (RFC 6855): both make
   mailbox names UTF-8 on the wire. Appends the name if newly enabled. */
static void enable_rev2_utf8(struct imap_session *s, const char *name, struct buf *b)
{
	if (strcasecmp(name, "IMAP4rev2") == 0 && !s->rev2) {
		s->rev2 = true;
		s->utf8 = true;
		buf_append_str(b, " IMAP4rev2");
	} else if (strcasecmp(name, "UTF8=ACCEPT") == 0 && !s->utf8_accept) {
		s->utf8_accept = true;
		s->utf8 = true;
		buf_append_str(b, " UTF8=ACCEPT");
	}
}

/* ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162 3.2.3: QRESYNC
   implies CONDSTORE), IMAP4rev2 and UTF8=ACCEPT; the ENABLED response
   lists only what this command newly enabled. Unknown names are ignored.
   IMAP4rev2 and UTF8=ACCEPT change how mailbox names are written, so they
   are refused (BAD) with a mailbox selected (RFC 6855 3: authenticated
   state only). */
void cmd_enable(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < cmd->count; i++) {
		if (imap_arg_atom(&cmd->args[i]) == NULL) {
			imap_reply_bad(s, cmd->tag, "Invalid arguments.");
			return;
		}
	}
	if (cmd->count == 0) {
		imap_reply_bad(s, cmd->tag, "Missing capability.");
		return;
	}
	for (size_t i = 0; i < cmd->count && s->state == IMAP_STATE_SELECTED; i++) {
		const char *name = imap_arg_atom(&cmd->args[i]);

		if (strcasecmp(name, "IMAP4rev2") == 0 || strcasecmp(name, "UTF8=ACCEPT") == 0) {
			imap_reply_bad(s, cmd->tag, "ENABLE UTF8=ACCEPT/IMAP4rev2 before SELECT.");
			return;
		}
	}
	buf_append_str(&b, "* ENABLED");
	for (size_t i = 0; i < cmd->count; i++) {
		const char *name = imap_arg_atom(&cmd->args[i]);
		bool qresync = strcasecmp(name, "QRESYNC") == 0;

		enable_rev2_utf8(s, name, &b);

		if ((qresync || strcasecmp(name, "CONDSTORE") == 0) && !s->condstore) {
			s->condstore = true;
			buf_append_str(&b, " CONDSTORE");
		}
		if (qresync && !s->qresync) {
			s->qresync = true;
			buf_append_str(&b, " QRESYNC");
		}
	}
	imap_printf(s, "%s\r\n", buf_cstr(&b));
	buf_free(&b);
	imap_reply(s, cmd->tag, "OK", "Enabled.");
}

/* RFC 2971 3.3: at most 30 pairs, fields of 30 and values of 1024 bytes. */
#define ID_MAX_PAIRS 30
#define ID_MAX_FIELD 30
#define ID_MAX_VALUE 1024

static int id_check(const struct imap_arg *arg)
{
	if (arg->type == IMAP_ARG_NIL)
		return 0;
	if (arg->type != IMAP_ARG_LIST || arg->count % 2 != 0 || arg->count > 2 * ID_MAX_PAIRS)
		return -1;
	for (size_t i = 0; i < arg->count; i++) {
		const struct imap_arg *a = &arg->list[i];

		if (a->type == IMAP_ARG_NIL && i % 2 == 1)
			continue;
		if ((a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL) || a->str == NULL ||
		    a->len > (i % 2 == 0 ? ID_MAX_FIELD : ID_MAX_VALUE))
			return -1;
	}
	return 0;
}

/* Log what the client says it is: useful when one misbehaves. */
static void id_log(struct imap_session *s, const struct imap_arg *arg)
{
	const char *name = "-", *version = "-";
	char *name_log, *version_log;

	for (size_t i = 0; arg->type == IMAP_ARG_LIST && i + 1 < arg->count; i += 2) {
		const char *value =
		    arg->list[i + 1].type == IMAP_ARG_NIL ? "-" : arg->list[i + 1].str;

		if (strcasecmp(arg->list[i].str, "name") == 0)
			name = value;
		else if (strcasecmp(arg->list[i].str, "version") == 0)
			version = value;
	}
	name_log = log_value(name, strlen(name), 64);
	version_log = log_value(version, strlen(version), 64);
	log_info(s->sid, "event=imap.id name=%s version=%s", name_log, version_log);
	free(name_log);
	free(version_log);
}

void cmd_id(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->count != 1 || id_check(&cmd->args[0]) < 0) {
		imap_reply_bad(s, cmd->tag, "Invalid arguments.");
		return;
	}
	id_log(s, &cmd->args[0]);
	imap_printf(s, "* ID (\"name\" \"Tern\")\r\n");
	imap_reply(s, cmd->tag, "OK", "ID completed.");
}
