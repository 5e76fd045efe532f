/* SPF macro expansion (RFC 7208 section 7). */
#include "mailauth/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/xalloc.h"
#include "mailauth/spf-private.h"

#define MAX_PARTS 128

static bool is_delimiter(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* RFC 7208 7.1 macro-letter; c, r and t only in explanations (7.3). */
static bool is_macro_letter(char c, bool explanation)
{
	c = (char)tolower((unsigned char)c);
	if (strchr("slodiphv", c) != NULL && c != '\0')
		return true;
	return explanation && c != '\0' && strchr("crt", c) != NULL;
}

size_t spf_macro_token_len(const char *spec, size_t len, bool explanation)
{
	size_t i = 2;

	if (len < 2)
		return 0;
	if (spec[1] == '%' || spec[1] == '_' || spec[1] == '-')
		return 2;
	if (spec[1] != '{' || len < 4 || !is_macro_letter(spec[2], explanation))
		return 0;
	i = 3;
	/* transformers = *DIGIT [ "r" ]; a DIGIT must be nonzero (7.3). */
	if (i < len && isdigit((unsigned char)spec[i])) {
		unsigned long n = 0;
		while (i < len && isdigit((unsigned char)spec[i])) {
			n = n < 100000 ? n * 10 + (unsigned long)(spec[i] - '0') : n;
			i++;
		}
		if (n == 0)
			return 0;
	}
	if (i < len && (spec[i] == 'r' || spec[i] == 'R'))
		i++;
	while (i < len && is_delimiter(spec[i]))
		i++;
	return i < len && spec[i] == '}' ? i + 1 : 0;
}

int spf_macro_check(const char *spec, size_t len, bool explanation, const char **error_r)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)spec[i];

		if (c == '%') {
			size_t n = spf_macro_token_len(spec + i, len - i, explanation);
			if (n == 0) {
				*error_r = "invalid macro";
				return -1;
			}
			i += n;
		} else if (c >= 0x21 && c <= 0x7e) {
			i++;
		} else if (c == ' ' && explanation) {
			i++;
		} else {
			*error_r = "invalid character in macro string";
			return -1;
		}
	}
	return 0;
}

/* RFC 7208 7.1 toplabel: alphanumerics with at least one letter, or
   alphanumerics and inner dashes. */
static bool toplabel_valid(const char *s, size_t len)
{
	bool alpha = false, dash = false;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			dash = true;
		else if (isalpha((unsigned char)s[i]))
			alpha = true;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return alpha || dash;
}

bool spf_domain_spec_valid(const char *spec)
{
	size_t len = strlen(spec), tail = 0;
	const char *error;

	if (len == 0 || spf_macro_check(spec, len, false, &error) < 0)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = spec[i] == '%' ? spf_macro_token_len(spec + i, len - i, false) : 1;
		i += n;
		if (spec[i - n] == '%')
			tail = i;
	}
	/* domain-end = ( "." toplabel [ "." ] ) / macro-expand */
	if (tail == len)
		return true;
	const char *t = spec + tail;
	size_t tlen = len - tail;
	if (t[tlen - 1] == '.')
		tlen--;
	const char *dot = tlen > 0 ? memrchr(t, '.', tlen) : NULL;
	if (dot == NULL)
		return false;
	return toplabel_valid(dot + 1, tlen - (size_t)(dot + 1 - t));
}

static void append_ip_dotted(struct buf *out, const struct spf_macro_vars *vars)
{
	if (!vars->ipv6) {
		buf_printf(out, "%u.%u.%u.%u", vars->ip[0], vars->ip[1], vars->ip[2], vars->ip[3]);
		return;
	}
	/* RFC 7208 7.3: IPv6 "i" is dot-separated nibbles. */
	for (int i = 0; i < 16; i++)
		buf_printf(out, "%s%X.%X", i == 0 ? "" : ".", vars->ip[i] >> 4, vars->ip[i] & 15);
}

static void append_ip_readable(struct buf *out, const struct spf_macro_vars *vars)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(vars->ipv6 ? AF_INET6 : AF_INET, vars->ip, text, sizeof(text));
	buf_append_str(out, text);
}

/* The raw value of a macro letter; 1 if %{p} is not known yet. */
static int macro_value(char letter, const struct spf_macro_vars *vars, struct buf *out)
{
	switch (tolower((unsigned char)letter)) {
	case 's':
		buf_append_str(out, vars->sender);
		break;
	case 'l':
		buf_append_str(out, vars->local_part);
		break;
	case 'o':
		buf_append_str(out, vars->sender_domain);
		break;
	case 'd':
		buf_append_str(out, vars->domain);
		break;
	case 'i':
		append_ip_dotted(out, vars);
		break;
	case 'p':
		if (vars->validated == NULL)
			return 1;
		buf_append_str(out, vars->validated);
		break;
	case 'v':
		buf_append_str(out, vars->ipv6 ? "ip6" : "in-addr");
		break;
	case 'h':
		buf_append_str(out, vars->helo);
		break;
	case 'c':
		append_ip_readable(out, vars);
		break;
	case 'r':
		buf_append_str(out, vars->receiver != NULL ? vars->receiver : "unknown");
		break;
	case 't':
		buf_printf(out, "%lld", (long long)vars->now);
		break;
	}
	return 0;
}

/* Split value on the delimiters, reverse if asked, keep the rightmost
   keep parts (0 = all), join with dots (RFC 7208 7.3). */
static void transform(const char *value, size_t len, const char *delims, size_t ndelims,
                      unsigned long keep, bool reverse, struct buf *out)
{
	const char *part[MAX_PARTS];
	size_t plen[MAX_PARTS], n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		bool cut = i == len || (ndelims == 0 ? value[i] == '.'
		                                     : memchr(delims, value[i], ndelims) != NULL);
		if (!cut)
			continue;
		if (n < MAX_PARTS) {
			part[n] = value + start;
			plen[n++] = i - start;
		}
		start = i + 1;
	}
	size_t first = keep != 0 && keep < n ? n - keep : 0;
	/* Reversal happens before the rightmost parts are taken. */
	if (reverse) {
		for (size_t a = 0, b = n - 1; n > 0 && a < b; a++, b--) {
			const char *tp = part[a];
			size_t tl = plen[a];
			part[a] = part[b];
			plen[a] = plen[b];
			part[b] = tp;
			plen[b] = tl;
		}
	}
	for (size_t k = first; k < n; k++) {
		if (k > first)
			buf_append_char(out, '.');
		buf_append(out, part[k], plen[k]);
	}
}

/* RFC 7208 7.3: upper-case macro letters are URL-escaped (RFC 3986
   unreserved characters stay). */
static void url_escape(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			buf_append_char(out, (char)c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

static int expand_one(const char *tok, size_t toklen, const struct spf_macro_vars *vars,
                      struct buf *out)
{
	struct buf value = BUF_INIT, shaped = BUF_INIT;
	size_t i = 3;
	unsigned long keep = 0;
	bool reverse = false;

	if (macro_value(tok[2], vars, &value) == 1) {
		buf_free(&value);
		return 1;
	}
	for (; isdigit((unsigned char)tok[i]); i++) {
		if (keep < 100000)
			keep = keep * 10 + (unsigned long)(tok[i] - '0');
	}
	if (tok[i] == 'r' || tok[i] == 'R') {
		reverse = true;
		i++;
	}
	transform(value.data != NULL ? value.data : "", value.len, tok + i, toklen - 1 - i, keep,
	          reverse, &shaped);
	if (isupper((unsigned char)tok[2]))
		url_escape(shaped.data != NULL ? shaped.data : "", shaped.len, out);
	else
		buf_append(out, shaped.data != NULL ? shaped.data : "", shaped.len);
	buf_free(&value);
	buf_free(&shaped);
	return 0;
}

int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_vars *vars,
                     bool explanation, struct buf *out, const char **error_r)
{
	size_t start = out->len;

	if (spf_macro_check(spec, len, explanation, error_r) < 0)
		return -1;
	for (size_t i = 0; i < len;) {
		if (spec[i] != '%') {
			buf_append_char(out, spec[i++]);
			continue;
		}
		size_t n = spf_macro_token_len(spec + i, len - i, explanation);
		if (spec[i + 1] == '%')
			buf_append_char(out, '%');
		else if (spec[i + 1] == '_')
			buf_append_char(out, ' ');
		else if (spec[i + 1] == '-')
			buf_append_str(out, "%20");
		else if (expand_one(spec + i, n, vars, out) == 1) {
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return 1;
		}
		i += n;
	}
	return 0;
}
