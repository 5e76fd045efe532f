/* FETCH attributes: see imap-fetch.h. */
#include "imap/imap-fetch.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/xalloc.h"
#include "mime/mime-binary.h"
#include "store/mailbox.h"
#include "store/maildir.h"

static const struct {
	const char *name;
	unsigned items;
} simple_items[] = {
    {"FLAGS", FETCH_FLAGS},
    {"UID", FETCH_UID},
    {"RFC822.SIZE", FETCH_RFC822_SIZE},
    {"INTERNALDATE", FETCH_INTERNALDATE},
    {"ENVELOPE", FETCH_ENVELOPE},
    {"BODYSTRUCTURE", FETCH_BODYSTRUCTURE},
    {"BODY", FETCH_BODY},
    {"MODSEQ", FETCH_MODSEQ},
    /* The macros (RFC 3501 6.4.5). */
    {"FAST", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_RFC822_SIZE},
    {"ALL", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_RFC822_SIZE | FETCH_ENVELOPE},
    {"FULL", FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_RFC822_SIZE | FETCH_ENVELOPE | FETCH_BODY},
};

static struct fetch_body *add_body(struct fetch_request *req)
{
	return array_push(&req->bodies);
}

/* Parse the section text (between the brackets) into body->sec and the
   older summary fields (section, fields). */
static int set_section(struct fetch_body *body, const char *spec, size_t len)
{
	const char *error;

	if (mime_section_parse(spec, len, &body->sec, &error) < 0)
		return -1;
	if (body->sec->path_len > 0) {
		body->section = FETCH_SECTION_PART;
		return 0;
	}
	switch (body->sec->kind) {
	case MIME_SECTION_ALL:
		body->section = FETCH_SECTION_ALL;
		break;
	case MIME_SECTION_HEADER:
		body->section = FETCH_SECTION_HEADER;
		break;
	case MIME_SECTION_TEXT:
		body->section = FETCH_SECTION_TEXT;
		break;
	case MIME_SECTION_FIELDS:
	case MIME_SECTION_FIELDS_NOT:
		body->section = body->sec->kind == MIME_SECTION_FIELDS
		                    ? FETCH_SECTION_HEADER_FIELDS
		                    : FETCH_SECTION_HEADER_FIELDS_NOT;
		body->fields = body->sec->fields.items;
		body->field_count = body->sec->fields.count;
		break;
	case MIME_SECTION_MIME:
		return -1; /* needs a part number: refused by the parser */
	}
	return 0;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT (RFC 3501 section 6.4.5). */
static bool parse_rfc822(struct fetch_request *req, const char *item)
{
	struct fetch_body *body;
	const char *spec;
	bool peek = false;

	if (strcasecmp(item, "RFC822") == 0) {
		spec = "";
	} else if (strcasecmp(item, "RFC822.HEADER") == 0) {
		spec = "HEADER";
		peek = true;
	} else if (strcasecmp(item, "RFC822.TEXT") == 0) {
		spec = "TEXT";
	} else {
		return false;
	}
	body = add_body(req);
	(void)set_section(body, spec, strlen(spec));
	body->peek = peek;
	body->name = xstrdup(item);
	for (char *p = body->name; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return true;
}

/* "<offset.length>" (RFC 3501 section 6.4.5); length must be non-zero. */
static int parse_partial(const char *p, struct fetch_body *body)
{
	char *end;

	if (*p == '\0')
		return 0;
	if (*p++ != '<' || !isdigit((unsigned char)*p))
		return -1;
	body->offset = strtoull(p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	body->length = strtoull(end + 1, &end, 10);
	if (strcmp(end, ">") != 0 || body->length == 0 || body->offset > UINT32_MAX ||
	    body->length > UINT32_MAX)
		return -1;
	body->partial = true;
	return 0;
}

static void body_name(struct fetch_body *body, const char *section_start, const char *section_end)
{
	struct buf name = BUF_INIT;

	buf_append_str(&name, "BODY[");
	for (const char *p = section_start; p < section_end; p++)
		buf_append_char(&name, (char)toupper((unsigned char)*p));
	buf_append_char(&name, ']');
	/* The response gives only the origin octet (RFC 3501 7.4.2). */
	if (body->partial)
		buf_printf(&name, "<%llu>", (unsigned long long)body->offset);
	body->name = buf_steal(&name);
}

/* BODY[...]<o.n> and BODY.PEEK[...]<o.n>. */
static int parse_body(struct fetch_request *req, const char *item)
{
	struct fetch_body *body;
	const char *p = item, *section, *close;
	bool peek = false;

	if (strncasecmp(p, "BODY.PEEK[", 10) == 0) {
		peek = true;
		p += 10;
	} else if (strncasecmp(p, "BODY[", 5) == 0) {
		p += 5;
	} else {
		return -1;
	}
	body = add_body(req);
	body->peek = peek;
	section = p;
	/* The section ends at the last ']' (a quoted field name may hold
	   one; the partial never does). */
	close = strrchr(section, ']');
	if (close == NULL || set_section(body, section, (size_t)(close - section)) < 0 ||
	    parse_partial(close + 1, body) < 0)
		return -1;
	body_name(body, section, close);
	return 0;
}

/* BINARY[part]<o.n>, BINARY.PEEK[part]<o.n>, BINARY.SIZE[part]
   (RFC 3516 section 4: only part numbers, no HEADER/TEXT/MIME). */
static int parse_binary(struct fetch_request *req, const char *item)
{
	static const struct {
		const char *prefix;
		enum fetch_body_kind kind;
		bool peek;
		const char *name;
	} forms[] = {
	    {"BINARY.PEEK[", FETCH_KIND_BINARY, true, "BINARY["},
	    {"BINARY.SIZE[", FETCH_KIND_BINARY_SIZE, true, "BINARY.SIZE["},
	    {"BINARY[", FETCH_KIND_BINARY, false, "BINARY["},
	};
	struct fetch_body *body;
	const char *section, *close;
	const char *error;
	struct buf name = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strncasecmp(item, forms[i].prefix, strlen(forms[i].prefix)) == 0)
			break;
	}
	if (i == sizeof(forms) / sizeof(forms[0]))
		return -1;
	body = add_body(req);
	body->kind = forms[i].kind;
	body->peek = forms[i].peek;
	body->section = FETCH_SECTION_PART;
	section = item + strlen(forms[i].prefix);
	close = strchr(section, ']');
	if (close == NULL ||
	    mime_binary_parse(section, (size_t)(close - section), &body->sec, &error) < 0 ||
	    parse_partial(close + 1, body) < 0 ||
	    (body->partial && body->kind == FETCH_KIND_BINARY_SIZE))
		return -1;
	if (body->sec->path_len == 0)
		body->section = FETCH_SECTION_ALL;
	buf_append_str(&name, forms[i].name);
	buf_append(&name, section, (size_t)(close - section));
	buf_append_char(&name, ']');
	if (body->partial)
		buf_printf(&name, "<%llu>", (unsigned long long)body->offset);
	body->name = buf_steal(&name);
	return 0;
}

static int parse_item(struct fetch_request *req, const struct imap_arg *arg)
{
	const char *item = imap_arg_atom(arg);

	if (item == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(simple_items) / sizeof(simple_items[0]); i++) {
		if (strcasecmp(item, simple_items[i].name) == 0) {
			req->items |= simple_items[i].items;
			return 0;
		}
	}
	if (parse_rfc822(req, item))
		return 0;
	if (strncasecmp(item, "BINARY", 6) == 0)
		return parse_binary(req, item);
	return parse_body(req, item);
}

int imap_fetch_parse(const struct imap_arg *arg, bool uid, struct fetch_request *req_r,
                     const char **error_r)
{
	struct fetch_request req = {0, ARRAY_INIT, false};
	int ret = 0;

	if (arg->type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < arg->count && ret == 0; i++) {
			if (arg->list[i].type == IMAP_ARG_LIST)
				ret = -1;
			else
				ret = parse_item(&req, &arg->list[i]);
		}
		if (arg->count == 0)
			ret = -1;
	} else {
		ret = parse_item(&req, arg);
	}
	if (ret < 0) {
		imap_fetch_request_free(&req);
		*error_r = "Invalid or unsupported fetch attribute";
		return -1;
	}
	if (uid)
		req.items |= FETCH_UID;
	for (size_t i = 0; i < req.bodies.count; i++)
		req.sets_seen = req.sets_seen || !req.bodies.items[i].peek;
	*req_r = req;
	return 0;
}

void imap_fetch_request_free(struct fetch_request *req)
{
	for (size_t i = 0; i < req->bodies.count; i++) {
		mime_section_free(&req->bodies.items[i].sec);
		free(req->bodies.items[i].name);
	}
	array_free(&req->bodies);
	memset(req, 0, sizeof(*req));
}

bool imap_fetch_needs_tree(const struct fetch_request *req)
{
	if (req->items & (FETCH_BODY | FETCH_BODYSTRUCTURE))
		return true;
	for (size_t i = 0; i < req->bodies.count; i++) {
		if (req->bodies.items[i].sec->path_len > 0)
			return true;
	}
	return false;
}

bool imap_fetch_needs_header(const struct fetch_request *req)
{
	if (req->items & FETCH_ENVELOPE)
		return true;
	for (size_t i = 0; i < req->bodies.count; i++) {
		if (req->bodies.items[i].section != FETCH_SECTION_ALL)
			return true;
	}
	return imap_fetch_needs_tree(req);
}

static bool field_wanted(const char *line, size_t len, char *const *fields, size_t count)
{
	const char *colon = memchr(line, ':', len);
	size_t name_len;

	if (colon == NULL)
		return false;
	name_len = (size_t)(colon - line);
	/* Tolerate "Name :" (obsolete syntax, RFC 5322 4.5.3). */
	while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
		name_len--;
	for (size_t i = 0; i < count; i++) {
		if (strlen(fields[i]) == name_len && strncasecmp(fields[i], line, name_len) == 0)
			return true;
	}
	return false;
}

void imap_header_filter(const char *hdr, size_t hdr_len, char *const *fields, size_t field_count,
                        bool not, struct buf *out)
{
	size_t pos = 0;
	bool keep = false;

	while (pos < hdr_len) {
		const char *lf = memchr(hdr + pos, '\n', hdr_len - pos);
		size_t line_len = lf == NULL ? hdr_len - pos : (size_t)(lf - (hdr + pos)) + 1;
		const char *line = hdr + pos;

		pos += line_len;
		if (line_len <= 2 && (line[0] == '\n' || line[0] == '\r'))
			break; /* the empty line */
		/* A continuation line belongs to the field above it. */
		if (line[0] != ' ' && line[0] != '\t')
			keep = field_wanted(line, line_len, fields, field_count) != not ;
		if (keep)
			buf_append(out, line, line_len);
	}
	buf_append_str(out, "\r\n");
}

void imap_fetch_clip(const struct fetch_body *body, uint64_t size, uint64_t *start_r,
                     uint64_t *len_r)
{
	uint64_t start = 0, len = size;

	if (body->partial) {
		start = body->offset < size ? body->offset : size;
		len = size - start;
		if (len > body->length)
			len = body->length;
	}
	*start_r = start;
	*len_r = len;
}

void imap_append_datetime(struct buf *out, int64_t t)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"", tm.tm_mday,
	           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	           off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* The one table of IMAP flag names (RFC 3501 2.3.2), in the order FLAGS
   lists them. */
static const struct {
	unsigned flag;
	const char *name;
} flag_names[] = {
    {MAIL_ANSWERED, "\\Answered"}, {MAIL_FLAGGED, "\\Flagged"}, {MAIL_DELETED, "\\Deleted"},
    {MAIL_SEEN, "\\Seen"},         {MAIL_DRAFT, "\\Draft"},     {MAIL_RECENT, "\\Recent"},
};
#define FLAG_NAMES (sizeof(flag_names) / sizeof(flag_names[0]))

void imap_append_flags(struct buf *out, unsigned flags)
{
	bool first = true;

	buf_append_char(out, '(');
	for (size_t i = 0; i < FLAG_NAMES; i++) {
		if ((flags & flag_names[i].flag) == 0)
			continue;
		if (!first)
			buf_append_char(out, ' ');
		buf_append_str(out, flag_names[i].name);
		first = false;
	}
	buf_append_char(out, ')');
}

/* RFC 3501 9: atom = 1*ATOM-CHAR; ATOM-CHAR = any CHAR except
   atom-specials ( "(" ")" "{" SP CTL "%" "*" '"' "\\" "]" ). */
static bool keyword_atom(const char *name)
{
	if (!mail_keyword_valid(name))
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

int imap_flag_parse(const char *name, unsigned *flags)
{
	for (size_t i = 0; i < FLAG_NAMES; i++) {
		if (strcasecmp(name, flag_names[i].name) != 0)
			continue;
		if ((flag_names[i].flag & MAIL_STORED_FLAGS) == 0)
			return -1; /* \Recent cannot be set */
		*flags |= flag_names[i].flag;
		return 0;
	}
	/* Other system flags do not exist (RFC 3501 2.3.2). */
	if (name[0] == '\\' || !keyword_atom(name))
		return -1;
	return 1;
}

static void append_keywords(struct buf *out, const struct mailbox *box, uint64_t keywords,
                            bool first)
{
	for (unsigned i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		const char *name = mailbox_keyword_name(box, i);

		if ((keywords & ((uint64_t)1 << i)) == 0 || name == NULL)
			continue;
		if (!first)
			buf_append_char(out, ' ');
		buf_append_str(out, name);
		first = false;
	}
}

void imap_append_msg_flags(struct buf *out, const struct mailbox *box, const struct mail_msg *msg)
{
	imap_append_flags(out, msg->flags);
	if (msg->keywords == 0)
		return;
	out->len--; /* reopen the list: drop ')' */
	append_keywords(out, box, msg->keywords, out->data[out->len - 1] == '(');
	buf_append_char(out, ')');
}

void imap_append_box_flags(struct buf *out, const struct mailbox *box)
{
	imap_append_flags(out, MAIL_STORED_FLAGS);
	out->len--;
	append_keywords(out, box, mailbox_keywords_defined(box), false);
	buf_append_char(out, ')');
}

void imap_append_astring(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	bool quotable = len < 1024;

	for (size_t i = 0; i < len && quotable; i++) {
		unsigned char c = (unsigned char)s[i];
		quotable = c != '\r' && c != '\n' && c != 0 && c < 0x80;
	}
	if (!quotable) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, s[i]);
	}
	buf_append_char(out, '"');
}
