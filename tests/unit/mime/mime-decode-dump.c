/* mime-decode-dump MODE FILE: drive the decoders for the differential tests
   (tests/e2e/test_mime_decode_python.py). Not a unit test. Modes:
     b64, qp   decode FILE (fed one byte at a time and whole; they must
               agree), the bytes to stdout, the error count to stderr
     header    RFC 2047 decoding of FILE to UTF-8
     params    FILE is a Content-Type value: one "name TAB value" line per
               RFC 2231 decoded parameter
     binary    FILE is a message: one "PATH HEX" line per leaf part with
               its BINARY[PATH] content (PATH "-" for an unknown CTE)
     text      the text extraction of the message in FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mime/mime-binary.h"
#include "mime/mime-charset.h"
#include "mime/mime-decode.h"
#include "mime/mime-header.h"
#include "mime/mime-parser.h"
#include "mime/mime-text.h"

static int decode(enum mime_encoding enc, const struct buf *in)
{
	struct mime_decoder *d = mime_decoder_new(enc);
	struct buf whole = BUF_INIT, bytes = BUF_INIT;
	unsigned int errors = mime_decode(enc, in->data, in->len, &whole);

	for (size_t i = 0; i < in->len; i++)
		mime_decoder_feed(d, in->data + i, 1, &bytes);
	mime_decoder_finish(d, &bytes);
	if (bytes.len != whole.len ||
	    (whole.len > 0 && memcmp(bytes.data, whole.data, whole.len)) ||
	    mime_decoder_errors(d) != errors) {
		fprintf(stderr, "chunked decoding differs\n");
		return 1;
	}
	fwrite(buf_cstr(&whole), 1, whole.len, stdout);
	fprintf(stderr, "errors %u\n", errors);
	mime_decoder_free(&d);
	buf_free(&whole);
	buf_free(&bytes);
	return 0;
}

static int params(const struct buf *in)
{
	char *type, *subtype;
	struct mime_param *p, *d;
	size_t n, dn;

	if (mime_content_type_parse(in->data, in->len, &type, &subtype, &p, &n) < 0)
		return 1;
	mime_params_decode(p, n, &d, &dn);
	for (size_t i = 0; i < dn; i++)
		printf("%s\t%s\n", d[i].name, d[i].value);
	mime_params_free(&d, dn);
	mime_params_free(&p, n);
	free(type);
	free(subtype);
	return 0;
}

static void binary_part(const struct mime_part *root, const struct mime_source *src,
                        const char *path)
{
	struct mime_section *sec;
	struct mime_binary bin;
	struct buf out = BUF_INIT;
	const char *error;

	if (mime_binary_parse(path, strlen(path), &sec, &error) < 0)
		exit(2);
	if (mime_binary_resolve(root, sec, &bin, &error) != 0) {
		printf("%s -\n", path);
	} else {
		if (mime_binary_read(src, &bin, 0, UINT64_MAX, &out, &error) < 0)
			exit(2);
		printf("%s x", path);
		for (size_t i = 0; i < out.len; i++)
			printf("%02x", (unsigned char)out.data[i]);
		putchar('\n');
	}
	mime_section_free(&sec);
	buf_free(&out);
}

/* RFC 3501 section 6.4.5 numbering, leaves only */
static void walk(const struct mime_part *root, const struct mime_source *src,
                 const struct mime_part *msg, const char *prefix)
{
	char path[1024];
	int n = 1;

	if (msg->kind != MIME_PART_MULTIPART) {
		snprintf(path, sizeof(path), "%s1", prefix);
		if (msg->kind == MIME_PART_LEAF)
			binary_part(root, src, path);
		return;
	}
	for (const struct mime_part *c = msg->children; c != NULL; c = c->next, n++) {
		snprintf(path, sizeof(path), "%s%d", prefix, n);
		if (c->kind == MIME_PART_LEAF) {
			binary_part(root, src, path);
		} else if (c->kind == MIME_PART_MESSAGE) {
			strncat(path, ".", sizeof(path) - strlen(path) - 1);
			walk(root, src, c->children, path);
		} else {
			/* a nested multipart numbers its children below its own */
			strncat(path, ".", sizeof(path) - strlen(path) - 1);
			walk(root, src, c, path);
		}
	}
}

int main(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *error;
	int ret = 0;

	if (argc != 3 || read_file(argv[2], 256 * 1024 * 1024, &in.data, &in.len) < 0) {
		fprintf(stderr, "usage: mime-decode-dump b64|qp|header|params|binary|text FILE\n");
		return 2;
	}
	if (strcmp(argv[1], "b64") == 0 || strcmp(argv[1], "qp") == 0) {
		ret = decode(argv[1][0] == 'b' ? MIME_ENCODING_BASE64 : MIME_ENCODING_QP, &in);
	} else if (strcmp(argv[1], "header") == 0) {
		(void)mime_header_decode(in.data, in.len, 1 << 20, &out);
		fwrite(buf_cstr(&out), 1, out.len, stdout);
	} else if (strcmp(argv[1], "params") == 0) {
		ret = params(&in);
	} else {
		struct mime_source src = {.mem = (const unsigned char *)in.data, .mem_len = in.len};
		struct mime_part *root = mime_parse(in.data, in.len, NULL);

		if (strcmp(argv[1], "binary") == 0)
			walk(root, &src, root, "");
		else if (mime_text_extract(root, &src, 1 << 20, &out, &error) < 0)
			ret = 2;
		fwrite(buf_cstr(&out), 1, out.len, stdout);
		mime_part_free(&root);
	}
	buf_free(&in);
	buf_free(&out);
	return ret;
}
