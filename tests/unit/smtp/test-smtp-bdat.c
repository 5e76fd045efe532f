/* Unit tests for src/smtp/smtp-bdat.c: BDAT arguments, and the chunk
   reader fed whole, byte by byte and in random pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "smtp/smtp-bdat.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct arg_case {
	const char *arg;
	int ret;
	uint64_t size;
	bool last;
};

static const struct arg_case arg_cases[] = {
    {"0", 0, 0, false},
    {"0 LAST", 0, 0, true},
    {"123", 0, 123, false},
    {"123 last", 0, 123, true},
    {"123 LaSt", 0, 123, true},
    {"18446744073709551615", 0, UINT64_MAX, false},
    {"18446744073709551616", -1, 0, false},  /* 2^64 */
    {"000000000000000000001", -1, 0, false}, /* 21 digits */
    {"", -1, 0, false},
    {"LAST", -1, 0, false},
    {"12 LAST x", -1, 0, false},
    {"12  LAST", -1, 0, false},
    {"12 FIRST", -1, 0, false},
    {"-1", -1, 0, false},
    {"+1", -1, 0, false},
    {"1x", -1, 0, false},
    {"12 LASTX", -1, 0, false},
};

static void test_parse_args(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(arg_cases); i++) {
		const struct arg_case *c = &arg_cases[i];
		uint64_t size = 77;
		bool last = false;
		int ret = smtp_bdat_parse_args(c->arg, &size, &last);

		assert_int_equal(ret, c->ret);
		if (ret == 0) {
			assert_true(size == c->size);
			assert_int_equal(last, c->last);
		} else {
			assert_true(size == 77); /* untouched on failure */
		}
	}
	assert_int_equal(smtp_bdat_parse_args(NULL, &(uint64_t){0}, &(bool){0}), -1);
}

/* Chunks of a message and the stream the client sends after each BDAT
   line: the chunk's octets followed by the next command text. */
struct run_result {
	struct buf out;
	size_t consumed[8];
	enum smtp_data_result result;
	uint64_t size;
};

/* Feed each chunk's stream (chunk octets + "NEXT\r\n") with piece sizes
   from piece: 0 = whole, 1 = byte at a time, n = random 1..n. */
static void run(const char *const *chunks, size_t n_chunks, uint64_t max, bool binary, size_t piece,
                unsigned seed, struct run_result *o)
{
	struct smtp_bdat_reader r;

	memset(o, 0, sizeof(*o));
	srand(seed);
	smtp_bdat_init(&r, max, binary);
	for (size_t c = 0; c < n_chunks; c++) {
		struct buf stream = BUF_INIT;
		size_t pos = 0;
		int done = 0;

		buf_append_str(&stream, chunks[c]);
		buf_append_str(&stream, "NEXT\r\n");
		smtp_bdat_chunk(&r, strlen(chunks[c]));
		if (strlen(chunks[c]) == 0) {
			size_t used = 99;

			assert_int_equal(smtp_bdat_feed(&r, stream.data, 0, &used, &o->out), 1);
			assert_int_equal(used, 0);
			done = 1;
		}
		while (!done) {
			size_t n = piece == 0   ? stream.len - pos
			           : piece == 1 ? 1
			                        : 1 + (size_t)rand() % piece;
			size_t used;

			if (n > stream.len - pos)
				n = stream.len - pos;
			assert_true(n > 0);
			done = smtp_bdat_feed(&r, stream.data + pos, n, &used, &o->out);
			assert_true(used <= n);
			if (!done)
				assert_int_equal(used, n);
			pos += used;
		}
		o->consumed[c] = pos;
		/* what is left is exactly the next command */
		assert_int_equal(stream.len - pos, 6);
		assert_memory_equal(stream.data + pos, "NEXT\r\n", 6);
		buf_free(&stream);
	}
	smtp_bdat_finish(&r);
	o->result = smtp_bdat_result(&r);
	o->size = r.size;
}

struct msg_case {
	const char *chunks[4];
	size_t n;
	uint64_t max;
	bool binary;
	enum smtp_data_result result;
};

static const struct msg_case msg_cases[] = {
    {{"Subject: a\r\n\r\nbody\r\n"}, 1, 0, false, SMTP_DATA_OK},
    {{"Subject: a\r\n", "\r\nbo", "dy\r\n"}, 3, 0, false, SMTP_DATA_OK},
    /* a CRLF split over two chunks is a CRLF */
    {{"Subject: a\r", "\n\r\nbody\r\n"}, 2, 0, false, SMTP_DATA_OK},
    /* no dot-stuffing: ".\r\n" is just text */
    {{"a\r\n.\r\n", ".\r\n"}, 2, 0, false, SMTP_DATA_OK},
    {{"a\nb\r\n"}, 1, 0, false, SMTP_DATA_BARE_LF},
    {{"a\r", "b\r\n"}, 2, 0, false, SMTP_DATA_BARE_LF},
    {{"a\r\n", "\nb\r\n"}, 2, 0, false, SMTP_DATA_BARE_LF},
    /* a CR at the very end of the message is bare */
    {{"a\r\n", "b\r"}, 2, 0, false, SMTP_DATA_BARE_LF},
    /* BINARYMIME: any octet */
    {{"a\nb\r", "\0\xff\r"}, 2, 0, true, SMTP_DATA_OK},
    {{"", "abc", ""}, 3, 0, false, SMTP_DATA_OK},
    /* the limit counts all chunks */
    {{"12345", "67890"}, 2, 10, false, SMTP_DATA_OK},
    {{"12345", "678901"}, 2, 10, false, SMTP_DATA_TOO_BIG},
    /* size beats bare LF */
    {{"1\n345", "678901"}, 2, 10, false, SMTP_DATA_TOO_BIG},
};

static void check_case(const struct msg_case *c, size_t piece, unsigned seed)
{
	struct run_result o;
	struct buf want = BUF_INIT;
	size_t total = 0;

	for (size_t i = 0; i < c->n; i++) {
		size_t len = strlen(c->chunks[i]);

		/* the binary case holds a NUL: its length is known */
		if (c->binary && i == 1)
			len = 3;
		total += len;
		buf_append(&want, c->chunks[i], len);
	}
	if (c->binary) {
		/* strlen() stops at the NUL; drive it by hand */
		struct smtp_bdat_reader r;
		size_t used, off = 0;
		const char *bin[2] = {"a\nb\r", "\0\xff\r"};
		size_t lens[2] = {4, 3};

		smtp_bdat_init(&r, 0, true);
		memset(&o, 0, sizeof(o));
		for (size_t i = 0; i < 2; i++) {
			smtp_bdat_chunk(&r, lens[i]);
			for (size_t b = 0; b < lens[i]; b++) {
				int done = smtp_bdat_feed(&r, bin[i] + b, 1, &used, &o.out);

				assert_int_equal(done, b + 1 == lens[i]);
				off += used;
			}
		}
		smtp_bdat_finish(&r);
		assert_int_equal(off, 7);
		assert_int_equal(smtp_bdat_result(&r), c->result);
		assert_memory_equal(o.out.data, want.data, 7);
		buf_free(&o.out);
		buf_free(&want);
		return;
	}
	run(c->chunks, c->n, c->max, c->binary, piece, seed, &o);
	assert_int_equal(o.result, c->result);
	assert_true(o.size == total);
	if (c->max == 0 || total <= c->max) {
		assert_int_equal(o.out.len, total);
		if (total > 0)
			assert_memory_equal(o.out.data, want.data, total);
	} else {
		/* nothing stored past the limit */
		assert_int_equal(o.out.len, c->max);
		assert_memory_equal(o.out.data, want.data, c->max);
	}
	buf_free(&o.out);
	buf_free(&want);
}

static void test_messages_whole(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(msg_cases); i++)
		check_case(&msg_cases[i], 0, 0);
}

static void test_messages_bytewise(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(msg_cases); i++)
		check_case(&msg_cases[i], 1, 0);
}

static void test_messages_random(void **state)
{
	for (unsigned seed = 1; seed <= 50; seed++)
		for (size_t i = 0; i < N_ELEMENTS(msg_cases); i++)
			check_case(&msg_cases[i], 4, seed);
}

/* A huge chunk is only counted: out never grows past the limit. */
static void test_big_chunk_counted(void **state)
{
	struct smtp_bdat_reader r;
	struct buf out = BUF_INIT;
	char block[4096];
	uint64_t total = 1000 * sizeof(block);
	size_t used;
	int done = 0;

	memset(block, 'x', sizeof(block));
	smtp_bdat_init(&r, 10000, false);
	assert_true(smtp_bdat_chunk_absurd(&r, total)); /* the reader still takes it */
	smtp_bdat_chunk(&r, total);
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(done, 0);
		done = smtp_bdat_feed(&r, block, sizeof(block), &used, &out);
		assert_int_equal(used, sizeof(block));
	}
	assert_int_equal(done, 1);
	assert_int_equal(out.len, 10000);
	assert_true(r.size == total);
	assert_int_equal(smtp_bdat_result(&r), SMTP_DATA_TOO_BIG);
	/* NULL out: counted only */
	smtp_bdat_chunk(&r, 5);
	assert_int_equal(smtp_bdat_feed(&r, "abcdefg", 7, &used, NULL), 1);
	assert_int_equal(used, 5);
	buf_free(&out);
}

static void test_chunk_absurd(void **state)
{
	struct smtp_bdat_reader r;

	smtp_bdat_init(&r, 1000, false);
	assert_false(smtp_bdat_chunk_absurd(&r, 1000));
	assert_false(smtp_bdat_chunk_absurd(&r, 2000));
	assert_true(smtp_bdat_chunk_absurd(&r, 2001));
	assert_true(smtp_bdat_chunk_absurd(&r, UINT64_MAX));
	r.size = 1500;
	assert_false(smtp_bdat_chunk_absurd(&r, 500));
	assert_true(smtp_bdat_chunk_absurd(&r, 501));
	r.size = 2000;
	assert_false(smtp_bdat_chunk_absurd(&r, 0));
	r.size = 5000; /* already far over */
	assert_true(smtp_bdat_chunk_absurd(&r, 1));
	assert_false(smtp_bdat_chunk_absurd(&r, 0));
	smtp_bdat_init(&r, 0, false);
	assert_false(smtp_bdat_chunk_absurd(&r, UINT64_MAX));
	smtp_bdat_init(&r, UINT64_MAX - 1, false);
	assert_false(smtp_bdat_chunk_absurd(&r, UINT64_MAX - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_args),        cmocka_unit_test(test_messages_whole),
	    cmocka_unit_test(test_messages_bytewise), cmocka_unit_test(test_messages_random),
	    cmocka_unit_test(test_big_chunk_counted), cmocka_unit_test(test_chunk_absurd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
