#include "lib/address.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

/* A read position in the input; error is set by the first failure. */
struct cursor {
	const unsigned char *p;
	size_t len;
	size_t pos;
	const char *error;
};

static int fail(struct cursor *c, const char *error)
{
	if (c->error == NULL)
		c->error = error;
	return -1;
}

static int peek(const struct cursor *c)
{
	return c->pos < c->len ? c->p[c->pos] : -1;
}

size_t utf8_char_len(const unsigned char *p, size_t len)
{
	size_t n;
	unsigned cp;

	if (len == 0 || p[0] < 0xc2 || p[0] > 0xf4)
		return 0; /* ASCII, a continuation byte, or an overlong/too-big lead */
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (len < n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong 3- and 4-byte forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

/* Consume one UTF-8 character (non-ASCII) into out, if there is one. */
static int take_utf8(struct cursor *c, struct buf *out)
{
	size_t n = utf8_char_len(c->p + c->pos, c->len - c->pos);

	if (n == 0)
		return fail(c, "invalid 8-bit character");
	if (out != NULL)
		buf_append(out, c->p + c->pos, n);
	c->pos += n;
	return 0;
}

/* RFC 5322 atext, the characters of an Atom. */
static bool is_atext(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return ch > 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

static bool is_let_dig(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Atom = 1*atext; a non-ASCII UTF-8 character counts as atext (RFC 6531). */
static int parse_atom(struct cursor *c, struct buf *out)
{
	size_t start = c->pos;

	for (;;) {
		int ch = peek(c);

		if (ch >= 0x80) {
			if (take_utf8(c, out) < 0)
				return -1;
		} else if (ch >= 0 && is_atext(ch)) {
			buf_append_char(out, (char)ch);
			c->pos++;
		} else {
			break;
		}
	}
	return c->pos > start ? 0 : fail(c, "bad local part");
}

/* Dot-string = Atom *("." Atom) */
static int parse_dot_string(struct cursor *c, struct buf *out)
{
	if (parse_atom(c, out) < 0)
		return -1;
	while (peek(c) == '.') {
		buf_append_char(out, '.');
		c->pos++;
		if (parse_atom(c, out) < 0)
			return -1;
	}
	return 0;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; qtextSMTP is %d32-33 /
   %d35-91 / %d93-126 (and UTF-8), quoted-pairSMTP is "\" %d32-126. */
static int parse_quoted_string(struct cursor *c, struct buf *out)
{
	c->pos++; /* the opening DQUOTE */
	for (;;) {
		int ch = peek(c);

		if (ch == '"') {
			c->pos++;
			return 0;
		}
		if (ch == '\\') {
			c->pos++;
			ch = peek(c);
			if (ch < 32 || ch > 126)
				return fail(c, "bad quoted pair in local part");
		} else if (ch >= 0x80) {
			if (take_utf8(c, out) < 0)
				return -1;
			continue;
		} else if (ch < 32 || ch > 126) {
			return fail(c, ch < 0 ? "unterminated quoted local part"
			                      : "bad character in quoted local part");
		}
		buf_append_char(out, (char)ch);
		c->pos++;
	}
}

static int parse_local_part(struct cursor *c, struct buf *out)
{
	size_t start = c->pos;
	int ret;

	ret = peek(c) == '"' ? parse_quoted_string(c, out) : parse_dot_string(c, out);
	if (ret < 0)
		return -1;
	if (c->pos - start > ADDRESS_LOCAL_MAX)
		return fail(c, "local part too long");
	if (out->len == 0)
		return fail(c, "empty local part");
	return 0;
}

/* sub-domain = Let-dig [Ldh-str]: no leading or trailing hyphen. A U-label
   (UTF-8) is taken as is: its bytes count as letters. */
static int parse_label(struct cursor *c)
{
	size_t start = c->pos;
	int last = -1;

	for (;;) {
		int ch = peek(c);

		if (ch >= 0x80) {
			if (take_utf8(c, NULL) < 0)
				return -1;
			last = 'a';
			continue;
		}
		if (ch < 0 || !(is_let_dig(ch) || ch == '-'))
			break;
		if (ch == '-' && c->pos == start)
			return fail(c, "domain label starts with a hyphen");
		last = ch;
		c->pos++;
	}
	if (c->pos == start)
		return fail(c, "empty domain label");
	if (last == '-')
		return fail(c, "domain label ends with a hyphen");
	if (c->pos - start > ADDRESS_LABEL_MAX)
		return fail(c, "domain label too long");
	return 0;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]"
   (RFC 5321 section 4.1.3). General-address-literal tags are not
   supported: nothing standardises one besides IPv6. */
static int parse_address_literal(struct cursor *c)
{
	const unsigned char *end = memchr(c->p + c->pos, ']', c->len - c->pos);
	unsigned char addr[16];
	char text[64];
	size_t n;
	int af = AF_INET;
	size_t skip = 1;

	if (end == NULL)
		return fail(c, "unterminated address literal");
	n = (size_t)(end - (c->p + c->pos)) - 1;
	if (n > 5 && strncasecmp((const char *)c->p + c->pos + 1, "IPv6:", 5) == 0) {
		af = AF_INET6;
		skip += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(text))
		return fail(c, "bad address literal");
	memcpy(text, c->p + c->pos + skip, n);
	text[n] = '\0';
	if (strlen(text) != n || inet_pton(af, text, addr) != 1)
		return fail(c, "bad address literal");
	c->pos = (size_t)(end - c->p) + 1;
	return 0;
}

/* Domain = sub-domain *("." sub-domain), or an address literal. */
static int parse_domain(struct cursor *c)
{
	size_t start = c->pos;

	if (peek(c) == '[')
		return parse_address_literal(c);
	if (parse_label(c) < 0)
		return -1;
	while (peek(c) == '.') {
		c->pos++;
		if (parse_label(c) < 0)
			return -1;
	}
	if (c->pos - start > ADDRESS_DOMAIN_MAX)
		return fail(c, "domain too long");
	return 0;
}

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

/* The A-label form of a domain holding U-labels (IDNA2008 with the UTS 46
   mapping, which also folds case), malloc'ed; NULL if it is no valid IDN. */
static char *domain_to_ascii(const char *domain)
{
	uint8_t *out = NULL;
	char *copy;

	if (idn2_lookup_u8((const uint8_t *)domain, &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) !=
	    IDN2_OK)
		return NULL;
	copy = xstrdup((const char *)out);
	idn2_free(out);
	return copy;
}

/* A domain with U-labels must be one IDNA accepts (RFC 6531 section 3.3
   refers to IDNA for them). */
static int check_idn(struct cursor *c, size_t start)
{
	char *domain, *ascii;

	if (!has_8bit((const char *)c->p + start, c->pos - start))
		return 0;
	domain = xstrndup((const char *)c->p + start, c->pos - start);
	ascii = domain_to_ascii(domain);
	free(domain);
	if (ascii == NULL)
		return fail(c, "domain is not a valid internationalised domain name");
	free(ascii);
	return 0;
}

static int parse_mailbox(struct cursor *c, struct address *addr_r)
{
	struct buf local = BUF_INIT;
	size_t dstart;

	if (parse_local_part(c, &local) < 0)
		goto fail;
	if (peek(c) != '@') {
		fail(c, peek(c) < 0 || peek(c) == '>' ? "missing domain"
		                                      : "bad character in local part");
		goto fail;
	}
	c->pos++;
	dstart = c->pos;
	if (parse_domain(c) < 0 || check_idn(c, dstart) < 0)
		goto fail;
	addr_r->local = buf_steal(&local);
	addr_r->domain = xstrndup((const char *)c->p + dstart, c->pos - dstart);
	return 0;
fail:
	buf_free(&local);
	return -1;
}

int address_parse_mailbox(const char *s, size_t len, struct address *addr_r, const char **error_r)
{
	struct cursor c = {(const unsigned char *)s, len, 0, NULL};

	memset(addr_r, 0, sizeof(*addr_r));
	if (len > ADDRESS_PATH_MAX - 2) {
		*error_r = "address too long";
		return -1;
	}
	if (parse_mailbox(&c, addr_r) == 0 && c.pos != len) {
		address_free(addr_r);
		fail(&c, "bad character in domain");
	}
	if (c.error != NULL) {
		*error_r = c.error;
		return -1;
	}
	return 0;
}

/* A-d-l = At-domain *( "," At-domain ) ":" -- validated, then ignored as
   RFC 5321 section 4.1.2 and appendix C ask. */
static int skip_source_route(struct cursor *c)
{
	for (;;) {
		c->pos++; /* the "@" */
		if (parse_domain(c) < 0)
			return -1;
		if (peek(c) == ':') {
			c->pos++;
			return 0;
		}
		if (peek(c) != ',')
			return fail(c, "bad source route");
		c->pos++;
		if (peek(c) != '@')
			return fail(c, "bad source route");
	}
}

/* "<Postmaster>" (case-insensitive) without a domain, RFC 5321 section 4.5.1. */
static bool is_bare_postmaster(const struct cursor *c)
{
	static const char pm[] = "postmaster>";
	size_t n = sizeof(pm) - 1;

	return c->len - c->pos >= n && strncasecmp((const char *)c->p + c->pos, pm, n) == 0;
}

static int parse_path_inner(struct cursor *c, unsigned flags, struct address *addr_r)
{
	if (peek(c) != '<')
		return fail(c, "path must start with <");
	c->pos++;
	if (peek(c) == '>' && (flags & ADDRESS_ALLOW_NULL) == 0)
		return fail(c, "null path not allowed");
	if (peek(c) == '>') {
		addr_r->local = xstrdup("");
		addr_r->domain = xstrdup("");
		c->pos++;
		return 0;
	}
	if ((flags & ADDRESS_ALLOW_POSTMASTER) != 0 && is_bare_postmaster(c)) {
		addr_r->local = xstrndup((const char *)c->p + c->pos, 10);
		addr_r->domain = xstrdup("");
		c->pos += 11;
		return 0;
	}
	if (peek(c) == '@' && skip_source_route(c) < 0)
		return -1;
	if (parse_mailbox(c, addr_r) < 0)
		return -1;
	if (peek(c) != '>') {
		address_free(addr_r);
		return fail(c, peek(c) < 0 ? "path must end with >" : "bad character in domain");
	}
	c->pos++;
	return 0;
}

int address_parse_path(const char *s, size_t len, unsigned flags, struct address *addr_r,
                       size_t *consumed_r, const char **error_r)
{
	struct cursor c = {(const unsigned char *)s, len, 0, NULL};

	memset(addr_r, 0, sizeof(*addr_r));
	/* The limit applies to the path; never look further than it can reach. */
	if (c.len > ADDRESS_PATH_MAX)
		c.len = ADDRESS_PATH_MAX;
	if (parse_path_inner(&c, flags, addr_r) == 0 && consumed_r == NULL && c.pos != len) {
		address_free(addr_r);
		fail(&c, "junk after path");
	}
	if (c.error != NULL) {
		if (len > c.len && c.pos >= c.len)
			c.error = "path too long";
		*error_r = c.error;
		return -1;
	}
	if (consumed_r != NULL)
		*consumed_r = c.pos;
	return 0;
}

bool address_is_null(const struct address *addr)
{
	return addr->local == NULL || addr->local[0] == '\0';
}

/* True if the (unquoted) local part can be written as a Dot-string. */
static bool is_dot_string(const char *s)
{
	struct cursor c = {(const unsigned char *)s, strlen(s), 0, NULL};
	struct buf scratch = BUF_INIT;
	bool ok = parse_dot_string(&c, &scratch) == 0 && c.pos == c.len;

	buf_free(&scratch);
	return ok;
}

static void append_quoted(struct buf *out, const char *s)
{
	buf_append_char(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, *s);
	}
	buf_append_char(out, '"');
}

char *address_normalize(const struct address *addr)
{
	struct buf out = BUF_INIT;

	if (address_is_null(addr))
		return xstrdup("");
	if (is_dot_string(addr->local))
		buf_append_str(&out, addr->local);
	else
		append_quoted(&out, addr->local);
	if (addr->domain == NULL || addr->domain[0] == '\0')
		return buf_steal(&out);
	buf_append_char(&out, '@');
	if (has_8bit(addr->domain, strlen(addr->domain))) {
		char *ascii = domain_to_ascii(addr->domain);

		if (ascii != NULL) {
			buf_append_str(&out, ascii);
			free(ascii);
			return buf_steal(&out);
		}
	}
	for (const char *d = addr->domain; *d != '\0'; d++)
		buf_append_char(&out, *d >= 'A' && *d <= 'Z' ? (char)(*d - 'A' + 'a') : *d);
	return buf_steal(&out);
}

void address_copy(struct address *dst_r, const struct address *src)
{
	dst_r->local = src->local != NULL ? xstrdup(src->local) : NULL;
	dst_r->domain = src->domain != NULL ? xstrdup(src->domain) : NULL;
}

void address_free(struct address *addr)
{
	free(addr->local);
	free(addr->domain);
	addr->local = NULL;
	addr->domain = NULL;
}
