/* Mailbox names on the wire: modified UTF-7 for IMAP4rev1 clients, UTF-8
   for sessions that enabled UTF8=ACCEPT (RFC 6855 3) or IMAP4rev2 (RFC
   9051 5.1). The store keeps the modified UTF-7 form (docs/store.md). */
#include <stdlib.h>
#include <string.h>

#include "imap/imap-fetch.h"
#include "imap/imap-private.h"
#include "lib/buf.h"
#include "lib/mutf7.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

static const char *keep(struct imap_session *s, char *name)
{
	s->names = xrealloc(s->names, (s->names_count + 1) * sizeof(*s->names));
	s->names[s->names_count++] = name;
	return name;
}

const char *imap_mailbox_from_client(struct imap_session *s, const char *name)
{
	struct buf b = BUF_INIT;

	if (name == NULL || !s->utf8)
		return name;
	if (mutf7_from_utf8(name, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return keep(s, buf_steal(&b));
}

const char *imap_mailbox_arg(struct imap_session *s, const struct imap_arg *arg)
{
	return imap_mailbox_from_client(s, imap_arg_astring(arg));
}

char *imap_mailbox_display(struct imap_session *s, const char *stored)
{
	struct buf b = BUF_INIT;
	int ret;

	if (s->utf8)
		ret = mutf7_to_utf8(stored, &b);
	else if (mutf7_has_8bit(stored))
		ret = mutf7_from_utf8(stored, &b);
	else
		ret = -1;
	if (ret < 0) {
		buf_free(&b);
		return xstrdup(stored);
	}
	return buf_steal(&b);
}

void imap_append_mailbox(struct imap_session *s, struct buf *out, const char *stored)
{
	char *name = imap_mailbox_display(s, stored);
	size_t len = strlen(name);

	if (s->utf8 && mutf7_has_8bit(name) && len < 1024 &&
	    utf8_valid((const unsigned char *)name, len) && strpbrk(name, "\r\n") == NULL) {
		buf_append_char(out, '"');
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append_char(out, '\\');
			buf_append_char(out, *p);
		}
		buf_append_char(out, '"');
	} else {
		imap_append_astring(out, name);
	}
	free(name);
}

void imap_mailbox_args_clear(struct imap_session *s)
{
	for (size_t i = 0; i < s->names_count; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->names_count = 0;
}

void imap_session_msg_flags(struct imap_session *s, struct buf *out, const struct mail_msg *msg)
{
	struct mail_msg shown = *msg;

	if (s->rev2)
		shown.flags &= ~(unsigned)MAIL_RECENT;
	imap_append_msg_flags(out, s->box, &shown);
}
