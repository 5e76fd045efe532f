/* Fuzz target for src/managesieve/managesieve-parser.c and the script name
   rules: the first byte picks the chunk size ((byte & 0x3f) + 1), with 0x40
   a literal limit of 16 instead of 4096 and with 0x80 a sink for literals
   of 8 octets or more; the rest is fed as client commands. Every token must
   hold its len bytes (NUL-terminated), a streamed token's len must equal
   what the sink got, and each string token is checked as a script name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "managesieve/managesieve-parser.h"
#include "managesieve/managesieve-store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const void *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

static void check_command(const struct msieve_command *cmd, size_t *sunk, uint64_t max_literal)
{
	size_t streamed = 0;

	if (cmd->count > MSIEVE_MAX_TOKENS)
		abort();
	for (size_t i = 0; i < cmd->count; i++) {
		const struct msieve_token *t = &cmd->tokens[i];

		if (t->streamed) {
			if (t->data != NULL || t->len > max_literal)
				abort();
			streamed += t->len;
			continue;
		}
		if (t->data == NULL || t->data[t->len] != '\0')
			abort();
		if (t->type == MSIEVE_ATOM && (t->len == 0 || strlen(t->data) != t->len))
			abort();
		if (t->type == MSIEVE_STRING)
			(void)msieve_name_valid(t->data, t->len);
	}
	if (streamed != *sunk)
		abort();
	*sunk = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msieve_parser *p;
	size_t chunk, pos = 1, sunk = 0;
	uint64_t max_literal;
	const char *in = (const char *)data, *text;

	if (size < 1)
		return 0;
	chunk = (data[0] & 0x3f) + 1;
	max_literal = data[0] & 0x40 ? 16 : 4096;
	p = msieve_parser_new(256, max_literal);
	if (data[0] & 0x80)
		msieve_parser_set_sink(p, 8, sink, &sunk);
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk, consumed;
		enum msieve_parse_result r = msieve_parser_feed(p, in + pos, n, &consumed);

		if (consumed == 0 || consumed > n)
			abort();
		pos += consumed;
		if (r == MSIEVE_PARSE_COMMAND)
			check_command(msieve_parser_command(p), &sunk, max_literal);
		else if (r == MSIEVE_PARSE_ERROR) {
			(void)msieve_parser_error(p, &text);
			if (text == NULL)
				abort();
			sunk = 0;
		}
	}
	msieve_parser_free(&p);
	return 0;
}
