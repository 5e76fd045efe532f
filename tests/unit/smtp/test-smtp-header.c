/* Unit tests for src/smtp/smtp-header.c: the header section splitter fed
   whole, byte by byte and in random chunks; field iteration; the
   Authentication-Results filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "smtp/smtp-header.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct split_case {
	const char *in;
	size_t max;
	int result;         /* of the last feed: 1 ended, 0 more, -1 too big */
	const char *fields; /* when not too big */
	const char *body;   /* bytes after the empty line */
};

static const struct split_case cases[] = {
    {"A: 1\r\nB: 2\r\n\r\nbody\r\n", 100, 1, "A: 1\r\nB: 2\r\n", "body\r\n"},
    {"\r\nbody only\r\n", 100, 1, "", "body only\r\n"},
    {"A: 1\r\n\r\n", 100, 1, "A: 1\r\n", ""},
    {"A: 1\r\n", 100, 0, "A: 1\r\n", ""},
    {"", 100, 0, "", ""},
    {"A: x\r\n y\r\n\r\n\r\nz", 100, 1, "A: x\r\n y\r\n", "\r\nz"},
    /* a CR inside a line, or a line "\r" without LF, is no empty line */
    {"A: \r\r\n\rX\r\n\r\nb", 100, 1, "A: \r\r\n\rX\r\n", "b"},
    /* exactly at the limit (the empty line is not counted) */
    {"A: 12\r\n\r\nb", 7, 1, "A: 12\r\n", "b"},
    {"A: 123\r\n\r\nb", 7, -1, NULL, NULL},
    {"A: 123456789\r\n", 7, -1, NULL, NULL},
};

/* Feed in with chunk sizes: 0 = all at once, 1 = byte by byte, else
   random 1..chunk. */
static void run_case(const struct split_case *c, size_t chunk, unsigned seed)
{
	struct smtp_header h;
	struct buf body = BUF_INIT;
	size_t len = strlen(c->in), pos = 0;
	int ret = 0;

	srand(seed);
	smtp_header_init(&h, c->max);
	while (pos < len) {
		size_t n = chunk == 0 ? len - pos : chunk == 1 ? 1 : 1 + (size_t)rand() % chunk;
		size_t used;

		if (n > len - pos)
			n = len - pos;
		if (ret == 1) {
			buf_append(&body, c->in + pos, n);
			pos += n;
			continue;
		}
		ret = smtp_header_feed(&h, c->in + pos, n, &used);
		assert_true(used <= n);
		if (ret != 1)
			assert_int_equal(used, n);
		buf_append(&body, c->in + pos + used, n - used);
		pos += n;
	}
	if (ret != c->result)
		fail_msg("\"%s\" chunk %zu seed %u: %d", c->in, chunk, seed, ret);
	assert_int_equal(h.ended, c->result == 1);
	assert_int_equal(h.too_big, c->result == -1);
	if (c->fields != NULL) {
		assert_int_equal(h.fields.len, strlen(c->fields));
		assert_memory_equal(h.fields.data, c->fields, h.fields.len);
		assert_int_equal(body.len, strlen(c->body));
		assert_memory_equal(body.data, c->body, body.len);
	}
	smtp_header_clear(&h);
	buf_free(&body);
}

static void test_split(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		run_case(&cases[i], 0, 0);
		run_case(&cases[i], 1, 0);
		for (unsigned seed = 1; seed < 20; seed++)
			run_case(&cases[i], 5, seed);
	}
}

static void test_too_big_stays(void **state)
{
	struct smtp_header h;
	size_t used;

	smtp_header_init(&h, 4);
	assert_int_equal(smtp_header_feed(&h, "Abcdefgh: x\r\n", 13, &used), -1);
	assert_int_equal(smtp_header_feed(&h, "\r\n", 2, &used), -1);
	assert_int_equal(used, 2);
	assert_true(h.too_big);
	assert_int_equal(h.fields.len, 0);
	smtp_header_clear(&h);
}

static void test_fields(void **state)
{
	static const char hdr[] = "From: a@b\r\nSubject: x\r\n\ty\r\nno colon line\r\n"
	                          ": empty name\r\nFrom \t: c@d\r\nLast:v";
	struct smtp_header_field f;
	size_t pos = 0;

	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(smtp_header_field_is(&f, "from"));
	assert_int_equal(f.value_len, 4);
	assert_memory_equal(f.value, " a@b", 4);
	assert_int_equal(f.raw_len, 11);
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(smtp_header_field_is(&f, "Subject"));
	assert_int_equal(f.value_len, 6);
	assert_memory_equal(f.value, " x\r\n\ty", 6);
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_int_equal(f.name_len, 0);
	assert_int_equal(f.raw_len, strlen("no colon line\r\n"));
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_int_equal(f.name_len, 0);
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(smtp_header_field_is(&f, "FROM"));
	assert_false(smtp_header_field_is(&f, "Fro"));
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(smtp_header_field_is(&f, "last"));
	assert_int_equal(f.value_len, 1);
	assert_int_equal(smtp_header_next(hdr, strlen(hdr), &pos, &f), 0);
	assert_int_equal(pos, strlen(hdr));
}

static void test_filter(void **state)
{
	static const char hdr[] =
	    "Authentication-Results: mx.example.org; spf=pass\r\n"
	    "Received: x\r\n"
	    "authentication-results: MX.Example.Org;\r\n\tdkim=pass header.d=evil\r\n"
	    "Authentication-Results: (comment) \"mx.example.org\"; none\r\n"
	    "Authentication-Results: other.example.org; dmarc=pass\r\n"
	    "Authentication-Results: mx.example.org.evil; none\r\n"
	    "X-Authentication-Results: mx.example.org; none\r\n"
	    "Subject: s\r\n";
	static const char kept[] = "Received: x\r\n"
	                           "Authentication-Results: other.example.org; dmarc=pass\r\n"
	                           "Authentication-Results: mx.example.org.evil; none\r\n"
	                           "X-Authentication-Results: mx.example.org; none\r\n"
	                           "Subject: s\r\n";
	struct buf out = BUF_INIT;

	assert_int_equal(smtp_header_filter(hdr, strlen(hdr), "mx.example.org", &out), 3);
	assert_string_equal(out.data, kept);
	buf_free(&out);
	assert_int_equal(smtp_header_filter("", 0, "mx.example.org", &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_too_big_stays),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
