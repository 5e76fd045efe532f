/* Unit tests for src/mime/mime-binary.c: BINARY[] and BINARY.SIZE of
   RFC 3516 over base64, quoted-printable, identity and unknown encodings,
   every partial window, and a callback source that reads in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-binary.h"
#include "mime/mime-parser.h"

static const char msg[] = "Subject: s\r\n"
                          "Content-Type: multipart/mixed; boundary=o\r\n"
                          "\r\n"
                          "--o\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Transfer-Encoding: quoted-printable\r\n"
                          "\r\n"
                          "caf=C3=A9 long=\r\n"
                          "line  \r\n"
                          "end\r\n"
                          "--o\r\n"
                          "Content-Type: application/octet-stream\r\n"
                          "Content-Transfer-Encoding: BASE64\r\n"
                          "\r\n"
                          "AAECAwQFBgcICQ==\r\n"
                          "--o\r\n"
                          "Content-Transfer-Encoding: x-uuencode\r\n"
                          "\r\n"
                          "begin 644 x\r\n"
                          "--o\r\n"
                          "Content-Type: message/rfc822\r\n"
                          "\r\n"
                          "Subject: in\r\n"
                          "Content-Transfer-Encoding: base64\r\n"
                          "\r\n"
                          "aW5uZXI=\r\n"
                          "--o\r\n"
                          "\r\n"
                          "--o--\r\n";

/* Read through a callback, at most 3 bytes per call, as a file would. */
static int cb_read(void *ctx, uint64_t offset, size_t len, struct buf *out, const char **error_r)
{
	const char *data = ctx;

	if (offset + len > sizeof(msg) - 1) {
		*error_r = "past the end";
		return -1;
	}
	for (size_t done = 0; done < len; done += 3)
		buf_append(out, data + offset + done, len - done < 3 ? len - done : 3);
	return 0;
}

/* BINARY[spec]<origin.length> as a malloc'ed buffer; *len_r its length.
   Returns the resolve result. */
static int fetch(const struct mime_part *root, const struct mime_source *src, const char *spec,
                 uint64_t origin, uint64_t length, struct buf *out)
{
	struct mime_section *sec;
	struct mime_binary bin;
	const char *error;
	int ret;

	assert_int_equal(mime_binary_parse(spec, strlen(spec), &sec, &error), 0);
	ret = mime_binary_resolve(root, sec, &bin, &error);
	mime_section_free(&sec);
	if (ret == 0)
		assert_int_equal(mime_binary_read(src, &bin, origin, length, out, &error), 0);
	return ret;
}

static uint64_t binsize(const struct mime_part *root, const struct mime_source *src,
                        const char *spec)
{
	struct mime_section *sec;
	struct mime_binary bin;
	const char *error;
	uint64_t size;

	assert_int_equal(mime_binary_parse(spec, strlen(spec), &sec, &error), 0);
	assert_int_equal(mime_binary_resolve(root, sec, &bin, &error), 0);
	mime_section_free(&sec);
	assert_int_equal(mime_binary_size(src, &bin, &size, &error), 0);
	return size;
}

static const struct {
	const char *spec;
	const char *want;
	size_t len;
} cases[] = {
    {"1", "caf\xc3\xa9 longline\r\nend", 19},
    {"2", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10},
    {"4", "Subject: in\r\nContent-Transfer-Encoding: base64\r\n\r\naW5uZXI=", 58},
    {"4.1", "inner", 5},
    {"5", "", 0},
};

static void check_all(const struct mime_source *src)
{
	struct mime_part *root = mime_parse(msg, sizeof(msg) - 1, NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len;

		assert_int_equal(binsize(root, src, cases[i].spec), len);
		/* every window, including ones past the end */
		for (uint64_t o = 0; o <= len + 1; o++) {
			for (uint64_t l = 0; l <= len + 1; l++) {
				struct buf out = BUF_INIT;
				size_t n = o >= len ? 0 : (len - o < l ? len - o : l);

				assert_int_equal(fetch(root, src, cases[i].spec, o, l, &out), 0);
				assert_int_equal(out.len, n);
				if (n > 0)
					assert_memory_equal(out.data, cases[i].want + o, n);
				buf_free(&out);
			}
		}
	}
	mime_part_free(&root);
}

static void test_binary_mem(void **state)
{
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = sizeof(msg) - 1};

	(void)state;
	check_all(&src);
}

static void test_binary_callback(void **state)
{
	struct mime_source src = {.read = cb_read, .ctx = (void *)msg};

	(void)state;
	check_all(&src);
}

static void test_binary_whole_and_errors(void **state)
{
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = sizeof(msg) - 1};
	struct mime_part *root = mime_parse(msg, sizeof(msg) - 1, NULL);
	struct mime_section *sec;
	struct mime_binary bin;
	struct buf out = BUF_INIT;
	const char *error;

	(void)state;
	/* BINARY[] is the message as stored */
	assert_int_equal(fetch(root, &src, "", 0, UINT64_MAX, &out), 0);
	assert_int_equal(out.len, sizeof(msg) - 1);
	buf_free(&out);
	assert_int_equal(binsize(root, &src, ""), sizeof(msg) - 1);
	/* unknown encoding: NO [UNKNOWN-CTE] */
	assert_int_equal(fetch(root, &src, "3", 0, UINT64_MAX, &out), 1);
	assert_int_equal(mime_binary_parse("3", 1, &sec, &error), 0);
	assert_int_equal(mime_binary_resolve(root, sec, &bin, &error), 1);
	assert_int_equal(bin.encoding, MIME_ENCODING_UNKNOWN);
	assert_int_equal(mime_binary_read(&src, &bin, 0, 10, &out, &error), -1);
	mime_section_free(&sec);
	/* no such part */
	assert_int_equal(mime_binary_parse("9", 1, &sec, &error), 0);
	assert_int_equal(mime_binary_resolve(root, sec, &bin, &error), -1);
	mime_section_free(&sec);
	/* only part paths */
	assert_int_equal(mime_binary_parse("1.MIME", 6, &sec, &error), -1);
	assert_int_equal(mime_binary_parse("HEADER", 6, &sec, &error), -1);
	assert_int_equal(mime_binary_parse("TEXT", 4, &sec, &error), -1);
	assert_int_equal(mime_binary_parse("1.", 2, &sec, &error), -1);
	/* a source that is too short */
	src.mem_len = 100;
	assert_int_equal(mime_binary_parse("2", 1, &sec, &error), 0);
	assert_int_equal(mime_binary_resolve(root, sec, &bin, &error), 0);
	assert_int_equal(mime_binary_read(&src, &bin, 0, 10, &out, &error), -1);
	mime_section_free(&sec);
	buf_free(&out);
	mime_part_free(&root);
}

/* A single-part message: BINARY[1] is its decoded body. */
static void test_binary_single_part(void **state)
{
	static const char one[] = "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n";
	struct mime_source src = {.mem = (const unsigned char *)one, .mem_len = sizeof(one) - 1};
	struct mime_part *root = mime_parse(one, sizeof(one) - 1, NULL);
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(fetch(root, &src, "1", 0, UINT64_MAX, &out), 0);
	assert_string_equal(out.data, "hello");
	assert_int_equal(binsize(root, &src, "1"), 5);
	buf_free(&out);
	mime_part_free(&root);
}

/* A body bigger than one read step decodes the same in every window. */
static void test_binary_large(void **state)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf m = BUF_INIT, out = BUF_INIT, all = BUF_INIT;
	struct mime_source src;
	struct mime_part *root;
	uint64_t size;

	(void)state;
	buf_append_str(&m, "Content-Transfer-Encoding: base64\r\n\r\n");
	for (int line = 0; line < 4000; line++) {
		for (int i = 0; i < 76; i++)
			buf_append_char(&m, alpha[(line * 7 + i) % 64]);
		buf_append_str(&m, "\r\n");
	}
	src = (struct mime_source){.mem = (const unsigned char *)m.data, .mem_len = m.len};
	root = mime_parse(m.data, m.len, NULL);
	assert_int_equal(fetch(root, &src, "1", 0, UINT64_MAX, &all), 0);
	assert_int_equal(all.len, 4000 * 57);
	size = binsize(root, &src, "1");
	assert_int_equal(size, all.len);
	assert_int_equal(fetch(root, &src, "1", 65530, 100000, &out), 0);
	assert_int_equal(out.len, 100000);
	assert_memory_equal(out.data, all.data + 65530, 100000);
	buf_free(&out);
	buf_free(&all);
	buf_free(&m);
	mime_part_free(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binary_mem),
	    cmocka_unit_test(test_binary_callback),
	    cmocka_unit_test(test_binary_whole_and_errors),
	    cmocka_unit_test(test_binary_single_part),
	    cmocka_unit_test(test_binary_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
