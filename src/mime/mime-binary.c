#include "mime/mime-binary.h"

#include <stdlib.h>

/* Encoded bytes read from the source per step. */
#define BINARY_CHUNK (64 * 1024)

int mime_binary_parse(const char *spec, size_t len, struct mime_section **sec_r,
                      const char **error_r)
{
	if (mime_section_parse(spec, len, sec_r, error_r) < 0)
		return -1;
	if ((*sec_r)->kind != MIME_SECTION_ALL) {
		mime_section_free(sec_r);
		*error_r = "invalid binary section";
		return -1;
	}
	return 0;
}

static bool is_message(const struct mime_part *part)
{
	return part->parent == NULL || part->parent->kind == MIME_PART_MESSAGE;
}

/* Part numbering of RFC 3501 section 6.4.5, as in mime-section.c: in a
   multipart the nth child; a message that is not multipart has only part
   1, its own body. */
static const struct mime_part *resolve_path(const struct mime_part *root,
                                            const struct mime_section *sec)
{
	const struct mime_part *cur = root, *container = root;

	for (size_t i = 0; i < sec->path_len; i++) {
		if (container->kind == MIME_PART_MULTIPART)
			cur = mime_part_child(container, sec->path[i]);
		else if (is_message(container) && sec->path[i] == 1)
			cur = container;
		else
			return NULL;
		if (cur == NULL)
			return NULL;
		container = cur->kind == MIME_PART_MESSAGE ? cur->children : cur;
	}
	return cur;
}

int mime_binary_resolve(const struct mime_part *root, const struct mime_section *sec,
                        struct mime_binary *bin_r, const char **error_r)
{
	const struct mime_part *part;

	if (sec->kind != MIME_SECTION_ALL || (part = resolve_path(root, sec)) == NULL) {
		*error_r = "no such part";
		return -1;
	}
	if (sec->path_len == 0) {
		bin_r->offset = part->hdr.start;
		bin_r->size = part->hdr.size + part->body.size;
		bin_r->encoding = MIME_ENCODING_IDENTITY;
		return 0;
	}
	bin_r->offset = part->body.start;
	bin_r->size = part->body.size;
	bin_r->encoding = part->kind == MIME_PART_LEAF ? mime_encoding_from_name(part->encoding)
	                                               : MIME_ENCODING_IDENTITY;
	if (bin_r->encoding == MIME_ENCODING_UNKNOWN) {
		*error_r = "unknown content-transfer-encoding";
		return 1;
	}
	return 0;
}

static int read_stored(const struct mime_source *src, uint64_t offset, uint64_t len,
                       struct buf *out, const char **error_r)
{
	struct mime_extent ext = {offset, len};

	return mime_extents_read(src, &ext, 1, 0, len, out, error_r);
}

/* Decode the section from its start, handing each decoded chunk with its
   position to take(); stops when take() returns false. */
static int decode_walk(const struct mime_source *src, const struct mime_binary *bin,
                       bool (*take)(void *ctx, uint64_t pos, const struct buf *dec), void *ctx,
                       const char **error_r)
{
	struct mime_decoder *d = mime_decoder_new(bin->encoding);
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	uint64_t done = 0, pos = 0;
	bool more = true;
	int ret = 0;

	while (more && done < bin->size) {
		uint64_t n = bin->size - done < BINARY_CHUNK ? bin->size - done : BINARY_CHUNK;

		buf_clear(&enc);
		if (read_stored(src, bin->offset + done, n, &enc, error_r) < 0) {
			ret = -1;
			break;
		}
		done += n;
		buf_clear(&dec);
		mime_decoder_feed(d, enc.data, enc.len, &dec);
		if (done == bin->size)
			mime_decoder_finish(d, &dec);
		more = take(ctx, pos, &dec);
		pos += dec.len;
	}
	mime_decoder_free(&d);
	buf_free(&enc);
	buf_free(&dec);
	return ret;
}

struct window {
	uint64_t origin;
	uint64_t length;
	struct buf *out;
};

static bool take_window(void *ctx, uint64_t pos, const struct buf *dec)
{
	struct window *w = ctx;
	uint64_t end = pos + dec->len, from, to;

	if (end > w->origin && w->length > 0) {
		from = w->origin > pos ? w->origin - pos : 0;
		to = dec->len;
		if (to - from > w->length)
			to = from + w->length;
		buf_append(w->out, dec->data + from, (size_t)(to - from));
		w->length -= to - from;
	}
	return w->length > 0;
}

static bool take_count(void *ctx, uint64_t pos, const struct buf *dec)
{
	uint64_t *size = ctx;

	*size = pos + dec->len;
	return true;
}

int mime_binary_read(const struct mime_source *src, const struct mime_binary *bin, uint64_t origin,
                     uint64_t length, struct buf *out, const char **error_r)
{
	struct window w = {origin, length, out};
	struct mime_extent ext = {bin->offset, bin->size};

	if (bin->encoding == MIME_ENCODING_UNKNOWN) {
		*error_r = "unknown content-transfer-encoding";
		return -1;
	}
	if (bin->encoding == MIME_ENCODING_IDENTITY)
		return bin->size == 0
		           ? 0
		           : mime_extents_read(src, &ext, 1, origin, length, out, error_r);
	if (length == 0)
		return 0;
	return decode_walk(src, bin, take_window, &w, error_r);
}

int mime_binary_size(const struct mime_source *src, const struct mime_binary *bin, uint64_t *size_r,
                     const char **error_r)
{
	if (bin->encoding == MIME_ENCODING_UNKNOWN) {
		*error_r = "unknown content-transfer-encoding";
		return -1;
	}
	*size_r = 0;
	if (bin->encoding == MIME_ENCODING_IDENTITY) {
		*size_r = bin->size;
		return 0;
	}
	return decode_walk(src, bin, take_count, size_r, error_r);
}
