/* The SEARCH header cache encoding (imap-search-headers.h). */
#include "imap/imap-search-headers.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mime/mime-address.h"

/* The ENVELOPE's fields (RFC 3501 7.4.2): what clients search. A code is
   stored in the index: append, never reorder. */
static const char *const covered[] = {
    "Subject",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Date",
    "In-Reply-To",
    "Message-ID",
    /* for THREAD only (cmd-sort.c), never searched through the cache:
       entries made before it was added lack it */
    "References",
};
#define COVERED    (sizeof(covered) / sizeof(covered[0]))
#define SEARCHABLE IMAP_SEARCH_HEADER_REFERENCES

int imap_search_header_code(const char *name)
{
	for (size_t i = 0; i < SEARCHABLE; i++) {
		if (strcasecmp(name, covered[i]) == 0)
			return (int)i;
	}
	return -1;
}

void imap_search_headers_render(const struct mime_part *hdr, struct buf *out)
{
	bool refs = false;

	for (size_t i = 0; i < hdr->fields.count; i++) {
		const struct mime_field *f = &hdr->fields.items[i];
		int code = imap_search_header_code(f->name);

		if (code < 0 && strcasecmp(f->name, "References") == 0) {
			code = IMAP_SEARCH_HEADER_REFERENCES;
			refs = true;
		}
		if (code < 0)
			continue;
		buf_printf(out, "%c%zu:", 'a' + code, f->value_len);
		buf_append(out, f->value, f->value_len);
	}
	if (!refs)
		buf_printf(out, "%c0:", 'a' + IMAP_SEARCH_HEADER_REFERENCES);
}

bool imap_search_contains(const char *hay, size_t len, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= len; i++) {
		if (strncasecmp(hay + i, needle, nlen) == 0)
			return true;
	}
	return false;
}

/* The address fields (RFC 5322 3.6.2, 3.6.3). */
static bool is_address_field(const char *field)
{
	static const char *const names[] = {"From", "Sender", "Reply-To", "To", "Cc", "Bcc"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(field, names[i]) == 0)
			return true;
	}
	return false;
}

/* Does an address of the parsed list read as text: "local@domain", the
   display name (or comment), or "name <local@domain>"? */
static bool address_matches(const char *value, size_t len, const char *text, size_t tlen)
{
	struct mime_address *list;
	size_t count;
	bool found = false;

	mime_address_list_parse(value, len, &list, &count);
	for (size_t i = 0; i < count && !found; i++) {
		const struct mime_address *a = &list[i];
		struct buf b = BUF_INIT;

		if (a->domain == NULL)
			continue;
		buf_printf(&b, "%s@%s", a->mailbox, a->domain);
		found = imap_search_contains(b.data, b.len, text, tlen);
		if (!found && a->name != NULL) {
			buf_clear(&b);
			buf_printf(&b, "%s <%s@%s>", a->name, a->mailbox, a->domain);
			found = imap_search_contains(b.data, b.len, text, tlen);
		}
		buf_free(&b);
	}
	mime_address_list_free(&list, count);
	return found;
}

bool imap_search_value_matches(const char *field, const char *value, size_t len, const char *text)
{
	size_t tlen = strlen(text);

	if (imap_search_contains(value, len, text, tlen))
		return true;
	return is_address_field(field) && address_matches(value, len, text, tlen);
}

/* Parse the decimal length at data[*pos..] up to ':'; -1 if malformed. */
static int read_length(const char *data, size_t len, size_t *pos, size_t *value_len)
{
	size_t n = 0, start = *pos;

	while (*pos < len && data[*pos] >= '0' && data[*pos] <= '9' && *pos - start < 10)
		n = n * 10 + (size_t)(data[(*pos)++] - '0');
	if (*pos == start || *pos >= len || data[*pos] != ':')
		return -1;
	(*pos)++;
	if (n > len - *pos)
		return -1;
	*value_len = n;
	return 0;
}

int imap_search_headers_match(const char *data, size_t len, int code, const char *text)
{
	size_t pos = 0;
	bool found = false;

	while (pos < len) {
		int c = (unsigned char)data[pos++] - 'a';
		size_t vlen;

		if (c < 0 || (size_t)c >= COVERED || read_length(data, len, &pos, &vlen) < 0)
			return -1;
		if (!found && c == code &&
		    imap_search_value_matches(covered[c], data + pos, vlen, text))
			found = true;
		pos += vlen;
	}
	return found ? 1 : 0;
}

int imap_search_headers_first(const char *data, size_t len, int code, const char **value_r,
                              size_t *len_r)
{
	size_t pos = 0;
	int found = 0;

	while (pos < len) {
		int c = (unsigned char)data[pos++] - 'a';
		size_t vlen;

		if (c < 0 || (size_t)c >= COVERED || read_length(data, len, &pos, &vlen) < 0)
			return -1;
		if (found == 0 && c == code) {
			*value_r = data + pos;
			*len_r = vlen;
			found = 1;
		}
		pos += vlen;
	}
	return found;
}
