/* libFuzzer target for the MIME parser: any input gives a tree whose
   ranges stay inside the input, and feeding it in chunks gives the same
   tree as feeding it whole. The first byte picks the chunk size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/mime-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const struct mime_part *part, size_t len)
{
	if (part->hdr.start + part->hdr.size > len || part->body.start + part->body.size > len)
		abort();
	for (size_t i = 0; i < part->fields.count; i++) {
		if (part->fields.items[i].start > part->fields.items[i].end ||
		    part->fields.items[i].end > len)
			abort();
	}
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		check_ranges(c, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_parser *p;
	struct mime_part *whole, *chunked;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = 1 + data[0] % 16;
	data++;
	size--;
	whole = mime_parse(data, size, NULL);
	check_ranges(whole, size);
	p = mime_parser_new(NULL);
	for (size_t off = 0; off < size; off += chunk)
		mime_parser_feed(p, data + off, size - off < chunk ? size - off : chunk);
	(void)mime_parser_finish(p, &chunked);
	mime_parser_free(&p);
	mime_part_dump(whole, &a);
	mime_part_dump(chunked, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	mime_part_free(&whole);
	mime_part_free(&chunked);
	return 0;
}
