/* Reading and completing a submitted header section
   (smtp-submission-header.h). */
#include "smtp/smtp-submission-header.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "lib/address.h"
#include "lib/array.h"
#include "lib/xalloc.h"
#include "mime/mime-address.h"
#include "smtp/smtp-header.h"

bool submission_header_has(const char *hdr, size_t len, const char *name)
{
	struct smtp_header_field f;
	size_t pos = 0;

	while (smtp_header_next(hdr, len, &pos, &f) == 1) {
		if (f.name_len > 0 && smtp_header_field_is(&f, name))
			return true;
	}
	return false;
}

typedef ARRAY(char *) addr_list;

/* The value without its line breaks (RFC 5322 2.2.3 unfolding). */
static char *unfold(const char *v, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (v[i] != '\r' && v[i] != '\n')
			out[n++] = v[i];
	}
	out[n] = '\0';
	return out;
}

/* The normalised mailbox of one list entry, or NULL if it does not parse. */
static char *entry_address(const struct mime_address *e)
{
	char *text = xasprintf("%s@%s", e->mailbox, e->domain), *norm = NULL;
	struct address a;
	const char *reason;

	if (address_parse_mailbox(text, strlen(text), &a, &reason) == 0) {
		if (a.domain[0] != '[')
			norm = address_normalize(&a);
		address_free(&a);
	}
	free(text);
	return norm;
}

/* Append the mailboxes of one From: value; -1 on a malformed one. */
static int add_from(const struct smtp_header_field *f, addr_list *out)
{
	char *value = unfold(f->value, f->value_len);
	struct mime_address *list;
	size_t count;
	int ret = 0;

	mime_address_list_parse(value, strlen(value), &list, &count);
	free(value);
	for (size_t i = 0; i < count && ret == 0; i++) {
		char *a;

		if (list[i].group_start || list[i].group_end)
			continue;
		if (list[i].mailbox[0] == '\0' || list[i].domain[0] == '\0') {
			ret = -1;
			continue;
		}
		a = entry_address(&list[i]);
		if (a == NULL)
			ret = -1;
		else
			array_append(out, a);
	}
	mime_address_list_free(&list, count);
	return ret;
}

int submission_from_addresses(const char *hdr, size_t len, char ***addrs_r, size_t *count_r,
                              enum submission_from_error *kind_r)
{
	addr_list addrs = ARRAY_INIT;
	struct smtp_header_field f;
	size_t pos = 0, count;
	char **items;
	int ret = 0;

	while (ret == 0 && smtp_header_next(hdr, len, &pos, &f) == 1) {
		if (f.name_len > 0 && smtp_header_field_is(&f, "From"))
			ret = add_from(&f, &addrs);
	}
	items = array_steal(&addrs, &count);
	if (ret < 0 || count == 0) {
		*kind_r = ret < 0 ? SUBMISSION_FROM_MALFORMED : SUBMISSION_FROM_MISSING;
		submission_addresses_free(&items, count);
		return -1;
	}
	*addrs_r = items;
	*count_r = count;
	return 0;
}

void submission_addresses_free(char ***addrs, size_t count)
{
	if (*addrs == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*addrs)[i]);
	free(*addrs);
	*addrs = NULL;
}

void submission_date_append(struct buf *out, time_t now)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
	           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	           off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static void message_id_append(struct buf *out, const char *hostname)
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1)
		abort(); /* the system's random source is broken */
	buf_append_str(out, "Message-ID: <");
	for (size_t i = 0; i < sizeof(r); i++)
		buf_printf(out, "%02x", r[i]);
	buf_printf(out, "@%s>\r\n", hostname);
}

unsigned submission_header_fixes(const char *hdr, size_t len, const char *hostname, time_t now,
                                 struct buf *out)
{
	unsigned added = 0;

	if (!submission_header_has(hdr, len, "Message-ID")) {
		message_id_append(out, hostname);
		added++;
	}
	if (!submission_header_has(hdr, len, "Date")) {
		buf_append_str(out, "Date: ");
		submission_date_append(out, now);
		buf_append_str(out, "\r\n");
		added++;
	}
	return added;
}

void submission_trace_append(const struct submission_trace *t, struct buf *out)
{
	buf_printf(out, "Return-Path: <%s>\r\n", t->mail_from);
	buf_printf(out, "Received: from %s", t->helo);
	if (t->client_ip != NULL)
		buf_printf(out, " ([%s])", t->client_ip);
	buf_printf(out, "\r\n\tby %s (Tern) with %s id %s", t->hostname,
	           t->smtputf8 ? "UTF8SMTPSA" : "ESMTPSA", t->id);
	if (t->tls != NULL)
		buf_printf(out, "\r\n\t(using %s)", t->tls);
	if (t->rcpt != NULL)
		buf_printf(out, "\r\n\tfor <%s>", t->rcpt);
	buf_append_str(out, ";\r\n\t");
	submission_date_append(out, t->now);
	buf_append_str(out, "\r\n");
}
