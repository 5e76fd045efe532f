/* Unit tests for src/pop3/pop3-msg.c: UIDLs, and the bytes RETR and TOP
   send for awkward messages, fed whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "pop3/pop3-msg.h"

static void test_uidl(void **state)
{
	char text[POP3_UIDL_MAX];

	/* Dovecot's %08Xu%08Xv */
	pop3_uidl_format(text, 1, 1733300000);
	assert_string_equal(text, "0000000167500F20");
	pop3_uidl_format(text, 0xffffffffu, 0xabcdef);
	assert_string_equal(text, "FFFFFFFF00ABCDEF");
	assert_int_equal(strlen(text), POP3_UIDL_MAX - 1);
}

/* What goes out for msg (len bytes) with body_lines, fed in pieces of
   step bytes (0: all at once); the counted size must be the output less
   the stuffed dots and the final ".\r\n". */
static char *send_msg(const char *msg, size_t len, int64_t body_lines, size_t step)
{
	struct pop3_stuff st, count;
	struct buf out = BUF_INIT;
	size_t stuffed = 0;

	pop3_stuff_init(&st, body_lines);
	pop3_stuff_init(&count, body_lines);
	for (size_t pos = 0; pos < len;) {
		size_t n = step == 0 || len - pos < step ? len - pos : step;

		pop3_stuff_feed(&count, msg + pos, n, NULL);
		if (pop3_stuff_feed(&st, msg + pos, n, &out))
			break;
		pos += n;
	}
	pop3_stuff_finish(&st, &out);
	pop3_stuff_finish(&count, NULL);
	assert_int_equal(st.size, count.size);
	for (size_t i = 0; i + 1 < out.len; i++) {
		if (out.data[i] == '.' && (i == 0 || out.data[i - 1] == '\n'))
			stuffed++;
	}
	/* the final dot line is one of those starting with "." */
	assert_int_equal(st.size, out.len - 3 - (stuffed - 1));
	return buf_steal(&out);
}

static void check(const char *msg, size_t len, int64_t body_lines, const char *want)
{
	for (size_t step = 0; step <= 2; step++) {
		char *got = send_msg(msg, len, body_lines, step);

		assert_string_equal(got, want);
		free(got);
	}
}

#define RETR(msg, want)   check(msg, sizeof(msg) - 1, -1, want)
#define TOP(msg, n, want) check(msg, sizeof(msg) - 1, n, want)

static void test_dot_stuffing(void **state)
{
	RETR("A: b\r\n\r\n.\r\n", "A: b\r\n\r\n..\r\n.\r\n");
	RETR("A: b\r\n\r\n..\r\n", "A: b\r\n\r\n...\r\n.\r\n");
	RETR("A: b\r\n\r\n.start\r\nmid.dle\r\n", "A: b\r\n\r\n..start\r\nmid.dle\r\n.\r\n");
	RETR(".first line\r\n", "..first line\r\n.\r\n");
	/* a last line without a line end gets CR LF before the dot */
	RETR("A: b\r\n\r\nlast", "A: b\r\n\r\nlast\r\n.\r\n");
	RETR("A: b\r\n\r\n.", "A: b\r\n\r\n..\r\n.\r\n");
	RETR("", ".\r\n");
}

static void test_line_ends(void **state)
{
	/* bare LFs (a taken-over Maildir) go out as CR LF */
	RETR("A: b\n\nx\n.\ny", "A: b\r\n\r\nx\r\n..\r\ny\r\n.\r\n");
	/* a bare CR is data, a CR at the very end ends the line */
	RETR("a\rb\r\nc\r", "a\rb\r\nc\r\n.\r\n");
	RETR("\r.x\r\n", "\r.x\r\n.\r\n");
}

static void test_top(void **state)
{
	static const char msg[] = "A: b\r\nC: d\r\n\r\nl1\r\n.l2\r\nl3\r\n";

	TOP(msg, 0, "A: b\r\nC: d\r\n\r\n.\r\n");
	TOP(msg, 2, "A: b\r\nC: d\r\n\r\nl1\r\n..l2\r\n.\r\n");
	TOP(msg, 3, "A: b\r\nC: d\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	TOP(msg, 99, "A: b\r\nC: d\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	/* no empty line: it is all header */
	TOP("A: b\nC: d", 0, "A: b\r\nC: d\r\n.\r\n");
	TOP("A: b\n\nbody", 1, "A: b\r\n\r\nbody\r\n.\r\n");
}

static void test_sizes(void **state)
{
	struct pop3_stuff st;

	pop3_stuff_init(&st, -1);
	pop3_stuff_feed(&st, "a\nb\r\n.c", 7, NULL);
	pop3_stuff_finish(&st, NULL);
	/* "a\r\n" "b\r\n" ".c\r\n", the stuffed dot not counted */
	assert_int_equal(st.size, 3 + 3 + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uidl),      cmocka_unit_test(test_dot_stuffing),
	    cmocka_unit_test(test_line_ends), cmocka_unit_test(test_top),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
