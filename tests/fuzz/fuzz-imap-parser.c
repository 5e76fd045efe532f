/* Fuzz target for src/imap/imap-parser.c: the input is fed in chunks whose
   sizes come from the first byte, and every event's data is walked. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "imap/imap-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct imap_arg *args, size_t count)
{
	size_t total = 0;

	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *arg = &args[i];
		const char *s = imap_arg_astring(arg);
		uint64_t n;

		if (s != NULL)
			total += strlen(s) + arg->len;
		/* A literal8's bytes (NULs allowed) are all readable. */
		if (arg->type == IMAP_ARG_LITERAL && arg->literal8 && arg->str != NULL)
			total += memchr(arg->str, '\0', arg->len) != NULL;
		if (imap_arg_number(arg, &n) == 0)
			total += (size_t)n;
		if (arg->type == IMAP_ARG_LIST)
			total += walk(arg->list, arg->count);
	}
	return total;
}

static bool sink_open(void *ctx, const struct imap_command *partial, uint64_t size)
{
	return size % 2 == 0;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	return len > 30 ? -1 : 0;
}

static void sink_close(void *ctx)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits = {
	    .max_line = 1024,
	    .max_literal = 4096,
	    .max_literals = 8192,
	    .max_args = 64,
	    .max_depth = 8,
	};
	struct imap_literal_sink sink = {sink_open, sink_write, sink_close, NULL};
	struct imap_parser *p = imap_parser_new(&limits);
	size_t chunk, pos = 1, consumed;
	const char *tag;

	if (size == 0) {
		imap_parser_free(&p);
		return 0;
	}
	chunk = (data[0] & 0x3f) + 1;
	if (data[0] & 0x40)
		imap_parser_set_sink(p, &sink);
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		enum imap_parse_result r = imap_parser_feed(p, data + pos, n, &consumed);

		pos += consumed;
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *cmd = imap_parser_command(p);
			(void)walk(cmd->args, cmd->count);
			(void)strlen(cmd->tag);
			(void)strlen(cmd->name);
		} else if (r == IMAP_PARSE_ERROR) {
			(void)strlen(imap_parser_error(p, &tag));
		}
	}
	imap_parser_free(&p);
	return 0;
}
