/* Unit tests for src/imap/imap-notify.c: NOTIFY SET/NONE lines go through
   the real parser, whole and one byte at a time, and the parsed event
   groups (or the error) must be the same and as expected; then which
   events a mailbox gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap-notify.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"

#define ALL (NOTIFY_MESSAGE_EVENTS | NOTIFY_MAILBOX_NAME | NOTIFY_SUBSCRIPTION_CHANGE)

static const struct imap_parser_limits limits = {
    .max_line = 1000, .max_literal = 100, .max_literals = 150, .max_args = 100, .max_depth = 6};

static const char *const kinds[] = {"SELECTED",   "SELECTED-DELAYED", "INBOXES",  "PERSONAL",
                                    "SUBSCRIBED", "SUBTREE",          "MAILBOXES"};

static void render_arg(struct buf *out, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_LIST) {
		buf_append_str(out, a->str);
		return;
	}
	buf_append_char(out, '(');
	for (size_t i = 0; i < a->count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		render_arg(out, &a->list[i]);
	}
	buf_append_char(out, ')');
}

static void render_spec(struct buf *out, enum notify_parse_result r, const struct notify_spec *spec,
                        const char *error)
{
	if (r != NOTIFY_PARSE_OK) {
		buf_printf(out, "%s: %s", r == NOTIFY_PARSE_BAD ? "BAD" : "BADEVENT", error);
		return;
	}
	if (spec->status)
		buf_append_str(out, "status ");
	for (size_t i = 0; i < spec->group_count; i++) {
		const struct notify_group *g = &spec->groups[i];
		buf_printf(out, "%s", kinds[g->kind]);
		for (size_t j = 0; j < g->name_count; j++)
			buf_printf(out, "%c%s", j == 0 ? '[' : ',', g->names[j]);
		buf_printf(out, "%s=%x ", g->name_count > 0 ? "]" : "", g->events);
	}
	if (spec->fetch_atts != NULL) {
		buf_append_str(out, "fetch=");
		render_arg(out, spec->fetch_atts);
	}
}

/* Parse "t NOTIFY <args>\r\n" fed in chunks of chunk bytes. */
static char *run(const char *args, size_t chunk)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct buf line = BUF_INIT, out = BUF_INIT;
	size_t pos = 0;
	bool done = false;

	buf_printf(&line, "t NOTIFY %s\r\n", args);
	while (pos < line.len && !done) {
		size_t n = chunk < line.len - pos ? chunk : line.len - pos, consumed;
		enum imap_parse_result r = imap_parser_feed(p, line.data + pos, n, &consumed);

		pos += consumed;
		assert_int_not_equal(r, IMAP_PARSE_ERROR);
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *cmd = imap_parser_command(p);
			struct notify_spec spec;
			const char *error = NULL;
			enum notify_parse_result pr =
			    notify_spec_parse(cmd->args, cmd->count, ALL, &spec, &error);

			render_spec(&out, pr, &spec, error);
			notify_spec_free(&spec);
			done = true;
		}
	}
	assert_true(done);
	imap_parser_free(&p);
	buf_free(&line);
	return out.data != NULL ? out.data : calloc(1, 1);
}

static void check(const char *args, const char *want)
{
	char *whole = run(args, 100000), *bytes = run(args, 1);

	assert_string_equal(whole, want);
	assert_string_equal(bytes, want);
	free(whole);
	free(bytes);
}

static void test_groups(void **state)
{
	check("NONE", "");
	check("SET (SELECTED (MessageNew MessageExpunge))", "SELECTED=3 ");
	check("SET STATUS (personal (MessageNew MessageExpunge FlagChange MailboxName))",
	      "status PERSONAL=f ");
	check("SET (INBOXES NONE) (subscribed (SubscriptionChange))", "INBOXES=0 SUBSCRIBED=10 ");
	check("SET (SUBTREE inbox (MailboxName)) (MAILBOXES (\"a b\" Lists/dev) "
	      "(MessageNew MessageExpunge))",
	      "SUBTREE[INBOX]=8 MAILBOXES[a b,Lists/dev]=3 ");
	check(
	    "SET (SELECTED-DELAYED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100> "
	    "FLAGS) MessageExpunge))",
	    "SELECTED-DELAYED=3 fetch=(UID BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100> FLAGS)");
}

static void test_errors(void **state)
{
	check("", "BAD: Expected SET or NONE.");
	check("NONE x", "BAD: Expected SET or NONE.");
	check("SET", "BAD: Missing event groups.");
	check("SET STATUS", "BAD: Missing event groups.");
	check("SET (BOGUS NONE)", "BAD: Invalid event group.");
	check("SET (PERSONAL)", "BAD: Invalid event group.");
	check("SET (SUBTREE (MessageNew MessageExpunge))", "BAD: Invalid event group.");
	check("SET (PERSONAL ())", "BAD: Invalid event list.");
	check("SET (PERSONAL (Bogus))", "BAD: Invalid event list.");
	check("SET (PERSONAL (MessageNew))",
	      "BAD: MessageNew and MessageExpunge go together; FlagChange needs both.");
	check("SET (PERSONAL (FlagChange))",
	      "BAD: MessageNew and MessageExpunge go together; FlagChange needs both.");
	check("SET (PERSONAL (MessageNew (UID) MessageExpunge))",
	      "BAD: Fetch attributes only for the selected mailbox.");
	check("SET (SELECTED NONE) (SELECTED-DELAYED NONE)", "BAD: SELECTED given twice.");
	check("SET (PERSONAL (MailboxMetadataChange))", "BADEVENT: Unsupported event.");
	check("SET (PERSONAL (AnnotationChange MessageNew MessageExpunge))",
	      "BADEVENT: Unsupported event.");
}

static struct notify_spec parse_args(const char *args)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct buf line = BUF_INIT;
	struct notify_spec spec;
	const char *error;
	size_t consumed;

	buf_printf(&line, "t NOTIFY %s\r\n", args);
	assert_int_equal(imap_parser_feed(p, line.data, line.len, &consumed), IMAP_PARSE_COMMAND);
	assert_int_equal(notify_spec_parse(imap_parser_command(p)->args,
	                                   imap_parser_command(p)->count, ALL, &spec, &error),
	                 NOTIFY_PARSE_OK);
	imap_parser_free(&p);
	buf_free(&line);
	return spec;
}

/* The first matching group decides; SELECTED groups never match here. */
static void test_events(void **state)
{
	struct notify_spec spec =
	    parse_args("SET (SELECTED (MessageNew MessageExpunge)) (INBOXES (MailboxName)) "
	               "(SUBTREE Lists (MessageNew MessageExpunge)) (MAILBOXES Lists/quiet NONE) "
	               "(SUBSCRIBED (SubscriptionChange)) (PERSONAL (MessageNew MessageExpunge "
	               "FlagChange))");
	bool delayed;

	assert_int_equal(notify_spec_events(&spec, "INBOX", true), NOTIFY_MAILBOX_NAME);
	assert_int_equal(notify_spec_events(&spec, "Lists", false),
	                 NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	assert_int_equal(notify_spec_events(&spec, "Lists/quiet", false),
	                 NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	assert_int_equal(notify_spec_events(&spec, "Listsx", true), NOTIFY_SUBSCRIPTION_CHANGE);
	assert_int_equal(notify_spec_events(&spec, "Other", false), NOTIFY_MESSAGE_EVENTS);
	assert_int_equal(notify_spec_selected(&spec, &delayed),
	                 NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	assert_false(delayed);
	notify_spec_free(&spec);

	spec = parse_args("SET (MAILBOXES (Lists/quiet Lists) NONE) (SUBTREE Lists (MessageNew "
	                  "MessageExpunge))");
	assert_int_equal(notify_spec_events(&spec, "Lists/quiet", false), 0);
	assert_int_equal(notify_spec_events(&spec, "Lists/loud", false),
	                 NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	assert_int_equal(notify_spec_events(&spec, "Other", false), 0);
	assert_int_equal(notify_spec_selected(&spec, &delayed), 0);
	notify_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
