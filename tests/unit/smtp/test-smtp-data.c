/* Unit tests for src/smtp/smtp-data.c: the DATA decoder, fed whole, byte by
   byte and in random chunks, checked against a simple reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "smtp/smtp-data.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct outcome {
	int ended;
	size_t consumed;
	struct buf out;
	enum smtp_data_result result;
};

/* Feed in with chunk sizes from chunk(): 0 = all at once. */
static void run(const char *in, size_t len, uint64_t max, size_t chunk, unsigned seed,
                struct outcome *o)
{
	struct smtp_data_decoder d;
	size_t pos = 0;

	memset(o, 0, sizeof(*o));
	srand(seed);
	smtp_data_init(&d, max);
	while (pos < len && !o->ended) {
		size_t n = chunk == 0 ? len - pos : chunk == 1 ? 1 : 1 + (size_t)rand() % chunk;
		size_t used;

		if (n > len - pos)
			n = len - pos;
		o->ended = smtp_data_feed(&d, in + pos, n, &used, &o->out);
		assert_true(used <= n);
		if (!o->ended)
			assert_int_equal(used, n);
		pos += used;
	}
	o->consumed = pos;
	o->result = smtp_data_result(&d);
}

struct data_case {
	const char *in;
	int ended;
	size_t consumed; /* when ended */
	const char *out;
	enum smtp_data_result result;
};

static const struct data_case cases[] = {
    {".\r\n", 1, 3, "", SMTP_DATA_OK},
    {"a\r\n.\r\n", 1, 6, "a\r\n", SMTP_DATA_OK},
    {"a\r\n.\r\nQUIT\r\n", 1, 6, "a\r\n", SMTP_DATA_OK},
    {"Subject: x\r\n\r\nbody\r\n.\r\n", 1, 23, "Subject: x\r\n\r\nbody\r\n", SMTP_DATA_OK},
    {"..a\r\n.\r\n", 1, 8, ".a\r\n", SMTP_DATA_OK},
    {"a\r\n..\r\n.\r\n", 1, 10, "a\r\n.\r\n", SMTP_DATA_OK},
    {"a\r\n...\r\n.\r\n", 1, 11, "a\r\n..\r\n", SMTP_DATA_OK},
    {"a.\r\n.b\r\n.\r\n", 1, 11, "a.\r\nb\r\n", SMTP_DATA_OK},
    {"a\r\n.", 0, 0, "a\r\n", SMTP_DATA_OK},
    {"a\r\n.\r", 0, 0, "a\r\n", SMTP_DATA_OK},
    /* smuggling attempts: none of these end the data */
    {"a\n.\n", 0, 0, "a\n.\n", SMTP_DATA_BARE_LF},
    {"a\r.\r", 0, 0, "a\r.", SMTP_DATA_BARE_LF},
    {"a\r\n.\n", 0, 0, "a\r\n\n", SMTP_DATA_BARE_LF},
    {"a\n.\r\n", 0, 0, "a\n.\r\n", SMTP_DATA_BARE_LF},
    {"a\r.\r\n", 0, 0, "a\r.\r\n", SMTP_DATA_BARE_LF},
    {"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", 1, 25, "a\n.\r\nMAIL FROM:<x@y>\r\n", SMTP_DATA_BARE_LF},
    {"a\r\n.\rb\r\n.\r\n", 1, 11, "a\r\n\rb\r\n", SMTP_DATA_BARE_LF},
    {"a\r\r\n.\r\n", 1, 7, "a\r\r\n", SMTP_DATA_BARE_LF},
    {"\n.\r\n", 0, 0, "\n.\r\n", SMTP_DATA_BARE_LF},
    {"x\rx\r\n.\r\n", 1, 8, "x\rx\r\n", SMTP_DATA_BARE_LF},
};

static void test_table(void **state)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		for (size_t c = 0; c < N_ELEMENTS(chunks); c++) {
			struct outcome o;

			run(cases[i].in, strlen(cases[i].in), 0, chunks[c], (unsigned)i, &o);
			if (o.ended != cases[i].ended)
				fail_msg("case %zu chunk %zu: ended %d", i, chunks[c], o.ended);
			if (o.ended)
				assert_int_equal(o.consumed, cases[i].consumed);
			assert_string_equal(buf_cstr(&o.out), cases[i].out);
			if (o.ended || cases[i].result != SMTP_DATA_OK)
				assert_int_equal(o.result, cases[i].result);
			buf_free(&o.out);
		}
	}
}

static void test_size_limit(void **state)
{
	const char *msg = "0123456789\r\n.\r\n";
	struct outcome o;

	/* exactly at the limit (12 bytes with the CRLF) is fine */
	run(msg, strlen(msg), 12, 1, 0, &o);
	assert_int_equal(o.ended, 1);
	assert_int_equal(o.result, SMTP_DATA_OK);
	assert_string_equal(buf_cstr(&o.out), "0123456789\r\n");
	buf_free(&o.out);

	/* one over: still read to the end, output capped, result TOO_BIG */
	run(msg, strlen(msg), 11, 3, 0, &o);
	assert_int_equal(o.ended, 1);
	assert_int_equal(o.consumed, strlen(msg));
	assert_int_equal(o.result, SMTP_DATA_TOO_BIG);
	assert_int_equal(o.out.len, 11);
	buf_free(&o.out);

	/* too big beats bare LF */
	run("abc\ndef\r\n.\r\n", 12, 4, 0, 0, &o);
	assert_int_equal(o.result, SMTP_DATA_TOO_BIG);
	buf_free(&o.out);
}

/* The reference: prefix the CRLF of the DATA line, find the first
   CRLF.CRLF, undo dot-stuffing at the start of each CRLF-delimited line,
   and look for any CR or LF that is not part of a CRLF. */
static int reference(const char *in, size_t len, size_t *consumed_r, struct buf *out, int *bare_r)
{
	struct buf s = BUF_INIT;
	size_t end = 0;
	int found = 0;

	buf_append_str(&s, "\r\n");
	buf_append(&s, in, len);
	for (size_t i = 0; i + 5 <= s.len; i++) {
		if (memcmp(s.data + i, "\r\n.\r\n", 5) == 0) {
			end = i;
			found = 1;
			break;
		}
	}
	if (!found) {
		buf_free(&s);
		return 0;
	}
	*bare_r = 0;
	for (size_t i = 2; i < end + 2; i++) {
		if (s.data[i] == '\n' && s.data[i - 1] != '\r')
			*bare_r = 1;
		if (s.data[i] == '\r' && s.data[i + 1] != '\n')
			*bare_r = 1;
		if (s.data[i] == '.' && s.data[i - 1] == '\n' && s.data[i - 2] == '\r')
			continue;
		buf_append_char(out, s.data[i]);
	}
	*consumed_r = end + 5 - 2;
	buf_free(&s);
	return 1;
}

static void test_random_against_reference(void **state)
{
	static const char alphabet[] = "\r\n.a\r\n.\r\n";
	char in[300];

	srand(1234);
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = (size_t)rand() % 60, ref_consumed = 0;
		struct buf ref = BUF_INIT;
		int bare = 0;

		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		memcpy(in + len, "\r\n.\r\nRSET\r\n", 11);
		len += 11;
		assert_int_equal(reference(in, len, &ref_consumed, &ref, &bare), 1);
		for (size_t chunk = 0; chunk < 4; chunk++) {
			struct outcome o;

			run(in, len, 0, chunk == 3 ? 17 : chunk, (unsigned)iter, &o);
			assert_int_equal(o.ended, 1);
			assert_int_equal(o.consumed, ref_consumed);
			assert_int_equal(o.out.len, ref.len);
			assert_memory_equal(buf_cstr(&o.out), buf_cstr(&ref), ref.len);
			assert_int_equal(o.result, bare ? SMTP_DATA_BARE_LF : SMTP_DATA_OK);
			buf_free(&o.out);
		}
		buf_free(&ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
