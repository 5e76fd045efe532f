/* The local zone table: a presentation-format parser and a lookup that
   follows CNAMEs. See dns-zone.h and docs/dns.md. */
#include "dns/dns-zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

#define MAX_TOKENS      64
#define MAX_CNAME_LINKS 8
#define MAX_FILE_SIZE   (64 * 1024 * 1024)

enum entry_kind { ENTRY_RR, ENTRY_TIMEOUT, ENTRY_SERVFAIL };

struct zone_entry {
	char *name; /* lower case, no trailing dot */
	enum entry_kind kind;
	struct dns_rr rr;
};

struct dns_zone {
	ARRAY(struct zone_entry) entries;
};

/* One token of a line: a bare word or a quoted string, unescaped. */
struct token {
	struct buf text;
	bool quoted;
};

struct dns_zone *dns_zone_new(void)
{
	return xcalloc(1, sizeof(struct dns_zone));
}

size_t dns_zone_count(const struct dns_zone *zone)
{
	return zone->entries.count;
}

/* RFC 1035 5.1: \X is X, \DDD is the byte with that decimal value. */
static int unescape(const char *p, const char *end, size_t *used_r, char *c_r)
{
	if (p + 1 >= end)
		return -1;
	if (isdigit((unsigned char)p[1])) {
		if (p + 3 >= end || !isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3]))
			return -1;
		int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		if (v > 255)
			return -1;
		*c_r = (char)v;
		*used_r = 4;
		return 0;
	}
	*c_r = p[1];
	*used_r = 2;
	return 0;
}

static int read_token(const char **pp, const char *end, struct token *tok, const char **error_r)
{
	const char *p = *pp;
	size_t used;
	char c;

	tok->quoted = *p == '"';
	if (tok->quoted)
		p++;
	while (p < end) {
		if (tok->quoted ? *p == '"' : (*p == ' ' || *p == '\t' || *p == ';'))
			break;
		if (*p == '\\') {
			if (unescape(p, end, &used, &c) < 0) {
				*error_r = "bad escape";
				return -1;
			}
			buf_append_char(&tok->text, c);
			p += used;
		} else {
			buf_append_char(&tok->text, *p++);
		}
	}
	if (tok->quoted) {
		if (p >= end) {
			*error_r = "unterminated quoted string";
			return -1;
		}
		p++;
	}
	*pp = p;
	return 0;
}

static int tokenize(const char *line, size_t len, struct token *toks, size_t *count_r,
                    const char **error_r)
{
	const char *p = line, *end = line + len;
	size_t n = 0;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= end || *p == ';')
			break;
		if (n == MAX_TOKENS) {
			*error_r = "too many fields";
			return -1;
		}
		if (read_token(&p, end, &toks[n++], error_r) < 0) {
			*count_r = n;
			return -1;
		}
	}
	*count_r = n;
	return 0;
}

static void tokens_free(struct token *toks, size_t count)
{
	for (size_t i = 0; i < count; i++)
		buf_free(&toks[i].text);
}

/* A copy of name in lower case without its trailing dot, or NULL if it is
   not a valid name (labels 1-63 octets, at most 253 in all). */
static char *name_normalize(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return NULL;
			label = 0;
		} else if (++label > 63 || name[i] == '\0') {
			return NULL;
		}
	}
	if (label == 0)
		return NULL;
	char *copy = xstrndup(name, len);
	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static int parse_u16(const char *s, uint16_t *v_r)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*v_r = (uint16_t)v;
	return 0;
}

static int parse_hex(const struct token *toks, size_t count, struct dns_rr *rr)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < count; i++) {
		const char *s = toks[i].text.data;
		for (size_t j = 0; j < toks[i].text.len; j += 2) {
			unsigned int byte;
			if (j + 1 >= toks[i].text.len || !isxdigit((unsigned char)s[j]) ||
			    !isxdigit((unsigned char)s[j + 1]) ||
			    sscanf(s + j, "%2x", &byte) != 1) {
				buf_free(&out);
				return -1;
			}
			buf_append_char(&out, (char)byte);
		}
	}
	rr->u.tlsa.len = out.len;
	rr->u.tlsa.data = (uint8_t *)buf_steal(&out);
	return 0;
}

static int parse_tlsa(const struct token *toks, size_t count, struct dns_rr *rr)
{
	uint16_t v[3];

	if (count < 4)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (parse_u16(toks[i].text.data, &v[i]) < 0 || v[i] > 255)
			return -1;
	}
	rr->u.tlsa.usage = (uint8_t)v[0];
	rr->u.tlsa.selector = (uint8_t)v[1];
	rr->u.tlsa.matching = (uint8_t)v[2];
	return parse_hex(toks + 3, count - 3, rr);
}

static int parse_txt(const struct token *toks, size_t count, struct dns_rr *rr)
{
	struct buf out = BUF_INIT;

	if (count == 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		/* RFC 1035 3.3: a character-string is at most 255 octets. */
		if (toks[i].text.len > 255) {
			buf_free(&out);
			return -1;
		}
		buf_append(&out, toks[i].text.data, toks[i].text.len);
	}
	rr->u.txt.len = out.len;
	rr->u.txt.data = buf_steal(&out);
	return 0;
}

static int parse_target(const struct token *toks, size_t count, char **name_r)
{
	if (count != 1)
		return -1;
	/* The root, as in a null MX (RFC 7505). */
	if (strcmp(buf_cstr(&toks[0].text), ".") == 0) {
		*name_r = xstrdup("");
		return 0;
	}
	*name_r = name_normalize(buf_cstr(&toks[0].text));
	return *name_r == NULL ? -1 : 0;
}

static int parse_rdata(const struct token *toks, size_t count, struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_TYPE_A:
		return count == 1 && inet_pton(AF_INET, buf_cstr(&toks[0].text), rr->u.a) == 1 ? 0
		                                                                               : -1;
	case DNS_TYPE_AAAA:
		return count == 1 && inet_pton(AF_INET6, buf_cstr(&toks[0].text), rr->u.aaaa) == 1
		           ? 0
		           : -1;
	case DNS_TYPE_MX:
		if (count != 2 || parse_u16(buf_cstr(&toks[0].text), &rr->u.mx.preference) < 0)
			return -1;
		return parse_target(toks + 1, 1, &rr->u.mx.exchange);
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
		return parse_target(toks, count, &rr->u.name);
	case DNS_TYPE_TXT:
		return parse_txt(toks, count, rr);
	case DNS_TYPE_TLSA:
		return parse_tlsa(toks, count, rr);
	}
	return -1;
}

static bool is_ttl(const struct token *tok)
{
	if (tok->quoted || tok->text.len == 0 || tok->text.len > 10)
		return false;
	for (size_t i = 0; i < tok->text.len; i++) {
		if (!isdigit((unsigned char)tok->text.data[i]))
			return false;
	}
	return true;
}

static void zone_append(struct dns_zone *zone, const struct zone_entry *entry)
{
	array_append(&zone->entries, *entry);
}

/* Fill entry from the fields after the name: [TTL] [IN] TYPE rdata... */
static int parse_record(struct token *toks, size_t count, struct zone_entry *entry,
                        const char **error_r)
{
	size_t i = 0;

	if (i < count && is_ttl(&toks[i]))
		entry->rr.ttl = (uint32_t)strtoul(toks[i++].text.data, NULL, 10);
	if (i < count && !toks[i].quoted && strcasecmp(buf_cstr(&toks[i].text), "IN") == 0)
		i++;
	if (i >= count) {
		*error_r = "missing record type";
		return -1;
	}
	const char *type = buf_cstr(&toks[i++].text);
	if (strcasecmp(type, "TIMEOUT") == 0 || strcasecmp(type, "SERVFAIL") == 0) {
		entry->kind = strcasecmp(type, "TIMEOUT") == 0 ? ENTRY_TIMEOUT : ENTRY_SERVFAIL;
		if (i != count) {
			*error_r = "TIMEOUT and SERVFAIL take no data";
			return -1;
		}
		return 0;
	}
	if (dns_type_parse(type, &entry->rr.type) < 0) {
		*error_r = "unknown record type";
		return -1;
	}
	if (parse_rdata(toks + i, count - i, &entry->rr) < 0) {
		*error_r = "bad record data";
		return -1;
	}
	return 0;
}

int dns_zone_add_line(struct dns_zone *zone, const char *line, size_t len, const char **error_r)
{
	struct token toks[MAX_TOKENS];
	struct zone_entry entry = {.kind = ENTRY_RR, .rr = {.ttl = 3600}};
	size_t count = 0;
	int ret = -1;

	memset(toks, 0, sizeof(toks));
	if (len > DNS_ZONE_MAX_LINE) {
		*error_r = "line too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*error_r = "NUL byte in line";
		return -1;
	}
	if (tokenize(line, len, toks, &count, error_r) < 0)
		goto out;
	if (count == 0 ||
	    (toks[0].text.len > 0 && toks[0].text.data[0] == '#' && !toks[0].quoted)) {
		ret = 0;
		goto out;
	}
	if (zone->entries.count >= DNS_ZONE_MAX_RECORDS) {
		*error_r = "too many records";
		goto out;
	}
	entry.name = toks[0].quoted ? NULL : name_normalize(buf_cstr(&toks[0].text));
	if (entry.name == NULL) {
		*error_r = "bad owner name";
		goto out;
	}
	if (parse_record(toks + 1, count - 1, &entry, error_r) < 0) {
		free(entry.name);
		goto out;
	}
	zone_append(zone, &entry);
	ret = 0;
out:
	tokens_free(toks, count);
	return ret;
}

static int zone_parse_text(struct dns_zone *zone, const char *path, const char *text, size_t len,
                           char **error_r)
{
	const char *p = text, *end = text + len, *error;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t linelen = (nl != NULL ? nl : end) - p;

		lineno++;
		if (dns_zone_add_line(zone, p, linelen, &error) < 0) {
			*error_r = xasprintf("%s:%u: %s", path, lineno, error);
			return -1;
		}
		p += linelen + (nl != NULL ? 1 : 0);
	}
	return 0;
}

int dns_zone_load(const char *path, struct dns_zone **zone_r, char **error_r)
{
	struct dns_zone *zone;
	char *text;
	size_t len;

	if (read_file(path, MAX_FILE_SIZE, &text, &len) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	zone = dns_zone_new();
	if (zone_parse_text(zone, path, text, len, error_r) < 0) {
		free(text);
		dns_zone_free(&zone);
		return -1;
	}
	free(text);
	*zone_r = zone;
	return 0;
}

/* name is below entry (an empty non-terminal or a parent of a record). */
static bool is_ancestor(const char *name, const char *entry)
{
	size_t nl = strlen(name), el = strlen(entry);

	return el > nl && entry[el - nl - 1] == '.' && strcmp(entry + el - nl, name) == 0;
}

struct zone_scan {
	bool exists, timeout, servfail;
	const char *cname;
};

static void zone_scan(const struct dns_zone *zone, const char *name, enum dns_type type,
                      struct dns_answer *answer, struct zone_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
	for (size_t i = 0; i < zone->entries.count; i++) {
		const struct zone_entry *e = &zone->entries.items[i];

		if (strcmp(e->name, name) != 0) {
			if (is_ancestor(name, e->name))
				scan->exists = true;
			continue;
		}
		scan->exists = true;
		if (e->kind == ENTRY_TIMEOUT)
			scan->timeout = true;
		else if (e->kind == ENTRY_SERVFAIL)
			scan->servfail = true;
		else if (e->rr.type == type)
			dns_answer_add(answer, &e->rr);
		else if (e->rr.type == DNS_TYPE_CNAME)
			scan->cname = e->rr.u.name;
	}
}

struct dns_answer *dns_zone_lookup(const struct dns_zone *zone, const char *name,
                                   enum dns_type type)
{
	struct dns_answer *answer = dns_answer_new(DNS_STATUS_NXDOMAIN);
	char *cur = name_normalize(name);
	struct zone_scan scan;

	if (cur == NULL)
		return answer;
	for (int links = 0; links <= MAX_CNAME_LINKS; links++) {
		zone_scan(zone, cur, type, answer, &scan);
		free(cur);
		if (answer->rrs.count > 0)
			return answer;
		if (scan.cname == NULL || type == DNS_TYPE_CNAME) {
			answer->status = scan.timeout    ? DNS_STATUS_TIMEOUT
			                 : scan.servfail ? DNS_STATUS_TEMPFAIL
			                 : scan.exists   ? DNS_STATUS_NODATA
			                                 : DNS_STATUS_NXDOMAIN;
			return answer;
		}
		cur = xstrdup(scan.cname);
	}
	free(cur);
	answer->status = DNS_STATUS_TEMPFAIL;
	return answer;
}

void dns_zone_free(struct dns_zone **zone)
{
	if (*zone == NULL)
		return;
	for (size_t i = 0; i < (*zone)->entries.count; i++) {
		struct zone_entry *e = &(*zone)->entries.items[i];

		if (e->kind == ENTRY_RR)
			dns_rr_clear(&e->rr);
		free(e->name);
	}
	array_free(&(*zone)->entries);
	free(*zone);
	*zone = NULL;
}
