/* Unit tests for src/mime/mime-section.c: section specs, part paths at any
   depth, HEADER.FIELDS, MIME, TEXT and partial fetches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "mime/mime-parser.h"
#include "mime/mime-section.h"

static const char msg[] = "From: a@b\r\n"
                          "Subject: s\r\n"
                          "Content-Type: multipart/mixed; boundary=o\r\n"
                          "\r\n"
                          "--o\r\n"
                          "Content-Type: text/plain\r\n"
                          "\r\n"
                          "one\r\n"
                          "--o\r\n"
                          "Content-Type: message/rfc822\r\n"
                          "\r\n"
                          "Subject: in\r\n"
                          "X-A: 1\r\n"
                          " 2\r\n"
                          "Content-Type: multipart/alternative; boundary=i\r\n"
                          "\r\n"
                          "--i\r\n"
                          "\r\n"
                          "alt1\r\n"
                          "--i\r\n"
                          "Content-Type: text/html\r\n"
                          "\r\n"
                          "<p>alt2</p>\r\n"
                          "--i--\r\n"
                          "--o--\r\n";

/* Fetch spec with partial origin/length (UINT64_MAX for none); NULL when
   the section is invalid or missing. */
static char *fetch(const struct mime_part *root, const struct mime_source *src, const char *spec,
                   uint64_t origin, uint64_t length)
{
	struct mime_section *sec;
	struct mime_extent *ext;
	size_t count;
	uint64_t size;
	const char *error;
	struct buf out = BUF_INIT;

	if (mime_section_parse(spec, strlen(spec), &sec, &error) < 0)
		return NULL;
	if (mime_section_resolve(root, sec, &ext, &count, &size, &error) < 0) {
		mime_section_free(&sec);
		return NULL;
	}
	assert_int_equal(mime_extents_read(src, ext, count, origin, length, &out, &error), 0);
	if (origin == 0 && length == UINT64_MAX)
		assert_int_equal(out.len, size);
	free(ext);
	mime_section_free(&sec);
	assert_null(sec);
	return buf_steal(&out);
}

static void check(const char *spec, const char *want)
{
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = strlen(msg)};
	char *got = fetch(root, &src, spec, 0, UINT64_MAX);

	if ((want == NULL) != (got == NULL))
		print_error("spec %s\n", spec);
	if (want == NULL) {
		assert_null(got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
	mime_part_free(&root);
}

static void test_sections(void **state)
{
	check("", msg);
	check("HEADER",
	      "From: a@b\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n");
	check("header.fields (subject FROM)", "From: a@b\r\nSubject: s\r\n\r\n");
	check("HEADER.FIELDS.NOT (Content-Type \"From\")", "Subject: s\r\n\r\n");
	check("HEADER.FIELDS (X-None)", "\r\n");
	check("1", "one");
	check("1.MIME", "Content-Type: text/plain\r\n\r\n");
	check("2.HEADER.FIELDS (X-A)", "X-A: 1\r\n 2\r\n\r\n");
	check("2.1", "alt1");
	check("2.2", "<p>alt2</p>");
	check("2.2.MIME", "Content-Type: text/html\r\n\r\n");
	check("2.TEXT", strstr(msg, "--i\r\n\r\nalt1") == NULL ? ""
	                                                       : "--i\r\n\r\nalt1\r\n--i\r\n"
	                                                         "Content-Type: text/html\r\n\r\n"
	                                                         "<p>alt2</p>\r\n--i--");
	check("1.HEADER", "");
	check("3", NULL);
	check("2.3", NULL);
	check("1.1", NULL);
	check("0", NULL);
	check("1.", NULL);
	check("MIME", NULL);
	check("HEADER.FIELDS ()", NULL);
	check("HEADER.FIELDS (a", NULL);
	check("TEXTX", NULL);
}

static void test_single_part_numbering(void **state)
{
	const char *m =
	    "Subject: x\r\nContent-Type: message/rfc822\r\n\r\nSubject: y\r\n\r\nbody\r\n";
	struct mime_part *root = mime_parse(m, strlen(m), NULL);
	struct mime_source src = {.mem = (const unsigned char *)m, .mem_len = strlen(m)};
	char *s;

	/* RFC 3501 section 6.4.5: a non-multipart message has part 1 */
	s = fetch(root, &src, "1", 0, UINT64_MAX);
	assert_string_equal(s, "Subject: y\r\n\r\nbody\r\n");
	free(s);
	s = fetch(root, &src, "1.HEADER", 0, UINT64_MAX);
	assert_string_equal(s, "Subject: y\r\n\r\n");
	free(s);
	s = fetch(root, &src, "1.1", 0, UINT64_MAX);
	assert_string_equal(s, "body\r\n");
	free(s);
	s = fetch(root, &src, "TEXT", 0, UINT64_MAX);
	assert_string_equal(s, "Subject: y\r\n\r\nbody\r\n");
	free(s);
	mime_part_free(&root);
}

static void test_partial(void **state)
{
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	struct mime_source src = {.mem = (const unsigned char *)msg, .mem_len = strlen(msg)};
	const char *full = "From: a@b\r\nSubject: s\r\n\r\n";
	size_t n = strlen(full);

	for (uint64_t o = 0; o <= n + 1; o++) {
		for (uint64_t l = 0; l <= n + 1; l++) {
			char *s = fetch(root, &src, "HEADER.FIELDS (From Subject)", o, l);
			size_t want = o >= n ? 0 : (n - o < l ? n - o : l);

			assert_int_equal(strlen(s), want);
			assert_memory_equal(s, full + (o > n ? n : o), want);
			free(s);
		}
	}
	mime_part_free(&root);
}

static int read_cb(void *ctx, uint64_t offset, size_t len, struct buf *out, const char **error_r)
{
	int *calls = ctx;

	(*calls)++;
	if (offset + len > strlen(msg)) {
		*error_r = "short file";
		return -1;
	}
	buf_append(out, msg + offset, len);
	return 0;
}

static void test_callback_source(void **state)
{
	struct mime_part *root = mime_parse(msg, strlen(msg), NULL);
	int calls = 0;
	struct mime_source src = {.read = read_cb, .ctx = &calls};
	char *s = fetch(root, &src, "2.2", 3, 3);

	assert_string_equal(s, "alt");
	assert_int_equal(calls, 1);
	free(s);
	mime_part_free(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_single_part_numbering),
	    cmocka_unit_test(test_partial),
	    cmocka_unit_test(test_callback_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
