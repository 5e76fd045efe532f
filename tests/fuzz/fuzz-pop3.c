/* Fuzz target for src/pop3/pop3-parser.c and pop3-msg.c: the first byte
   picks the chunk size ((byte & 0x3f) + 1) and, with 0x40, the line limit
   (16 instead of 512); the rest is fed as client lines, every command's
   words are walked (both from the third byte on), and the same bytes are sent through the RETR/TOP
   converter (0x80: TOP with the second byte as the line count), whose
   output must end with CRLF "." CRLF and count what it says. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "pop3/pop3-msg.h"
#include "pop3/pop3-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse(const char *in, size_t len, size_t chunk, size_t max_line)
{
	struct pop3_parser *p = pop3_parser_new(max_line);
	size_t pos = 0, total = 0;

	while (pos < len) {
		size_t n = len - pos < chunk ? len - pos : chunk, consumed;
		enum pop3_parse_result r = pop3_parser_feed(p, in + pos, n, &consumed);

		if (consumed == 0 || consumed > n)
			abort();
		pos += consumed;
		if (r == POP3_PARSE_COMMAND) {
			const struct pop3_command *cmd = pop3_parser_command(p);

			if (cmd->line_len + 1 > max_line || strlen(cmd->rest) > cmd->line_len)
				abort();
			total += strlen(cmd->name);
			for (size_t i = 0; i < cmd->count; i++)
				total += strlen(cmd->args[i]);
		} else if (r == POP3_PARSE_ERROR && pop3_parser_error(p) == NULL) {
			abort();
		}
	}
	(void)total;
	pop3_parser_free(&p);
}

static void convert(const char *in, size_t len, size_t chunk, int64_t lines)
{
	struct pop3_stuff st, count;
	struct buf out = BUF_INIT;

	pop3_stuff_init(&st, lines);
	pop3_stuff_init(&count, lines);
	for (size_t pos = 0; pos < len; pos += chunk) {
		size_t n = len - pos < chunk ? len - pos : chunk;

		pop3_stuff_feed(&count, in + pos, n, NULL);
		if (pop3_stuff_feed(&st, in + pos, n, &out))
			break;
	}
	pop3_stuff_finish(&st, &out);
	pop3_stuff_finish(&count, NULL);
	if (st.size != count.size || st.size + 3 > out.len ||
	    (out.len > 3 && memcmp(out.data + out.len - 5, "\r\n.\r\n", 5) != 0))
		abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, max_line;

	if (size < 2)
		return 0;
	chunk = (data[0] & 0x3f) + 1u;
	max_line = (data[0] & 0x40) ? 16 : 512;
	parse((const char *)data + 2, size - 2, chunk, max_line);
	convert((const char *)data + 2, size - 2, chunk, (data[0] & 0x80) ? data[1] : -1);
	return 0;
}
