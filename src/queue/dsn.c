/* RFC 3464 delivery status notifications (dsn.h, docs/queue.md
   "Bounces"). */
#include "queue/dsn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

/* RFC 5322 2.1.1 allows 998; the rest of a long reply is cut. */
#define TEXT_MAX       900
#define READ_CHUNK     65536
#define BOUNDARY_TRIES 8

/* ---- small formatters ---- */

const char *dsn_action_name(enum dsn_action action)
{
	switch (action) {
	case DSN_ACTION_FAILED:
		return "failed";
	case DSN_ACTION_DELAYED:
		return "delayed";
	case DSN_ACTION_DELIVERED:
		return "delivered";
	case DSN_ACTION_RELAYED:
		return "relayed";
	case DSN_ACTION_EXPANDED:
		return "expanded";
	}
	return "failed";
}

/* 1 to 3 digits, then the character end. */
static const char *digits(const char *s, char end)
{
	size_t n = 0;

	while (n < 4 && isdigit((unsigned char)s[n]))
		n++;
	return n >= 1 && n <= 3 && s[n] == end ? s + n + 1 : NULL;
}

bool dsn_status_valid(const char *s)
{
	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s = digits(s + 2, '.');
	return s != NULL && digits(s, '\0') != NULL;
}

void dsn_format_date(int64_t t, struct buf *out)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
	           months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Text from a stranger (a reply, an ENVID) on one header line: controls
   become spaces, runs of them one space, 8-bit bytes '?' unless utf8,
   at most TEXT_MAX bytes. */
static void put_text(struct buf *out, const char *s, bool utf8)
{
	size_t n = 0;
	bool space = false;

	for (; *s != '\0' && n < TEXT_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			space = n > 0 && out->data[out->len - 1] != ' ';
			continue;
		}
		if (space) {
			buf_append_char(out, ' ');
			n++;
		}
		space = false;
		buf_append_char(out, c >= 0x80 && !utf8 ? '?' : (char)c);
		n++;
	}
}

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

/* ---- the parts ---- */

struct dsn_ctx {
	const struct dsn_params *p;
	const struct dsn_original *orig;
	bool global; /* RFC 6533 */
	enum dsn_action kind;
	char boundary[96];
};

/* What the report is about: a failure outranks a delay, a delay a
   success. */
static enum dsn_action report_kind(const struct dsn_params *p)
{
	bool delayed = false;

	for (size_t i = 0; i < p->rcpt_count; i++) {
		if (p->rcpts[i].action == DSN_ACTION_FAILED)
			return DSN_ACTION_FAILED;
		delayed |= p->rcpts[i].action == DSN_ACTION_DELAYED;
	}
	return delayed ? DSN_ACTION_DELAYED : DSN_ACTION_DELIVERED;
}

static const char *subject(enum dsn_action kind)
{
	switch (kind) {
	case DSN_ACTION_FAILED:
		return "Undelivered Mail Returned to Sender";
	case DSN_ACTION_DELAYED:
		return "Delayed Mail (still being retried)";
	default:
		return "Successful Mail Delivery Report";
	}
}

static const char *status_of(const struct dsn_rcpt *r)
{
	if (dsn_status_valid(r->status))
		return r->status;
	switch (r->action) {
	case DSN_ACTION_FAILED:
		return "5.0.0";
	case DSN_ACTION_DELAYED:
		return "4.0.0";
	default:
		return "2.0.0";
	}
}

/* A boundary that occurs nowhere in the original (nor in our own text,
   which never starts a line with "--="). */
static void pick_boundary(struct dsn_ctx *c)
{
	const struct buf *d = c->orig != NULL ? &c->orig->data : NULL;

	for (unsigned i = 0; i < BOUNDARY_TRIES; i++) {
		snprintf(c->boundary, sizeof(c->boundary), "=_tern-dsn-%s-%lld-%u",
		         c->p->env->id != NULL ? c->p->env->id : "x", (long long)c->p->now, i);
		if (d == NULL || d->len == 0 ||
		    memmem(d->data, d->len, c->boundary, strlen(c->boundary)) == NULL)
			return;
	}
	/* eight collisions of a name with our queue id and time: random */
	snprintf(c->boundary, sizeof(c->boundary), "=_tern-dsn-%08lx%08lx", (unsigned long)random(),
	         (unsigned long)random());
}

static void put_header(struct dsn_ctx *c, struct buf *out)
{
	const struct dsn_params *p = c->p;
	const char *letter = c->kind == DSN_ACTION_FAILED    ? "f"
	                     : c->kind == DSN_ACTION_DELAYED ? "d"
	                                                     : "s";

	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", p->hostname);
	buf_printf(out, "To: <%s>\r\n", p->to != NULL ? p->to : p->env->sender);
	buf_printf(out, "Subject: %s\r\n", subject(c->kind));
	buf_append_str(out, "Date: ");
	dsn_format_date(p->now, out);
	buf_printf(out, "\r\nMessage-ID: <dsn.%s.%lld.%s@%s>\r\n",
	           p->env->id != NULL ? p->env->id : "x", (long long)p->now, letter, p->hostname);
	/* RFC 3834 5: no auto-reply to this one */
	buf_append_str(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_printf(out,
	           "Content-Type: multipart/report; report-type=%s;\r\n\tboundary=\"%s\"\r\n\r\n",
	           c->global ? "global-delivery-status" : "delivery-status", c->boundary);
	buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");
}

static void put_reason(struct dsn_ctx *c, const struct dsn_rcpt *r, struct buf *out)
{
	buf_printf(out, "<%s>", r->rcpt->address);
	if (r->rcpt->alias != NULL)
		buf_printf(out, " (expanded from <%s>)", r->rcpt->alias);
	/* the reason on a line of its own: every line stays under 998 */
	buf_append_str(out, ":\r\n    ");
	if (r->remote_mta != NULL) {
		buf_append_str(out, "host ");
		put_text(out, r->remote_mta, c->global);
		buf_append_str(out, r->diagnostic != NULL ? " said: " : " ");
	}
	if (r->diagnostic != NULL)
		put_text(out, r->diagnostic, c->global);
	else
		buf_printf(out, "%s (status %s)", dsn_action_name(r->action), status_of(r));
	buf_append_str(out, "\r\n\r\n");
}

static void put_human(struct dsn_ctx *c, struct buf *out)
{
	const struct dsn_params *p = c->p;

	buf_printf(out, "--%s\r\nContent-Description: Notification\r\n", c->boundary);
	buf_printf(out, "Content-Type: text/plain; charset=%s\r\n",
	           c->global ? "utf-8" : "us-ascii");
	if (c->global)
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_printf(out, "\r\nThis is the mail system at host %s.\r\n\r\n", p->hostname);
	if (c->kind == DSN_ACTION_FAILED)
		buf_append_str(out,
		               "I'm sorry to have to inform you that your message could not\r\n"
		               "be delivered to one or more recipients. It's attached below.\r\n");
	else if (c->kind == DSN_ACTION_DELAYED)
		buf_append_str(out,
		               "Your message could not be delivered yet to the recipients\r\n"
		               "below. The mail system will keep trying; you do not need to\r\n"
		               "send it again. You will be told if it finally fails.\r\n");
	else
		buf_append_str(out, "Your message was successfully delivered to the recipients\r\n"
		                    "below, as you asked.\r\n");
	buf_append_str(out, "\r\n");
	for (size_t i = 0; i < p->rcpt_count; i++)
		put_reason(c, &p->rcpts[i], out);
}

static void put_date_field(struct buf *out, const char *name, int64_t t)
{
	if (t <= 0)
		return;
	buf_printf(out, "%s: ", name);
	dsn_format_date(t, out);
	buf_append_str(out, "\r\n");
}

/* The address type of an address: utf-8 (RFC 6533 3) when it needs it. */
static const char *addr_type(const char *address)
{
	return has_8bit(address, strlen(address)) ? "utf-8" : "rfc822";
}

static void put_rcpt_fields(struct dsn_ctx *c, const struct dsn_rcpt *r, struct buf *out)
{
	const struct spool_rcpt *sr = r->rcpt;

	buf_append_str(out, "\r\n");
	if (sr->orcpt != NULL) {
		/* RFC 3464 2.3.1: only what the client gave in ORCPT */
		buf_append_str(out, "Original-Recipient: ");
		put_text(out, sr->orcpt_type != NULL ? sr->orcpt_type : "rfc822", c->global);
		buf_append_char(out, ';');
		put_text(out, sr->orcpt, c->global);
		buf_append_str(out, "\r\n");
	}
	buf_printf(out, "Final-Recipient: %s; ", addr_type(sr->address));
	put_text(out, sr->address, c->global);
	buf_printf(out, "\r\nAction: %s\r\nStatus: %s\r\n", dsn_action_name(r->action),
	           status_of(r));
	if (r->remote_mta != NULL) {
		buf_append_str(out, "Remote-MTA: dns; ");
		put_text(out, r->remote_mta, false);
		buf_append_str(out, "\r\n");
	}
	if (r->diagnostic != NULL) {
		buf_append_str(out, "Diagnostic-Code: smtp; ");
		put_text(out, r->diagnostic, c->global);
		buf_append_str(out, "\r\n");
	}
	put_date_field(out, "Last-Attempt-Date", r->last_attempt);
	if (r->action == DSN_ACTION_DELAYED)
		put_date_field(out, "Will-Retry-Until", r->will_retry_until);
}

static void put_status(struct dsn_ctx *c, struct buf *out)
{
	const struct dsn_params *p = c->p;

	buf_printf(out, "--%s\r\nContent-Description: Delivery report\r\n", c->boundary);
	buf_printf(out, "Content-Type: message/%s\r\n",
	           c->global ? "global-delivery-status" : "delivery-status");
	if (c->global)
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_printf(out, "\r\nReporting-MTA: dns; %s\r\n", p->hostname);
	if (p->env->id != NULL)
		buf_printf(out, "X-Tern-Queue-ID: %s\r\n", p->env->id);
	if (p->env->envid != NULL) {
		buf_append_str(out, "Original-Envelope-Id: ");
		put_text(out, p->env->envid, false);
		buf_append_str(out, "\r\n");
	}
	put_date_field(out, "Arrival-Date", p->env->arrival);
	for (size_t i = 0; i < p->rcpt_count; i++)
		put_rcpt_fields(c, &p->rcpts[i], out);
	buf_append_str(out, "\r\n");
}

static void put_original(struct dsn_ctx *c, struct buf *out)
{
	const struct dsn_original *o = c->orig;
	const char *type;
	bool eight;

	if (o == NULL || o->data.len == 0)
		return;
	if (o->headers_only)
		type = c->global ? "message/global-headers" : "text/rfc822-headers";
	else
		type = c->global ? "message/global" : "message/rfc822";
	eight = has_8bit(o->data.data, o->data.len);
	buf_printf(out, "--%s\r\nContent-Description: %s\r\nContent-Type: %s\r\n", c->boundary,
	           o->headers_only ? "Undelivered Message Headers" : "Undelivered Message", type);
	if (eight)
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_append_str(out, "\r\n");
	buf_append(out, o->data.data, o->data.len);
	if (o->data.len < 2 || memcmp(o->data.data + o->data.len - 2, "\r\n", 2) != 0)
		buf_append_str(out, "\r\n");
	buf_append_str(out, "\r\n");
}

int dsn_compose(const struct dsn_params *p, const struct dsn_original *orig, struct buf *out,
                bool *eight_bit_r, const char **error_r)
{
	struct dsn_ctx c = {.p = p, .orig = orig};
	size_t start = out->len;

	if (p->hostname == NULL || p->hostname[0] == '\0' || p->env == NULL ||
	    p->env->sender == NULL || p->rcpt_count == 0) {
		*error_r = "nothing to report";
		return -1;
	}
	c.global = p->env->smtputf8;
	c.kind = report_kind(p);
	pick_boundary(&c);
	put_header(&c, out);
	put_human(&c, out);
	put_status(&c, out);
	put_original(&c, out);
	buf_printf(out, "--%s--\r\n", c.boundary);
	*eight_bit_r = has_8bit(out->data + start, out->len - start);
	return 0;
}

/* ---- reading the original ---- */

void dsn_original_clear(struct dsn_original *orig)
{
	buf_free(&orig->data);
	orig->headers_only = false;
}

/* The length of the header section in data (up to and without the empty
   line; all of data when there is none), cut at a line end to at most
   max bytes. */
static size_t header_length(const char *data, size_t len, size_t max)
{
	size_t last_eol = 0;

	if (len > 0 && (data[0] == '\n' || (len > 1 && data[0] == '\r' && data[1] == '\n')))
		return 0; /* no header section */
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 > max)
			return last_eol;
		last_eol = i + 1;
		/* an empty line next: the header ends */
		if (i + 1 < len && data[i + 1] == '\n')
			return last_eol;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return last_eol;
	}
	return len <= max ? len : last_eol;
}

/* Read from fd into out until EOF or max bytes; stop early when
   headers_only and the header section is complete. */
static int read_into(int fd, size_t max, bool headers_only, struct buf *out)
{
	while (out->len < max) {
		size_t want = max - out->len < READ_CHUNK ? max - out->len : READ_CHUNK;
		ssize_t n;

		buf_reserve(out, want);
		n = read(fd, out->data + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (headers_only && header_length(out->data, out->len, max) < out->len)
			break;
	}
	return 0;
}

static bool want_full(const struct spool_envelope *env)
{
	return env->ret == SPOOL_RET_FULL && env->body != SPOOL_BODY_BINARYMIME &&
	       env->size <= DSN_MAX_FULL;
}

int dsn_load_original(const char *path, const struct spool_envelope *env,
                      struct dsn_original *orig_r, const char **error_r)
{
	bool full = want_full(env);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	memset(orig_r, 0, sizeof(*orig_r));
	if (fd < 0 || lseek(fd, (off_t)env->data_skip, SEEK_SET) < 0) {
		log_warn(NULL, "event=dsn.read_failed path=%s error=\"%s\"", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		*error_r = "cannot read the original message";
		return -1;
	}
	ret = read_into(fd, full ? DSN_MAX_FULL + 1 : DSN_MAX_HEADER + 2, !full, &orig_r->data);
	close(fd);
	if (ret < 0) {
		log_warn(NULL, "event=dsn.read_failed path=%s error=\"%s\"", path, strerror(errno));
		dsn_original_clear(orig_r);
		*error_r = "cannot read the original message";
		return -1;
	}
	if (full && orig_r->data.len <= DSN_MAX_FULL)
		return 0;
	/* grown since the envelope was written, or headers asked */
	orig_r->headers_only = true;
	orig_r->data.len = header_length(orig_r->data.data != NULL ? orig_r->data.data : "",
	                                 orig_r->data.len, DSN_MAX_HEADER);
	if (orig_r->data.data != NULL)
		orig_r->data.data[orig_r->data.len] = '\0';
	return 0;
}
