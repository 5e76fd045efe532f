#include "mime/mime-imap.h"

#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mime/mime-address.h"
#include "mime/mime-rfc822.h"

static bool needs_literal(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c >= 0x80)
			return true;
	}
	return false;
}

static size_t count_nonnul(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] != '\0';
	return n;
}

void mime_imap_nstring(struct buf *out, const char *s, size_t len)
{
	if (s == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	if (needs_literal(s, len)) {
		/* RFC 3501 section 4.3: a literal, which may not hold NUL */
		buf_printf(out, "{%zu}\r\n", count_nonnul(s, len));
		for (size_t i = 0; i < len; i++) {
			if (s[i] != '\0')
				buf_append_char(out, s[i]);
		}
		return;
	}
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			continue;
		if (s[i] == '"' || s[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, s[i]);
	}
	buf_append_char(out, '"');
}

static void nstr(struct buf *out, const char *s)
{
	mime_imap_nstring(out, s, s == NULL ? 0 : strlen(s));
}

static void field_nstring(struct buf *out, const struct mime_part *msg, const char *name)
{
	const struct mime_field *f = mime_part_field(msg, name);

	if (f == NULL)
		buf_append_str(out, "NIL");
	else
		mime_imap_nstring(out, f->value, f->value_len);
}

static void address_one(struct buf *out, const struct mime_address *a)
{
	buf_append_char(out, '(');
	if (a->group_start || a->group_end) {
		/* RFC 3501 section 7.4.2: group syntax */
		buf_append_str(out, "NIL NIL ");
		nstr(out, a->mailbox);
		buf_append_str(out, " NIL)");
		return;
	}
	nstr(out, a->name);
	buf_append_char(out, ' ');
	nstr(out, a->route);
	buf_append_char(out, ' ');
	nstr(out, a->mailbox[0] != '\0' ? a->mailbox : "MISSING_MAILBOX");
	buf_append_char(out, ' ');
	nstr(out, a->domain[0] != '\0' ? a->domain : "MISSING_DOMAIN");
	buf_append_char(out, ')');
}

/* Returns false (writing nothing) if the field is absent or has no
   address. */
static bool address_list(struct buf *out, const struct mime_part *msg, const char *name)
{
	const struct mime_field *f = mime_part_field(msg, name);
	struct mime_address *list;
	size_t count;

	if (f == NULL)
		return false;
	mime_address_list_parse(f->value, f->value_len, &list, &count);
	if (count == 0)
		return false;
	buf_append_char(out, '(');
	for (size_t i = 0; i < count; i++)
		address_one(out, &list[i]);
	buf_append_char(out, ')');
	mime_address_list_free(&list, count);
	return true;
}

static void address_field(struct buf *out, const struct mime_part *msg, const char *name,
                          const char *fallback)
{
	buf_append_char(out, ' ');
	if (address_list(out, msg, name))
		return;
	if (fallback == NULL || !address_list(out, msg, fallback))
		buf_append_str(out, "NIL");
}

void mime_imap_envelope(const struct mime_part *msg, struct buf *out)
{
	buf_append_char(out, '(');
	field_nstring(out, msg, "Date");
	buf_append_char(out, ' ');
	field_nstring(out, msg, "Subject");
	address_field(out, msg, "From", NULL);
	address_field(out, msg, "Sender", "From");
	address_field(out, msg, "Reply-To", "From");
	address_field(out, msg, "To", NULL);
	address_field(out, msg, "Cc", NULL);
	address_field(out, msg, "Bcc", NULL);
	buf_append_char(out, ' ');
	field_nstring(out, msg, "In-Reply-To");
	buf_append_char(out, ' ');
	field_nstring(out, msg, "Message-ID");
	buf_append_char(out, ')');
}

static void params(struct buf *out, const struct mime_param *p, size_t count)
{
	if (count == 0) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_char(out, '(');
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		nstr(out, p[i].name);
		buf_append_char(out, ' ');
		nstr(out, p[i].value);
	}
	buf_append_char(out, ')');
}

static void disposition(struct buf *out, const struct mime_part *part)
{
	if (part->disposition == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_char(out, '(');
	nstr(out, part->disposition);
	buf_append_char(out, ' ');
	params(out, part->disp_params, part->disp_param_count);
	buf_append_char(out, ')');
}

/* RFC 3066 tags, comma separated (RFC 3282): always sent as a list. */
static void language(struct buf *out, const char *value)
{
	struct rfc822_reader r;
	struct buf tag = BUF_INIT;
	size_t n = 0;

	if (value == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	rfc822_reader_init(&r, value, strlen(value));
	for (;;) {
		rfc822_skip_cfws(&r, NULL);
		if (rfc822_eof(&r))
			break;
		buf_clear(&tag);
		if (rfc822_read_token(&r, &tag) == 0) {
			r.p++;
			continue;
		}
		buf_append_str(out, n++ == 0 ? "(" : " ");
		nstr(out, tag.data);
	}
	buf_append_str(out, n == 0 ? "NIL" : ")");
	buf_free(&tag);
}

static void extension(struct buf *out, const struct mime_part *part)
{
	buf_append_char(out, ' ');
	disposition(out, part);
	buf_append_char(out, ' ');
	language(out, part->language);
	buf_append_char(out, ' ');
	nstr(out, part->location);
}

/* The first token of Content-Transfer-Encoding, or "7bit" (RFC 2045
   section 6.1). */
static void encoding(struct buf *out, const struct mime_part *part)
{
	struct rfc822_reader r;
	struct buf tok = BUF_INIT;

	if (part->encoding != NULL) {
		rfc822_reader_init(&r, part->encoding, strlen(part->encoding));
		rfc822_skip_cfws(&r, NULL);
		(void)rfc822_read_token(&r, &tok);
	}
	nstr(out, tok.len > 0 ? tok.data : "7bit");
	buf_free(&tok);
}

static void multipart(const struct mime_part *part, bool ext, struct buf *out)
{
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		mime_imap_bodystructure(c, ext, out);
	buf_append_char(out, ' ');
	nstr(out, part->subtype);
	if (ext) {
		buf_append_char(out, ' ');
		params(out, part->params, part->param_count);
		extension(out, part);
	}
}

static void body_fields(const struct mime_part *part, struct buf *out)
{
	if (!part->has_content_type) {
		/* RFC 2045 section 5.2 default, spelled as servers do */
		buf_append_str(out, mime_part_is(part, "text", "plain")
		                        ? "\"text\" \"plain\" (\"charset\" \"us-ascii\")"
		                        : "\"message\" \"rfc822\" NIL");
	} else {
		nstr(out, part->type);
		buf_append_char(out, ' ');
		nstr(out, part->subtype);
		buf_append_char(out, ' ');
		params(out, part->params, part->param_count);
	}
	buf_append_char(out, ' ');
	nstr(out, part->id);
	buf_append_char(out, ' ');
	nstr(out, part->description);
	buf_append_char(out, ' ');
	encoding(out, part);
	buf_printf(out, " %llu", (unsigned long long)part->body.size);
}

static void single(const struct mime_part *part, bool ext, struct buf *out)
{
	body_fields(part, out);
	if (part->kind == MIME_PART_MESSAGE) {
		buf_append_char(out, ' ');
		mime_imap_envelope(part->children, out);
		buf_append_char(out, ' ');
		mime_imap_bodystructure(part->children, ext, out);
		buf_printf(out, " %llu", (unsigned long long)part->body.lines);
	} else if (strcasecmp(part->type, "text") == 0) {
		buf_printf(out, " %llu", (unsigned long long)part->body.lines);
	}
	if (ext) {
		buf_append_char(out, ' ');
		nstr(out, part->md5);
		extension(out, part);
	}
}

void mime_imap_bodystructure(const struct mime_part *part, bool extended, struct buf *out)
{
	buf_append_char(out, '(');
	if (part->kind == MIME_PART_MULTIPART)
		multipart(part, extended, out);
	else
		single(part, extended, out);
	buf_append_char(out, ')');
}
