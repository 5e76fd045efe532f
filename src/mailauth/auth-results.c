/* Authentication-Results (RFC 8601): writer and parser. */
#include "mailauth/auth-results.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

/* --- character classes --- */

/* RFC 2045 section 5.1 token characters. */
static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_token_char((unsigned char)*s))
			return false;
	return true;
}

/* dot-atom (RFC 5322 3.2.3); an empty one is fine for "@domain". */
static bool is_dot_atom(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' ? (i == 0 || i + 1 == len || s[i - 1] == '.')
		                : !is_atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* A host name: letters, digits, '-' and '.', not starting with '.'. */
static bool is_domain_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c >= 0x80))
			return false;
	}
	return true;
}

/* --- writer --- */

static void append_quoted(struct buf *out, const char *s)
{
	buf_append_char(out, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	buf_append_char(out, '"');
}

/* RFC 8601 2.2 pvalue: value / [[local-part] "@"] domain-name. */
static void append_pvalue(struct buf *out, const char *s)
{
	const char *at = strrchr(s, '@');

	if (is_token(s) ||
	    (at != NULL && is_dot_atom(s, (size_t)(at - s)) && is_domain_name(at + 1)))
		buf_append_str(out, s);
	else
		append_quoted(out, s);
}

static void append_comment(struct buf *out, const char *s)
{
	buf_append_str(out, " (");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '(' || c == ')' || c == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	buf_append_char(out, ')');
}

void auth_results_writer_init(struct auth_results_writer *w, struct buf *out,
                              const char *authserv_id, bool fold)
{
	w->out = out;
	w->entries = 0;
	w->fold = fold;
	if (is_token(authserv_id))
		buf_append_str(out, authserv_id);
	else
		append_quoted(out, authserv_id);
}

void auth_results_add(struct auth_results_writer *w, const char *method, const char *result,
                      const char *comment, ...)
{
	va_list ap;
	const char *name;

	buf_append_str(w->out, w->fold ? ";\r\n\t" : "; ");
	buf_printf(w->out, "%s=%s", method, result);
	if (comment != NULL)
		append_comment(w->out, comment);
	va_start(ap, comment);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (value == NULL)
			continue;
		buf_printf(w->out, " %s=", name);
		append_pvalue(w->out, value);
	}
	va_end(ap);
	w->entries++;
}

void auth_results_writer_finish(struct auth_results_writer *w)
{
	if (w->entries == 0)
		buf_append_str(w->out, "; none");
}

/* --- parser --- */

struct lexer {
	const char *s;
	size_t pos, len;
	const char *error;
};

static bool at_end(const struct lexer *lx)
{
	return lx->pos >= lx->len;
}

static unsigned char peek(const struct lexer *lx)
{
	return at_end(lx) ? '\0' : (unsigned char)lx->s[lx->pos];
}

static int fail(struct lexer *lx, const char *error)
{
	lx->error = error;
	return -1;
}

/* Skip one comment starting at '(' (RFC 5322 3.2.2: nested, quoted-pair). */
static int skip_comment(struct lexer *lx)
{
	unsigned depth = 0;

	do {
		unsigned char c = peek(lx);

		if (at_end(lx))
			return fail(lx, "unterminated comment");
		if (c == '\\')
			lx->pos++;
		else if (c == '(' && ++depth > AUTH_RESULTS_MAX_NESTING)
			return fail(lx, "comments nested too deep");
		else if (c == ')')
			depth--;
		lx->pos++;
	} while (depth > 0);
	return 0;
}

/* Skip [CFWS]. Returns 1 if anything was skipped, 0 if not, -1 on error. */
static int skip_cfws(struct lexer *lx)
{
	size_t start = lx->pos;

	while (!at_end(lx)) {
		unsigned char c = peek(lx);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			lx->pos++;
		else if (c == '(') {
			if (skip_comment(lx) < 0)
				return -1;
		} else
			break;
	}
	return lx->pos > start ? 1 : 0;
}

/* A quoted-string at '"', unquoted into out. */
static int read_quoted(struct lexer *lx, struct buf *out)
{
	lx->pos++;
	for (;;) {
		unsigned char c = peek(lx);

		if (at_end(lx))
			return fail(lx, "unterminated quoted-string");
		lx->pos++;
		if (c == '"')
			return 0;
		if (c == '\\') {
			if (at_end(lx))
				return fail(lx, "unterminated quoted-string");
			c = peek(lx);
			lx->pos++;
		}
		buf_append_char(out, (char)c);
	}
}

/* A run of bytes accepted by ok(); -1 if empty. */
static int read_run(struct lexer *lx, bool (*ok)(unsigned char), struct buf *out)
{
	size_t start = lx->pos;

	while (!at_end(lx) && ok(peek(lx)))
		lx->pos++;
	if (lx->pos == start)
		return fail(lx, "expected a token");
	buf_append(out, lx->s + start, lx->pos - start);
	return 0;
}

static bool is_keyword_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* pvalue bytes, leniently: anything printable but specials that end it. */
static bool is_pvalue_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != ';' && c != '(' && c != ')' && c != '"';
}

/* A value: quoted-string or token (RFC 2045), or with lenient, a pvalue. */
static int read_value(struct lexer *lx, bool lenient, struct buf *out)
{
	size_t start = lx->pos, mark = out->len;

	if (peek(lx) != '"')
		return read_run(lx, lenient ? is_pvalue_char : is_token_char, out);
	if (read_quoted(lx, out) < 0)
		return -1;
	if (lenient && peek(lx) == '@') {
		/* A quoted local-part of [local-part] "@" domain-name: keep the
		   address as written. */
		out->len = mark;
		buf_append(out, lx->s + start, lx->pos - start);
		return read_run(lx, is_pvalue_char, out);
	}
	return 0;
}

static char *take_lower(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] >= 'A' && b->data[i] <= 'Z')
			b->data[i] = (char)(b->data[i] - 'A' + 'a');
	return buf_steal(b);
}

static int expect_char(struct lexer *lx, char c, const char *error)
{
	if (skip_cfws(lx) < 0)
		return -1;
	if (peek(lx) != (unsigned char)c)
		return fail(lx, error);
	lx->pos++;
	return skip_cfws(lx) < 0 ? -1 : 0;
}

/* [CFWS] authserv-id, into out. */
static int parse_id(struct lexer *lx, struct buf *out)
{
	if (lx->len > AUTH_RESULTS_MAX_LEN)
		return fail(lx, "value too long");
	if (skip_cfws(lx) < 0 || read_value(lx, false, out) < 0)
		return -1;
	return 0;
}

/* One propspec: ptype "." property "=" pvalue. */
static int parse_prop(struct lexer *lx, struct auth_results_entry *e)
{
	struct buf ptype = BUF_INIT, property = BUF_INIT, value = BUF_INIT;
	struct auth_results_prop *p;

	if (e->prop_count == AUTH_RESULTS_MAX_PROPS)
		return fail(lx, "too many properties");
	if (read_run(lx, is_keyword_char, &ptype) < 0 || expect_char(lx, '.', "expected '.'") < 0 ||
	    read_run(lx, is_keyword_char, &property) < 0 ||
	    expect_char(lx, '=', "expected '='") < 0 || read_value(lx, true, &value) < 0) {
		buf_free(&ptype);
		buf_free(&property);
		buf_free(&value);
		return -1;
	}
	p = &e->props[e->prop_count++];
	p->ptype = take_lower(&ptype);
	p->property = buf_steal(&property);
	p->value = buf_steal(&value);
	return 0;
}

/* methodspec: method [ "/" version ] "=" result. */
static int parse_methodspec(struct lexer *lx, struct auth_results_entry *e)
{
	struct buf method = BUF_INIT, result = BUF_INIT, version = BUF_INIT;
	int ret = read_run(lx, is_keyword_char, &method);

	if (ret == 0 && skip_cfws(lx) >= 0 && peek(lx) == '/') {
		lx->pos++;
		ret = skip_cfws(lx) < 0 ? -1 : read_run(lx, is_keyword_char, &version);
	}
	if (ret == 0)
		ret = expect_char(lx, '=', "expected '=' after method");
	if (ret == 0)
		ret = read_run(lx, is_keyword_char, &result);
	buf_free(&version);
	if (ret < 0) {
		buf_free(&method);
		buf_free(&result);
		return -1;
	}
	e->method = take_lower(&method);
	e->result = take_lower(&result);
	return 0;
}

/* After methodspec: [reason=value] and propspecs until ';' or the end. */
static int parse_resinfo_rest(struct lexer *lx, struct auth_results_entry *e)
{
	for (;;) {
		size_t mark;

		if (skip_cfws(lx) < 0)
			return -1;
		if (at_end(lx) || peek(lx) == ';')
			return 0;
		mark = lx->pos;
		if (e->reason == NULL && lx->len - lx->pos >= 6 &&
		    strncasecmp(lx->s + lx->pos, "reason", 6) == 0) {
			struct buf reason = BUF_INIT;

			lx->pos += 6;
			if (expect_char(lx, '=', "") == 0 && read_value(lx, true, &reason) == 0) {
				e->reason = buf_steal(&reason);
				continue;
			}
			buf_free(&reason);
			lx->pos = mark;
			lx->error = NULL;
		}
		if (parse_prop(lx, e) < 0)
			return -1;
	}
}

static int parse_entries(struct lexer *lx, struct auth_results *ar)
{
	while (skip_cfws(lx) >= 0 && !at_end(lx)) {
		struct auth_results_entry *e;

		if (peek(lx) != ';')
			return fail(lx, "expected ';'");
		lx->pos++;
		if (skip_cfws(lx) < 0)
			return -1;
		/* "; none" (no-result) only as the sole entry. */
		if (ar->entries.count == 0 && lx->len - lx->pos >= 4 &&
		    strncasecmp(lx->s + lx->pos, "none", 4) == 0 &&
		    !is_keyword_char(
		        (unsigned char)(lx->pos + 4 < lx->len ? lx->s[lx->pos + 4] : 0))) {
			lx->pos += 4;
			return skip_cfws(lx) < 0 ? -1
			       : at_end(lx)      ? 0
			                         : fail(lx, "text after none");
		}
		if (ar->entries.count == AUTH_RESULTS_MAX_ENTRIES)
			return fail(lx, "too many results");
		e = array_push(&ar->entries);
		if (parse_methodspec(lx, e) < 0 || parse_resinfo_rest(lx, e) < 0)
			return -1;
	}
	return lx->error == NULL ? 0 : -1;
}

/* [CFWS] authres-version after the id. */
static int parse_version(struct lexer *lx, struct auth_results *ar)
{
	unsigned v = 0;
	size_t start;

	if (skip_cfws(lx) < 0)
		return -1;
	start = lx->pos;
	while (peek(lx) >= '0' && peek(lx) <= '9' && v < 1000000) {
		v = v * 10 + (peek(lx) - '0');
		lx->pos++;
	}
	ar->version = lx->pos > start ? v : 1;
	return 0;
}

int auth_results_parse(const char *value, size_t len, struct auth_results **ar_r,
                       const char **error_r)
{
	struct lexer lx = {value, 0, len, NULL};
	struct auth_results *ar = xcalloc(1, sizeof(*ar));
	struct buf id = BUF_INIT;

	if (parse_id(&lx, &id) < 0 || parse_version(&lx, ar) < 0 || parse_entries(&lx, ar) < 0) {
		buf_free(&id);
		auth_results_free(&ar);
		*error_r = lx.error;
		return -1;
	}
	ar->authserv_id = buf_steal(&id);
	*ar_r = ar;
	return 0;
}

int auth_results_authserv_id(const char *value, size_t len, struct buf *id_out,
                             const char **error_r)
{
	struct lexer lx = {value, 0, len, NULL};
	struct buf id = BUF_INIT;

	if (parse_id(&lx, &id) < 0) {
		buf_free(&id);
		*error_r = lx.error;
		return -1;
	}
	buf_append(id_out, id.data, id.len);
	buf_free(&id);
	return 0;
}

bool auth_results_claims(const char *value, size_t len, const char *authserv_id)
{
	struct buf id = BUF_INIT;
	const char *error;
	bool ours = auth_results_authserv_id(value, len, &id, &error) == 0 &&
	            strcasecmp(buf_cstr(&id), authserv_id) == 0;

	buf_free(&id);
	return ours;
}

const char *auth_results_prop_value(const struct auth_results_entry *entry, const char *ptype,
                                    const char *property)
{
	for (size_t i = 0; i < entry->prop_count; i++) {
		const struct auth_results_prop *p = &entry->props[i];

		if (strcasecmp(p->ptype, ptype) == 0 && strcasecmp(p->property, property) == 0)
			return p->value;
	}
	return NULL;
}

void auth_results_free(struct auth_results **ar)
{
	if (*ar == NULL)
		return;
	for (size_t i = 0; i < (*ar)->entries.count; i++) {
		struct auth_results_entry *e = &(*ar)->entries.items[i];

		free(e->method);
		free(e->result);
		free(e->reason);
		for (size_t j = 0; j < e->prop_count; j++) {
			free(e->props[j].ptype);
			free(e->props[j].property);
			free(e->props[j].value);
		}
	}
	array_free(&(*ar)->entries);
	free((*ar)->authserv_id);
	free(*ar);
	*ar = NULL;
}
