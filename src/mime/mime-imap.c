#include "mime/mime-imap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
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

/* RFC 2231 section 3: the segment number of a "name*N" or "name*N*"
   continuation (with the length of name and whether the segment is
   extended in *base_len_r and *ext_r), or -1 for any other name. */
static long continuation(const char *name, size_t *base_len_r, bool *ext_r)
{
	const char *star = strchr(name, '*');
	const char *p;
	long n = 0;

	if (star == NULL || star == name || star[1] < '0' || star[1] > '9')
		return -1;
	for (p = star + 1; *p >= '0' && *p <= '9' && n < 100000; p++)
		n = n * 10 + (*p - '0');
	if (*p == '*' ? p[1] != '\0' : *p != '\0')
		return -1;
	*base_len_r = (size_t)(star - name);
	*ext_r = *p == '*';
	return n;
}

/* The index of segment n of the continued parameter base, or -1. */
static long find_segment(const struct mime_param *p, size_t count, const char *base,
                         size_t base_len, long n)
{
	for (size_t i = 0; i < count; i++) {
		size_t len;
		bool ext;

		if (continuation(p[i].name, &len, &ext) == n && len == base_len &&
		    strncasecmp(p[i].name, base, len) == 0)
			return (long)i;
	}
	return -1;
}

/* RFC 2231 continuations: chain_r[i] is true for the segment 0 that starts
   a chain (the first one of its name) and for the segments 1, 2, ... that
   follow it without a gap; those are sent joined (merged_param), the
   others as written. O(count^2); count is at most the parser's
   parameter cap. */
static void find_chains(const struct mime_param *p, size_t count, bool *chain_r)
{
	for (size_t i = 0; i < count; i++) {
		size_t len;
		bool ext;
		long k;

		if (continuation(p[i].name, &len, &ext) != 0 ||
		    find_segment(p, count, p[i].name, len, 0) != (long)i)
			continue;
		chain_r[i] = true;
		for (long n = 1; (k = find_segment(p, count, p[i].name, len, n)) >= 0; n++)
			chain_r[k] = true;
	}
}

/* RFC 2231 section 3: segments 0, 1, ... joined into one parameter, named
   "name*" when any segment is extended (the charset'language' prefix of
   segment 0 stays in the value for the client to decode, RFC 2231
   section 4), else "name". */
static void merged_param(struct buf *out, const struct mime_param *p, size_t count, size_t first)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	size_t base_len;
	bool ext, any_ext = false;
	long i = (long)first;

	(void)continuation(p[first].name, &base_len, &ext);
	for (long n = 1; i >= 0; n++) {
		(void)continuation(p[i].name, &base_len, &ext);
		any_ext = any_ext || ext;
		buf_append_str(&value, p[i].value);
		i = find_segment(p, count, p[first].name, base_len, n);
	}
	buf_append(&name, p[first].name, base_len);
	if (any_ext)
		buf_append_char(&name, '*');
	nstr(out, buf_cstr(&name));
	buf_append_char(out, ' ');
	mime_imap_nstring(out, value.data, value.len);
	buf_free(&name);
	buf_free(&value);
}

static void param_one(struct buf *out, const struct mime_param *p, size_t count, size_t i,
                      bool chained)
{
	size_t base_len;
	bool ext;

	if (chained && continuation(p[i].name, &base_len, &ext) == 0) {
		merged_param(out, p, count, i);
		return;
	}
	nstr(out, p[i].name);
	buf_append_char(out, ' ');
	nstr(out, p[i].value);
}

/* The parameter list; default_charset adds "charset" "us-ascii" when there
   is no charset (RFC 2046 section 4.1.2: the default for text). */
static void params(struct buf *out, const struct mime_param *p, size_t count, bool default_charset)
{
	bool *chain = xcalloc(count + 1, sizeof(*chain));
	size_t base_len, n = 0;
	bool ext;

	find_chains(p, count, chain);
	default_charset = default_charset && mime_param_get(p, count, "charset") == NULL;
	for (size_t i = 0; i < count; i++) {
		if (chain[i] && continuation(p[i].name, &base_len, &ext) > 0)
			continue; /* sent with its segment 0 */
		buf_append_str(out, n++ == 0 ? "(" : " ");
		param_one(out, p, count, i, chain[i]);
	}
	if (default_charset)
		buf_append_str(out, n++ == 0 ? "(\"charset\" \"us-ascii\""
		                             : " \"charset\" \"us-ascii\"");
	buf_append_str(out, n == 0 ? "NIL" : ")");
	free(chain);
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
	params(out, part->disp_params, part->disp_param_count, false);
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

/* What stands in for a part that could not be parsed: an empty text/plain
   body, so the answer still has the shape RFC 3501 section 9 requires. */
static void empty_text(bool ext, struct buf *out)
{
	buf_append_str(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0");
	buf_append_str(out, ext ? " NIL NIL NIL NIL)" : ")");
}

static void multipart(const struct mime_part *part, bool ext, struct buf *out)
{
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		mime_imap_bodystructure(c, ext, out);
	if (part->children == NULL) {
		/* a multipart whose boundary never showed up: body-type-mpart
		   needs at least one body (RFC 3501 section 9) */
		empty_text(ext, out);
	}
	buf_append_char(out, ' ');
	nstr(out, part->subtype);
	if (ext) {
		buf_append_char(out, ' ');
		params(out, part->params, part->param_count, false);
		extension(out, part);
	}
}

/* A multipart the parser left as a leaf (no boundary, or one that never
   showed up) is still rendered as a multipart, with no parts found. */
static bool as_multipart(const struct mime_part *part)
{
	return part->kind == MIME_PART_MULTIPART ||
	       (part->has_content_type && strcasecmp(part->type, "multipart") == 0);
}

/* message/rfc822 and message/global always take the body-type-msg form
   (RFC 3501 section 9 grammar), even when the parser left the part opaque
   (an encoded message, RFC 2046 section 5.2.1, or the nesting cap). */
static bool is_message(const struct mime_part *part)
{
	return part->kind == MIME_PART_MESSAGE ||
	       (part->has_content_type && (mime_part_is(part, "message", "rfc822") ||
	                                   mime_part_is(part, "message", "global")));
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
		params(out, part->params, part->param_count, strcasecmp(part->type, "text") == 0);
	}
	buf_append_char(out, ' ');
	nstr(out, part->id);
	buf_append_char(out, ' ');
	nstr(out, part->description);
	buf_append_char(out, ' ');
	encoding(out, part);
	buf_printf(out, " %llu", (unsigned long long)part->body.size);
}

static void message_body(const struct mime_part *part, bool ext, struct buf *out)
{
	buf_append_char(out, ' ');
	if (part->kind == MIME_PART_MESSAGE) {
		mime_imap_envelope(part->children, out);
		buf_append_char(out, ' ');
		mime_imap_bodystructure(part->children, ext, out);
	} else {
		buf_append_str(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ");
		empty_text(ext, out);
	}
	buf_printf(out, " %llu", (unsigned long long)part->body.lines);
}

static void single(const struct mime_part *part, bool ext, struct buf *out)
{
	body_fields(part, out);
	if (is_message(part))
		message_body(part, ext, out);
	else if (strcasecmp(part->type, "text") == 0)
		buf_printf(out, " %llu", (unsigned long long)part->body.lines);
	if (ext) {
		buf_append_char(out, ' ');
		nstr(out, part->md5);
		extension(out, part);
	}
}

void mime_imap_bodystructure(const struct mime_part *part, bool extended, struct buf *out)
{
	buf_append_char(out, '(');
	if (as_multipart(part))
		multipart(part, extended, out);
	else
		single(part, extended, out);
	buf_append_char(out, ')');
}
