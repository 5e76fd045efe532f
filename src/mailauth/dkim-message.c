/* One streaming pass over a message: header collection and body hashing. */

#include "mailauth/dkim-private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "lib/array.h"
#include "lib/xalloc.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* A complete line [line_start, raw.len) ended: start a field, continue
   one, or end the header section. */
static void header_line(struct dkim_headers *h)
{
	const char *line = h->raw.data + h->line_start;
	size_t len = h->raw.len - h->line_start;
	size_t content = len - 1 - (len >= 2 && line[len - 2] == '\r');
	const char *colon;

	if (content == 0) {
		h->done = true;
		return;
	}
	if (is_wsp(line[0]) && h->fields.count > 0) {
		struct dkim_field *f = &h->fields.items[h->fields.count - 1];

		f->len = h->line_start + content - f->start;
		return;
	}
	colon = memchr(line, ':', content);
	if (colon == NULL || h->fields.count == DKIM_MAX_HEADER_FIELDS)
		return; /* not a field (an mbox "From " line): not signable */
	array_append(&h->fields, ((struct dkim_field){.start = h->line_start,
	                                              .len = content,
	                                              .name_len = (size_t)(colon - line)}));
}

ssize_t dkim_headers_feed(struct dkim_headers *h, const void *data, size_t len)
{
	const char *p = data;
	size_t i = 0;

	if (h->too_big)
		return -1;
	/* a line (or the rest of the data) at a time */
	while (i < len && !h->done) {
		const char *lf = memchr(p + i, '\n', len - i);
		size_t n = lf == NULL ? len - i : (size_t)(lf - (p + i)) + 1;

		if (h->raw.len + n > DKIM_MAX_HEADER_BYTES) {
			h->too_big = true;
			return -1;
		}
		buf_append(&h->raw, p + i, n);
		i += n;
		if (lf != NULL) {
			header_line(h);
			h->line_start = h->raw.len;
		}
	}
	return (ssize_t)i;
}

void dkim_headers_finish(struct dkim_headers *h)
{
	if (!h->done && h->raw.len > h->line_start) {
		buf_append_char(&h->raw, '\n');
		header_line(h);
		h->line_start = h->raw.len;
	}
	h->done = true;
}

void dkim_headers_free(struct dkim_headers *h)
{
	buf_free(&h->raw);
	array_free(&h->fields);
	memset(h, 0, sizeof(*h));
}

bool dkim_field_is(const struct dkim_headers *h, size_t i, const char *name)
{
	const struct dkim_field *f = &h->fields.items[i];
	size_t n = f->name_len;

	const char *start = h->raw.data + f->start;

	/* most pairs differ in the first letter: no call for them */
	if (n == 0 || (start[0] | 0x20) != (name[0] | 0x20))
		return n == 0 && name[0] == '\0';
	while (n > 0 && is_wsp(start[n - 1]))
		n--;
	return strlen(name) == n && strncasecmp(start, name, n) == 0;
}

const char *dkim_field_value(const struct dkim_headers *h, size_t i, size_t *len_r)
{
	const struct dkim_field *f = &h->fields.items[i];

	*len_r = f->len - f->name_len - 1;
	return h->raw.data + f->start + f->name_len + 1;
}

void dkim_headers_canon(const struct dkim_headers *h, char *const *names, size_t count,
                        enum canon_alg alg, struct buf *out)
{
	bool *used = xcalloc(h->fields.count + 1, sizeof(bool));

	for (size_t n = 0; n < count; n++) {
		for (size_t i = h->fields.count; i-- > 0;) {
			if (used[i] || !dkim_field_is(h, i, names[n]))
				continue;
			used[i] = true;
			canon_header(alg, h->raw.data + h->fields.items[i].start,
			             h->fields.items[i].len, true, out);
			break;
		}
	}
	free(used);
}

static void body_out(void *context, const void *data, size_t len)
{
	struct dkim_body_hash *bh = context;
	uint64_t room = bh->total >= bh->limit ? 0 : bh->limit - bh->total;

	EVP_DigestUpdate(bh->md, data, len < room ? len : (size_t)room);
	bh->total += len;
}

static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *dkim_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

void dkim_body_hash_init(struct dkim_body_hash *bh, enum canon_alg alg, const EVP_MD *md,
                         uint64_t limit)
{
	if (EVP_MD_get_type(md) == NID_sha256)
		md = dkim_sha256(); /* no fetch by name at each init */
	canon_body_init(&bh->canon, alg, body_out, bh);
	bh->md = EVP_MD_CTX_new();
	if (bh->md == NULL || EVP_DigestInit_ex(bh->md, md, NULL) != 1)
		abort(); /* only fails on out of memory */
	bh->total = 0;
	bh->limit = limit;
}

void dkim_body_hash_feed(struct dkim_body_hash *bh, const void *data, size_t len)
{
	canon_body_feed(&bh->canon, data, len);
}

void dkim_body_hash_finish(struct dkim_body_hash *bh, uint8_t *out, size_t *len_r)
{
	unsigned n = 0;

	canon_body_finish(&bh->canon);
	EVP_DigestFinal_ex(bh->md, out, &n);
	*len_r = n;
}

void dkim_body_hash_free(struct dkim_body_hash *bh)
{
	EVP_MD_CTX_free(bh->md);
	bh->md = NULL;
}

int dkim_signing_feed(struct dkim_headers *h, struct dkim_body_hash *bh, const void *data,
                      size_t len, const char **error_r)
{
	ssize_t n = 0;

	if (!h->done) {
		n = dkim_headers_feed(h, data, len);
		if (n < 0) {
			*error_r = "header section too large";
			return -1;
		}
	}
	if ((size_t)n < len)
		dkim_body_hash_feed(bh, (const char *)data + n, len - (size_t)n);
	return 0;
}
