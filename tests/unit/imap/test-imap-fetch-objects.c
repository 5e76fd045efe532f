/* Unit tests for the FETCH items of OBJECTID, SAVEDATE and PREVIEW in
   src/imap/imap-fetch.c: EMAILID, THREADID, SAVEDATE, PREVIEW and
   PREVIEW (LAZY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-fetch.h"
#include "imap/imap-parser.h"

static const struct imap_parser_limits limits = {1000, 1000, 1000, 100, 8};

/* imap_fetch_parse() of "a FETCH 1 <items>"; -1 also if the parser refuses
   the line. req->items in *items_r on success. */
static int parse(const char *items, unsigned *items_r)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct fetch_request req;
	const char *error;
	char *line = NULL;
	size_t consumed;
	int ret = -1;

	assert_true(asprintf(&line, "a FETCH 1 %s\r\n", items) > 0);
	if (imap_parser_feed(p, line, strlen(line), &consumed) == IMAP_PARSE_COMMAND) {
		ret = imap_fetch_parse(&imap_parser_command(p)->args[1], false, &req, &error);
		if (ret == 0) {
			*items_r = req.items;
			imap_fetch_request_free(&req);
		}
	}
	imap_parser_free(&p);
	free(line);
	return ret;
}

static void test_object_items(void **state)
{
	unsigned items = 0;

	(void)state;
	assert_int_equal(parse("(EMAILID THREADID)", &items), 0);
	assert_int_equal(items, FETCH_EMAILID | FETCH_THREADID);
	assert_int_equal(parse("savedate", &items), 0);
	assert_int_equal(items, FETCH_SAVEDATE);
	assert_int_equal(parse("PREVIEW", &items), 0);
	assert_int_equal(items, FETCH_PREVIEW);
	assert_int_equal(parse("(UID PREVIEW (LAZY) FLAGS)", &items), 0);
	assert_int_equal(items, FETCH_UID | FETCH_PREVIEW | FETCH_FLAGS);
	assert_int_equal(parse("(PREVIEW (lazy))", &items), 0);
	assert_int_equal(items, FETCH_PREVIEW);
}

static void test_modifiers_refused(void **state)
{
	unsigned items = 0;

	(void)state;
	/* only PREVIEW takes modifiers, and only LAZY */
	assert_int_equal(parse("(PREVIEW (FUZZY))", &items), -1);
	assert_int_equal(parse("(PREVIEW ())", &items), -1);
	assert_int_equal(parse("(FLAGS (LAZY))", &items), -1);
	assert_int_equal(parse("((LAZY) PREVIEW)", &items), -1);
	assert_int_equal(parse("(EMAILID (LAZY))", &items), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_object_items),
	    cmocka_unit_test(test_modifiers_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
