/* libFuzzer target for section extraction: the first line of the input is
   a section spec ("1.2.HEADER.FIELDS (From)"), the rest the message. Every
   resolved section must read back from the message without leaving it, in
   whole and in a partial window. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"
#include "mime/mime-section.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fetch(const struct mime_part *root, const struct mime_section *sec,
                  const struct mime_source *src)
{
	struct mime_extent *ext;
	size_t count;
	uint64_t total;
	const char *error;
	struct buf out = BUF_INIT;

	if (mime_section_resolve(root, sec, &ext, &count, &total, &error) < 0)
		return;
	if (mime_extents_read(src, ext, count, 0, UINT64_MAX, &out, &error) < 0 || out.len != total)
		abort();
	buf_clear(&out);
	if (mime_extents_read(src, ext, count, total / 3, total / 2 + 1, &out, &error) < 0)
		abort();
	buf_free(&out);
	free(ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t spec_len = nl == NULL ? size : (size_t)(nl - data);
	const uint8_t *msg = nl == NULL ? data + size : nl + 1;
	size_t msg_len = size - (size_t)(msg - data);
	struct mime_source src = {.mem = msg, .mem_len = msg_len};
	struct mime_section *sec;
	struct mime_part *root;
	struct buf out = BUF_INIT;
	const char *error;

	root = mime_parse(msg, msg_len, NULL);
	mime_imap_bodystructure(root, true, &out);
	mime_imap_envelope(root, &out);
	buf_free(&out);
	if (mime_section_parse((const char *)data, spec_len, &sec, &error) == 0) {
		fetch(root, sec, &src);
		mime_section_free(&sec);
	}
	mime_part_free(&root);
	return 0;
}
