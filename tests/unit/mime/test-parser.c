/* Unit tests for src/mime/mime-parser.c: offsets, header fields, the tree,
   broken mail, and the same result for every way of chunking the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-parser.h"

/* chunk: 0 = whole buffer, 1 = one byte at a time, else random sizes from
   a fixed seed */
static struct mime_part *parse_chunked(const char *msg, size_t len, int chunk,
                                       const struct mime_limits *limits)
{
	struct mime_parser *p = mime_parser_new(limits);
	struct mime_part *root;
	unsigned int seed = (unsigned int)chunk;
	size_t off = 0;

	while (off < len) {
		size_t n = chunk == 0 ? len - off : chunk == 1 ? 1 : 1 + (size_t)rand_r(&seed) % 97;

		if (n > len - off)
			n = len - off;
		mime_parser_feed(p, msg + off, n);
		off += n;
	}
	(void)mime_parser_finish(p, &root);
	mime_parser_free(&p);
	assert_null(p);
	return root;
}

static char *dump(const struct mime_part *root)
{
	struct buf b = BUF_INIT;

	mime_part_dump(root, &b);
	return buf_steal(&b);
}

/* Parse whole, byte by byte and in random chunks; all must agree. Returns
   the whole-buffer tree. */
static struct mime_part *parse_all_ways(const char *msg, size_t len,
                                        const struct mime_limits *limits)
{
	struct mime_part *root = parse_chunked(msg, len, 0, limits);
	char *want = dump(root);

	for (int chunk = 1; chunk < 12; chunk++) {
		struct mime_part *other = parse_chunked(msg, len, chunk, limits);
		char *got = dump(other);

		assert_string_equal(got, want);
		free(got);
		mime_part_free(&other);
		assert_null(other);
	}
	free(want);
	return root;
}

static struct mime_part *parse_str(const char *msg)
{
	return parse_all_ways(msg, strlen(msg), NULL);
}

static void assert_range(const struct mime_range *r, uint64_t start, uint64_t size, uint64_t lines)
{
	assert_int_equal(r->start, start);
	assert_int_equal(r->size, size);
	assert_int_equal(r->lines, lines);
}

static void test_simple(void **state)
{
	const char *msg = "From: a@example.com\r\n"
	                  "Subject: hello\r\n"
	                  " world\r\n"
	                  "\r\n"
	                  "line 1\r\n"
	                  "line 2\r\n";
	struct mime_part *root = parse_str(msg);

	assert_int_equal(root->kind, MIME_PART_LEAF);
	assert_string_equal(root->type, "text");
	assert_string_equal(root->subtype, "plain");
	assert_false(root->has_content_type);
	assert_range(&root->hdr, 0, 47, 4);
	assert_range(&root->body, 47, 16, 2);
	assert_int_equal(root->fields.count, 2);
	assert_string_equal(root->fields.items[0].name, "From");
	assert_string_equal(root->fields.items[0].value, "a@example.com");
	assert_int_equal(root->fields.items[0].start, 0);
	assert_int_equal(root->fields.items[0].end, 21);
	assert_string_equal(root->fields.items[1].name, "Subject");
	assert_string_equal(root->fields.items[1].value, "hello world");
	assert_int_equal(root->fields.items[1].start, 21);
	assert_int_equal(root->fields.items[1].end, 45);
	assert_int_equal(root->flags, 0);
	mime_part_free(&root);
}

static void test_content_fields(void **state)
{
	const char *msg = "Content-Type: Text/HTML; charset=\"utf-8\" (c); format=flowed\r\n"
	                  "Content-Transfer-Encoding: base64\r\n"
	                  "Content-ID: <id@x>\r\n"
	                  "Content-Description: a (b) c\r\n"
	                  "Content-Disposition: attachment;\r\n\tfilename=\"a b.txt\"\r\n"
	                  "Content-Language: en, de\r\n"
	                  "Content-Location: http://x/\r\n"
	                  "Content-MD5: abc=\r\n"
	                  "Content-Type: image/png\r\n"
	                  "\r\n"
	                  "aGVsbG8=";
	struct mime_part *root = parse_str(msg);

	assert_true(root->has_content_type);
	assert_string_equal(root->type, "Text");
	assert_string_equal(root->subtype, "HTML");
	assert_int_equal(root->param_count, 2);
	assert_string_equal(mime_param_get(root->params, 2, "CHARSET"), "utf-8");
	assert_string_equal(mime_param_get(root->params, 2, "format"), "flowed");
	assert_string_equal(root->encoding, "base64");
	assert_string_equal(root->id, "<id@x>");
	assert_string_equal(root->description, "a (b) c");
	assert_string_equal(root->disposition, "attachment");
	assert_string_equal(mime_param_get(root->disp_params, root->disp_param_count, "filename"),
	                    "a b.txt");
	assert_string_equal(root->language, "en, de");
	assert_string_equal(root->location, "http://x/");
	assert_string_equal(root->md5, "abc=");
	assert_true(mime_part_is(root, "text", "html"));
	/* a last line without line end is a line */
	assert_range(&root->body, strlen(msg) - 8, 8, 1);
	mime_part_free(&root);
}

static const char multipart_msg[] = "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n" /* 47 */
                                    "\r\n"                                                /* 49 */
                                    "preamble\r\n"                                        /* 59 */
                                    "--=_b\r\n"                                           /* 66 */
                                    "\r\n"                                                /* 68 */
                                    "part one\r\n"                                        /* 78 */
                                    "--=_b  \r\n"                                         /* 87 */
                                    "Content-Type: text/html\r\n"                         /* 112 */
                                    "\r\n"                                                /* 114 */
                                    "<b>x</b>\r\n"                                        /* 124 */
                                    "\r\n"                                                /* 126 */
                                    "--=_b--\r\n"                                         /* 135 */
                                    "epilogue\r\n";                                       /* 145 */

static void test_multipart(void **state)
{
	struct mime_part *root = parse_str(multipart_msg), *a, *b;

	assert_int_equal(root->kind, MIME_PART_MULTIPART);
	assert_int_equal(mime_part_child_count(root), 2);
	assert_range(&root->hdr, 0, 49, 2);
	assert_range(&root->body, 49, 96, 11);
	a = mime_part_child(root, 1);
	b = mime_part_child(root, 2);
	assert_null(mime_part_child(root, 3));
	assert_ptr_equal(a->parent, root);
	assert_int_equal(a->depth, 1);
	assert_range(&a->hdr, 66, 2, 1);
	/* the CRLF before the delimiter belongs to it, the line is counted */
	assert_range(&a->body, 68, 8, 1);
	assert_true(mime_part_is(a, "text", "plain"));
	assert_range(&b->hdr, 87, 27, 2);
	assert_range(&b->body, 114, 10, 1);
	assert_true(mime_part_is(b, "text", "html"));
	assert_int_equal(root->flags | a->flags | b->flags, 0);
	mime_part_free(&root);
}

static void test_nested_message(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=outer\r\n"
	                  "\r\n"
	                  "--outer\r\n"
	                  "Content-Type: message/rfc822\r\n"
	                  "\r\n"
	                  "Subject: inner\r\n"
	                  "Content-Type: multipart/alternative; boundary=inner\r\n"
	                  "\r\n"
	                  "--inner\r\n"
	                  "\r\n"
	                  "plain\r\n"
	                  "--inner\r\n"
	                  "Content-Type: text/html\r\n"
	                  "\r\n"
	                  "html\r\n"
	                  "--inner--\r\n"
	                  "--outer--\r\n";
	struct mime_part *root = parse_str(msg), *m, *inner;
	const char *p;

	assert_int_equal(mime_part_child_count(root), 1);
	m = root->children;
	assert_int_equal(m->kind, MIME_PART_MESSAGE);
	inner = m->children;
	assert_int_equal(inner->kind, MIME_PART_MULTIPART);
	assert_string_equal(mime_part_field(inner, "subject")->value, "inner");
	assert_int_equal(mime_part_child_count(inner), 2);
	assert_int_equal(inner->depth, 2);
	p = strstr(msg, "Subject: inner");
	assert_int_equal(inner->hdr.start, p - msg);
	assert_int_equal(m->body.start, p - msg);
	/* the message part ends before the CRLF of "--outer--" */
	assert_int_equal(m->body.start + m->body.size, strstr(msg, "\r\n--outer--") - msg);
	assert_int_equal(inner->body.start + inner->body.size, m->body.start + m->body.size);
	assert_true(mime_part_is(mime_part_child(inner, 2), "text", "html"));
	assert_int_equal(mime_part_child(inner, 2)->body.size, 4);
	mime_part_free(&root);
}

static void test_digest_default(void **state)
{
	const char *msg = "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	                  "--d\r\n\r\nSubject: s\r\n\r\nbody\r\n--d--\r\n";
	struct mime_part *root = parse_str(msg), *c = root->children;

	assert_true(mime_part_is(c, "message", "rfc822"));
	assert_false(c->has_content_type);
	assert_int_equal(c->kind, MIME_PART_MESSAGE);
	assert_string_equal(mime_part_field(c->children, "Subject")->value, "s");
	mime_part_free(&root);
}

static void test_broken_unterminated(void **state)
{
	/* no close delimiter, a boundary inside a header, bare LF */
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n"
	                  "\n"
	                  "--b\n"
	                  "Content-Type: text/plain\n"
	                  "--b\n"
	                  "\n"
	                  "two\n";
	struct mime_part *root = parse_str(msg), *a, *b;

	assert_int_equal(mime_part_child_count(root), 2);
	assert_true(root->flags & MIME_PART_FLAG_UNTERMINATED);
	a = root->children;
	b = a->next;
	assert_true(a->flags & MIME_PART_FLAG_NO_BLANK_LINE);
	assert_int_equal(a->body.size, 0);
	assert_int_equal(a->hdr.size, strlen("Content-Type: text/plain\n"));
	assert_string_equal(a->fields.items[0].value, "text/plain");
	assert_range(&b->body, strlen(msg) - 4, 4, 1);
	mime_part_free(&root);
}

static void test_broken_no_colon(void **state)
{
	/* a line that is not a field ends the header; it is the first body
	   line (and here the first delimiter) */
	const char *msg = "Content-Type: multipart/mixed; boundary=x\r\n"
	                  "--x\r\n"
	                  "Content-Type: text/plain\r\n\r\nhi\r\n--x--\r\n";
	struct mime_part *root = parse_str(msg);

	assert_true(root->flags & MIME_PART_FLAG_NO_BLANK_LINE);
	assert_int_equal(root->hdr.size, 43);
	assert_int_equal(mime_part_child_count(root), 1);
	assert_int_equal(root->children->body.size, 2);
	mime_part_free(&root);

	root = parse_str("Subject: x\r\nthis is body\r\n");
	assert_int_equal(root->hdr.size, 12);
	assert_range(&root->body, 12, 14, 1);
	mime_part_free(&root);

	root = parse_str("no header at all");
	assert_range(&root->hdr, 0, 0, 0);
	assert_range(&root->body, 0, 16, 1);
	mime_part_free(&root);
}

static void test_missing_boundary(void **state)
{
	const char *msg = "Content-Type: multipart/mixed\r\n\r\nbody\r\n";
	struct mime_part *root = parse_str(msg);

	assert_int_equal(root->kind, MIME_PART_LEAF);
	assert_null(root->children);
	assert_range(&root->body, 33, 6, 1);
	mime_part_free(&root);

	root = parse_str("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno delimiter\r\n");
	assert_int_equal(root->kind, MIME_PART_LEAF);
	mime_part_free(&root);
}

static void test_encoded_message_is_leaf(void **state)
{
	const char *msg = "Content-Type: message/rfc822\r\n"
	                  "Content-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==\r\n";
	struct mime_part *root = parse_str(msg);

	assert_int_equal(root->kind, MIME_PART_LEAF);
	mime_part_free(&root);
}

static void test_depth_cap(void **state)
{
	struct buf msg = BUF_INIT;
	struct mime_limits limits;
	struct mime_part *root, *p;
	int depth = 0;

	for (int i = 0; i < 300; i++)
		buf_printf(&msg, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i,
		           i);
	buf_append_str(&msg, "\r\ndeep\r\n");
	root = parse_all_ways(msg.data, msg.len, NULL);
	for (p = root; p->children != NULL; p = p->children)
		depth++;
	assert_int_equal(depth, 99);
	assert_true(p->flags & MIME_PART_FLAG_CAPPED);
	mime_part_free(&root);

	mime_limits_default(&limits);
	limits.max_parts = 3;
	buf_clear(&msg);
	buf_append_str(&msg, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 10; i++)
		buf_append_str(&msg, "--b\r\n\r\nx\r\n");
	root = parse_all_ways(msg.data, msg.len, &limits);
	assert_int_equal(mime_part_child_count(root), 2);
	assert_true(root->flags & MIME_PART_FLAG_CAPPED);
	mime_part_free(&root);
	buf_free(&msg);
}

static void test_long_header(void **state)
{
	static const char tail[] = "\r\n\tmore\r\nA: 1\r\nB: 2\r\nC: \0\xff\r\n\r\nbody";
	struct buf msg = BUF_INIT;
	struct mime_limits limits;
	struct mime_part *root;

	mime_limits_default(&limits);
	limits.max_field_value = 100;
	limits.max_fields = 3;
	buf_append_str(&msg, "X-Long: ");
	for (int i = 0; i < 5000; i++)
		buf_append_str(&msg, "abcdefghij");
	buf_append(&msg, tail, sizeof(tail) - 1);
	root = parse_all_ways(msg.data, msg.len, &limits);
	assert_int_equal(root->fields.count, 3);
	assert_true(root->fields.items[0].truncated);
	/* the cap counts the raw value, before trimming its leading space */
	assert_int_equal(root->fields.items[0].value_len, 99);
	assert_int_equal(root->fields.items[0].end, 8 + 50000 + 2 + 7);
	assert_true(root->flags & MIME_PART_FLAG_FIELDS_DROPPED);
	assert_true(root->flags & MIME_PART_FLAG_HDR_8BIT);
	assert_range(&root->body, msg.len - 4, 4, 1);
	mime_part_free(&root);
	buf_free(&msg);
}

static void test_obs_whitespace_and_empty(void **state)
{
	struct mime_part *root = parse_all_ways("", 0, NULL);

	assert_range(&root->hdr, 0, 0, 0);
	assert_range(&root->body, 0, 0, 0);
	mime_part_free(&root);

	root = parse_str("Subject : spaced\r\nX-Empty:\r\n\r\n");
	assert_string_equal(root->fields.items[0].name, "Subject");
	assert_string_equal(root->fields.items[0].value, "spaced");
	assert_string_equal(root->fields.items[1].value, "");
	assert_int_equal(root->flags, 0);
	mime_part_free(&root);
}

/* Random messages made of MIME-ish lines: every chunking gives the same
   tree, and no range leaves the message. */
static void check_ranges(const struct mime_part *part, size_t len)
{
	assert_true(part->hdr.start + part->hdr.size <= len);
	assert_true(part->body.start + part->body.size <= len);
	for (size_t i = 0; i < part->fields.count; i++)
		assert_true(part->fields.items[i].end <= len);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		check_ranges(c, len);
}

static void test_random_chunks(void **state)
{
	static const char *const lines[] = {
	    "Content-Type: multipart/mixed; boundary=a\r\n",
	    "Content-Type: multipart/digest; boundary=b\n",
	    "Content-Type: message/rfc822\r\n",
	    "Subject: x\r\n",
	    " folded\r\n",
	    "\r\n",
	    "\n",
	    "--a\r\n",
	    "--b\n",
	    "--a--\r\n",
	    "--b--  \r\n",
	    "text\r\n",
	    "\r",
	    "x:",
	};
	unsigned int seed = 7;

	for (int n = 0; n < 300; n++) {
		struct buf msg = BUF_INIT;
		struct mime_part *root;
		int count = rand_r(&seed) % 40;

		for (int i = 0; i < count; i++)
			buf_append_str(&msg,
			               lines[rand_r(&seed) % (sizeof(lines) / sizeof(*lines))]);
		root = parse_all_ways(msg.data == NULL ? "" : msg.data, msg.len, NULL);
		check_ranges(root, msg.len);
		mime_part_free(&root);
		buf_free(&msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_content_fields),
	    cmocka_unit_test(test_multipart),
	    cmocka_unit_test(test_nested_message),
	    cmocka_unit_test(test_digest_default),
	    cmocka_unit_test(test_broken_unterminated),
	    cmocka_unit_test(test_broken_no_colon),
	    cmocka_unit_test(test_missing_boundary),
	    cmocka_unit_test(test_encoded_message_is_leaf),
	    cmocka_unit_test(test_depth_cap),
	    cmocka_unit_test(test_long_header),
	    cmocka_unit_test(test_obs_whitespace_and_empty),
	    cmocka_unit_test(test_random_chunks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
