/* The POP3 command parser: see pop3-parser.h. */
#include "pop3/pop3-parser.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct pop3_parser {
	size_t max_line;
	char *line; /* max_line + 1 bytes: the line so far, then a NUL */
	size_t len;
	char *words; /* a copy of the line split into NUL-terminated words */
	size_t words_size;
	bool discarding; /* a line too long: skip up to its LF */
	bool has_nul;
	struct pop3_command cmd;
	const char *error;
};

struct pop3_parser *pop3_parser_new(size_t max_line)
{
	struct pop3_parser *p = xcalloc(1, sizeof(*p));

	pop3_parser_set_max_line(p, max_line);
	return p;
}

void pop3_parser_free(struct pop3_parser **p)
{
	if (*p == NULL)
		return;
	free((*p)->line);
	free((*p)->words);
	free(*p);
	*p = NULL;
}

void pop3_parser_set_max_line(struct pop3_parser *p, size_t max_line)
{
	if (max_line < 3)
		max_line = 3;
	if (max_line + 1 > p->words_size) {
		p->line = xrealloc(p->line, max_line + 1);
		p->words = xrealloc(p->words, max_line + 1);
		p->words_size = max_line + 1;
	}
	p->max_line = max_line;
}

/* Split the finished line (p->line[0..len), CR dropped) into the command.
   0, or -1 with p->error. */
static int split_line(struct pop3_parser *p)
{
	struct pop3_command *cmd = &p->cmd;
	char *w = p->words, *end;

	memset(cmd, 0, sizeof(*cmd));
	p->line[p->len] = '\0';
	cmd->line = p->line;
	cmd->line_len = p->len;
	if (p->has_nul) {
		p->error = "NUL byte in command line.";
		return -1;
	}
	cmd->rest = p->line + p->len;
	memcpy(w, p->line, p->len + 1);
	end = w + p->len;
	while (w < end && *w == ' ')
		w++;
	cmd->name = w;
	while (w < end && *w != ' ') {
		*w = (char)toupper((unsigned char)*w);
		w++;
	}
	while (w < end) {
		*w++ = '\0';
		while (w < end && *w == ' ')
			w++;
		if (w == end)
			break;
		if (cmd->count == POP3_MAX_ARGS) {
			p->error = "Too many arguments.";
			return -1;
		}
		if (cmd->count == 0)
			cmd->rest = p->line + (w - p->words);
		cmd->args[cmd->count++] = w;
		while (w < end && *w != ' ')
			w++;
	}
	return 0;
}

/* A line end was reached at p->line[0..len). */
static enum pop3_parse_result line_done(struct pop3_parser *p)
{
	enum pop3_parse_result r;

	if (p->len > 0 && p->line[p->len - 1] == '\r')
		p->len--;
	r = split_line(p) < 0 ? POP3_PARSE_ERROR : POP3_PARSE_COMMAND;
	p->len = 0;
	p->has_nul = false;
	return r;
}

enum pop3_parse_result pop3_parser_feed(struct pop3_parser *p, const void *data, size_t len,
                                        size_t *consumed_r)
{
	const char *in = data;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (p->discarding) {
			if (c == '\n')
				p->discarding = false;
			continue;
		}
		if (c == '\n') {
			*consumed_r = i + 1;
			return line_done(p);
		}
		/* the limit counts the line end: the LF still needs a byte */
		if (p->len + 1 >= p->max_line) {
			p->discarding = true;
			p->len = 0;
			p->has_nul = false;
			p->error = "Line too long.";
			*consumed_r = i + 1;
			return POP3_PARSE_ERROR;
		}
		if (c == '\0')
			p->has_nul = true;
		p->line[p->len++] = c;
	}
	*consumed_r = len;
	return POP3_PARSE_NEED_MORE;
}

const struct pop3_command *pop3_parser_command(const struct pop3_parser *p)
{
	return &p->cmd;
}

const char *pop3_parser_error(const struct pop3_parser *p)
{
	return p->error;
}
