/* libFuzzer target for the transfer decoders, HTML to text, BINARY and
   text extraction. The first byte picks the mode and the chunk size; the
   rest is the input. Chunked feeding must give the same output as one
   whole buffer; BINARY windows must equal the same bytes of the whole
   decoded body; nothing may read outside the input (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/mime-binary.h"
#include "mime/mime-charset.h"
#include "mime/mime-decode.h"
#include "mime/mime-parser.h"
#include "mime/mime-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct buf *a, const struct buf *b)
{
	if (a->len != b->len || (a->len > 0 && memcmp(a->data, b->data, a->len) != 0))
		abort();
}

static void decoders(enum mime_encoding enc, const uint8_t *in, size_t len, size_t chunk)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	struct mime_decoder *d = mime_decoder_new(enc);
	unsigned int errors = mime_decode(enc, in, len, &whole);

	for (size_t off = 0; off < len; off += chunk)
		mime_decoder_feed(d, in + off, len - off < chunk ? len - off : chunk, &parts);
	mime_decoder_finish(d, &parts);
	same(&whole, &parts);
	if (mime_decoder_errors(d) != errors)
		abort();
	mime_decoder_free(&d);
	buf_free(&whole);
	buf_free(&parts);
}

static void html(const uint8_t *in, size_t len, size_t chunk)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	struct mime_html *a = mime_html_new(), *b = mime_html_new();

	mime_html_feed(a, in, len, &whole);
	mime_html_finish(a, &whole);
	for (size_t off = 0; off < len; off += chunk)
		mime_html_feed(b, in + off, len - off < chunk ? len - off : chunk, &parts);
	mime_html_finish(b, &parts);
	same(&whole, &parts);
	mime_html_free(&a);
	mime_html_free(&b);
	buf_free(&whole);
	buf_free(&parts);
}

static void binary_part(const struct mime_part *part, const struct mime_source *src)
{
	struct mime_binary bin = {part->body.start, part->body.size,
	                          mime_encoding_from_name(part->encoding)};
	struct buf all = BUF_INIT, win = BUF_INIT;
	const char *error;
	uint64_t size;

	if (bin.encoding == MIME_ENCODING_UNKNOWN)
		return;
	if (mime_binary_read(src, &bin, 0, UINT64_MAX, &all, &error) < 0 ||
	    mime_binary_size(src, &bin, &size, &error) < 0 || size != all.len)
		abort();
	if (mime_binary_read(src, &bin, size / 3, size / 2 + 1, &win, &error) < 0)
		abort();
	if (size > 0 && (win.len == 0 || memcmp(win.data, all.data + size / 3, win.len) != 0))
		abort();
	buf_free(&all);
	buf_free(&win);
}

static void walk(const struct mime_part *part, const struct mime_source *src)
{
	if (part->kind == MIME_PART_LEAF)
		binary_part(part, src);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		walk(c, src);
}

static void message(const uint8_t *in, size_t len)
{
	struct mime_source src = {.mem = in, .mem_len = len};
	struct mime_part *root = mime_parse(in, len, NULL);
	struct buf out = BUF_INIT;
	const char *error;

	struct buf again = BUF_INIT;

	if (mime_text_extract(root, &src, 4096, &out, &error) < 0 || out.len > 4096)
		abort();
	/* the text is valid UTF-8, even where the cap cut it */
	if (mime_charset_to_utf8("utf-8", out.data, out.len, &again) != 0 || again.len != out.len)
		abort();
	buf_free(&again);
	walk(root, &src);
	buf_free(&out);
	mime_part_free(&root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = 1 + (data[0] >> 2);
	switch (data[0] & 3) {
	case 0:
		decoders(MIME_ENCODING_BASE64, data + 1, size - 1, chunk);
		break;
	case 1:
		decoders(MIME_ENCODING_QP, data + 1, size - 1, chunk);
		break;
	case 2:
		html(data + 1, size - 1, chunk);
		break;
	default:
		message(data + 1, size - 1);
		break;
	}
	return 0;
}
