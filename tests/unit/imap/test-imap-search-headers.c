/* Unit tests for src/imap/imap-search-headers.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-search-headers.h"
#include "lib/buf.h"

static void add_field(struct mime_part *hdr, const char *name, const char *value, size_t len)
{
	struct mime_field *f = array_push(&hdr->fields);

	f->name = strdup(name);
	f->value = malloc(len + 1);
	memcpy(f->value, value, len);
	f->value[len] = '\0';
	f->value_len = len;
}

static void free_fields(struct mime_part *hdr)
{
	for (size_t i = 0; i < hdr->fields.count; i++) {
		free(hdr->fields.items[i].name);
		free(hdr->fields.items[i].value);
	}
	array_free(&hdr->fields);
}

static void test_codes(void **state)
{
	(void)state;
	assert_int_equal(imap_search_header_code("subject"), 0);
	assert_int_equal(imap_search_header_code("FROM"), 1);
	assert_true(imap_search_header_code("Message-Id") >= 0);
	assert_int_equal(imap_search_header_code("X-Spam"), -1);
	assert_int_equal(imap_search_header_code(""), -1);
}

static void test_render_and_match(void **state)
{
	struct mime_part hdr = {0};
	struct buf b = BUF_INIT;
	int subject = imap_search_header_code("Subject");
	int to = imap_search_header_code("To");
	int cc = imap_search_header_code("Cc");

	(void)state;
	add_field(&hdr, "Subject", "first", 5);
	add_field(&hdr, "X-Other", "hidden", 6);
	add_field(&hdr, "subject", "nul\0inside", 10);
	add_field(&hdr, "To", "", 0);
	imap_search_headers_render(&hdr, &b);
	assert_int_equal(b.len,
	                 strlen("a5:first") + strlen("a10:") + 10 + strlen("e0:") + strlen("k0:"));

	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "FIRST"), 1);
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "inside"), 1);
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "nul"), 1);
	/* a match never spans the NUL, nor two fields */
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "l i"), 0);
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "firsta"), 0);
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "hidden"), 0);
	/* an empty string matches a present field, even an empty one */
	assert_int_equal(imap_search_headers_match(b.data, b.len, to, ""), 1);
	assert_int_equal(imap_search_headers_match(b.data, b.len, cc, ""), 0);
	assert_int_equal(imap_search_headers_match("", 0, subject, ""), 0);
	/* damaged encodings are refused, not misread */
	assert_int_equal(imap_search_headers_match("a9:short", 8, subject, "x"), -1);
	assert_int_equal(imap_search_headers_match("a5first", 7, subject, "x"), -1);
	assert_int_equal(imap_search_headers_match("z1:x", 4, subject, "x"), -1);
	assert_int_equal(imap_search_headers_match("a:", 2, subject, "x"), -1);
	buf_free(&b);
	free_fields(&hdr);
}

static void test_contains(void **state)
{
	(void)state;
	assert_true(imap_search_contains("Hello World", 11, "o w", 3));
	assert_true(imap_search_contains("abc", 3, "", 0));
	assert_false(imap_search_contains("abc", 3, "abcd", 4));
	assert_false(imap_search_contains("ab\0cd", 5, "bc", 2));
	assert_true(imap_search_contains("ab\0cd", 5, "cd", 2));
}

/* Addresses with comments match on the parsed address too. */
static void test_value_matches(void **state)
{
	static const char v1[] = "<user (comment)@ (comment) domain.org>";
	static const char v2[] = "user@domain (Real Name)";
	static const char v3[] = "\"Real\" <x (c) @example.test>";

	(void)state;
	assert_true(imap_search_value_matches("From", v1, strlen(v1), "user@domain.org"));
	assert_true(imap_search_value_matches("cc", v1, strlen(v1), "USER@DOMAIN"));
	assert_false(imap_search_value_matches("Subject", v1, strlen(v1), "user@domain.org"));
	assert_false(imap_search_value_matches("From", v1, strlen(v1), "other@domain.org"));
	assert_true(imap_search_value_matches("To", v2, strlen(v2), "Real Name"));
	assert_true(imap_search_value_matches("To", v2, strlen(v2), "user@domain"));
	assert_true(imap_search_value_matches("Bcc", v3, strlen(v3), "x@example.test"));
	assert_true(imap_search_value_matches("Bcc", v3, strlen(v3), "Real <x@example"));
}

static void test_first_and_references(void **state)
{
	struct mime_part hdr = {0};
	struct buf b = BUF_INIT;
	const char *v;
	size_t len;
	int subject = imap_search_header_code("Subject");

	(void)state;
	/* References is rendered, but never a search code */
	assert_int_equal(imap_search_header_code("References"), -1);
	add_field(&hdr, "Subject", "one", 3);
	add_field(&hdr, "subject", "two", 3);
	imap_search_headers_render(&hdr, &b);
	/* no References field: an empty one marks the entry as covering it */
	assert_int_equal(
	    imap_search_headers_first(b.data, b.len, IMAP_SEARCH_HEADER_REFERENCES, &v, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(imap_search_headers_first(b.data, b.len, subject, &v, &len), 1);
	assert_memory_equal(v, "one", 3);
	assert_int_equal(len, 3);
	assert_int_equal(
	    imap_search_headers_first(b.data, b.len, imap_search_header_code("To"), &v, &len), 0);
	/* an entry made before References was covered has none */
	assert_int_equal(
	    imap_search_headers_first("a3:one", 6, IMAP_SEARCH_HEADER_REFERENCES, &v, &len), 0);
	assert_int_equal(imap_search_headers_first("a9:one", 6, subject, &v, &len), -1);
	buf_clear(&b);
	add_field(&hdr, "REFERENCES", "<a@b> <c@d>", 11);
	imap_search_headers_render(&hdr, &b);
	assert_int_equal(
	    imap_search_headers_first(b.data, b.len, IMAP_SEARCH_HEADER_REFERENCES, &v, &len), 1);
	assert_int_equal(len, 11);
	/* searching HEADER References still reads the file */
	assert_int_equal(imap_search_headers_match(b.data, b.len, subject, "two"), 1);
	buf_free(&b);
	free_fields(&hdr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_matches),        cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_render_and_match),     cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_first_and_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
