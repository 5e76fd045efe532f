/* Sieve parser: the command grammar of RFC 5228 section 8.2 into nodes. */
#include "sieve/sieve-lexer.h"
#include "sieve/sieve-private.h"

#include "lib/array.h"
#include "lib/xalloc.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct sieve_lexer lx;
	struct sieve_token tok; /* the current (lookahead) token */
	const struct sieve_limits *limits;
	struct sieve_error *err;
	unsigned depth;
	unsigned nodes;
};

typedef ARRAY(struct sieve_node) node_array;
typedef ARRAY(struct sieve_arg) arg_array;
typedef ARRAY(char *) str_array;

static int next(struct parser *ps)
{
	free(ps->tok.text);
	ps->tok.text = NULL;
	return sieve_lex_next(&ps->lx, &ps->tok, ps->err);
}

static int expected(struct parser *ps, const char *what)
{
	return sieve_error_set(ps->err, ps->tok.line, ps->tok.column, "expected %s, found %s", what,
	                       sieve_tok_name(ps->tok.type));
}

void sieve_strlist_free(struct sieve_strlist *sl)
{
	for (size_t i = 0; i < sl->count; i++)
		free(sl->items[i]);
	free(sl->items);
	sl->items = NULL;
	sl->count = 0;
}

static void args_free(struct sieve_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(args[i].tag);
		sieve_strlist_free(&args[i].sl);
	}
	free(args);
}

void sieve_nodes_free(struct sieve_node *nodes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t r = 0; r < nodes[i].o.nregexes; r++) {
			if (nodes[i].o.regexes[r] != NULL)
				regfree(nodes[i].o.regexes[r]);
			free(nodes[i].o.regexes[r]);
		}
		free(nodes[i].o.regexes);
		free(nodes[i].name);
		args_free(nodes[i].args, nodes[i].nargs);
		sieve_nodes_free(nodes[i].tests, nodes[i].ntests);
		sieve_nodes_free(nodes[i].block, nodes[i].nblock);
	}
	free(nodes);
}

static int parse_strlist(struct parser *ps, struct sieve_arg *arg)
{
	str_array items = ARRAY_INIT;

	arg->is_list = true;
	if (next(ps) < 0)
		return -1;
	for (;;) {
		if (ps->tok.type != SIEVE_TOK_STRING)
			goto fail_expected;
		array_append(&items, ps->tok.text);
		ps->tok.text = NULL;
		if (next(ps) < 0)
			goto fail;
		if (ps->tok.type == SIEVE_TOK_RBRACKET)
			break;
		if (ps->tok.type != SIEVE_TOK_COMMA)
			goto fail_expected;
		if (next(ps) < 0)
			goto fail;
	}
	arg->sl.items = items.items;
	arg->sl.count = items.count;
	return next(ps);
fail_expected:
	expected(ps, "string");
fail:
	arg->sl.items = items.items;
	arg->sl.count = items.count;
	return -1;
}

static int parse_arg(struct parser *ps, struct sieve_arg *arg)
{
	arg->line = ps->tok.line;
	arg->column = ps->tok.column;
	switch (ps->tok.type) {
	case SIEVE_TOK_TAG:
		arg->type = SIEVE_ARG_TAG;
		arg->tag = ps->tok.text;
		ps->tok.text = NULL;
		return next(ps);
	case SIEVE_TOK_NUMBER:
		arg->type = SIEVE_ARG_NUMBER;
		arg->number = ps->tok.number;
		return next(ps);
	case SIEVE_TOK_STRING:
		arg->type = SIEVE_ARG_STRINGS;
		arg->sl.items = xmalloc(sizeof(char *));
		arg->sl.items[0] = ps->tok.text;
		arg->sl.count = 1;
		ps->tok.text = NULL;
		return next(ps);
	default:
		arg->type = SIEVE_ARG_STRINGS;
		return parse_strlist(ps, arg);
	}
}

static bool is_arg_start(enum sieve_tok t)
{
	return t == SIEVE_TOK_TAG || t == SIEVE_TOK_NUMBER || t == SIEVE_TOK_STRING ||
	       t == SIEVE_TOK_LBRACKET;
}

static int parse_test(struct parser *ps, struct sieve_node *node);

static int enter(struct parser *ps)
{
	if (++ps->depth > ps->limits->max_nesting)
		return sieve_error_set(ps->err, ps->tok.line, ps->tok.column,
		                       "nesting too deep (limit %u)", ps->limits->max_nesting);
	return 0;
}

static int parse_test_list(struct parser *ps, struct sieve_node *node)
{
	node_array tests = ARRAY_INIT;
	int ret = -1;

	if (enter(ps) < 0 || next(ps) < 0)
		return -1;
	for (;;) {
		struct sieve_node *t = array_push(&tests);
		if (parse_test(ps, t) < 0)
			goto out;
		if (ps->tok.type == SIEVE_TOK_RPAREN)
			break;
		if (ps->tok.type != SIEVE_TOK_COMMA) {
			expected(ps, "',' or ')'");
			goto out;
		}
		if (next(ps) < 0)
			goto out;
	}
	ps->depth--;
	ret = next(ps);
out:
	node->tests = tests.items;
	node->ntests = tests.count;
	node->tests_is_list = true;
	return ret;
}

/* identifier arguments: fills node->name, args and tests. */
static int parse_head(struct parser *ps, struct sieve_node *node)
{
	arg_array args = ARRAY_INIT;
	int ret = 0;

	if (ps->tok.type != SIEVE_TOK_IDENT)
		return expected(ps, "identifier");
	if (++ps->nodes > ps->limits->max_commands)
		return sieve_error_set(ps->err, ps->tok.line, ps->tok.column,
		                       "too many commands (limit %u)", ps->limits->max_commands);
	node->name = ps->tok.text;
	ps->tok.text = NULL;
	node->line = ps->tok.line;
	node->column = ps->tok.column;
	if (next(ps) < 0)
		return -1;
	while (ret == 0 && is_arg_start(ps->tok.type))
		ret = parse_arg(ps, array_push(&args));
	node->args = args.items;
	node->nargs = args.count;
	if (ret < 0)
		return -1;
	if (ps->tok.type == SIEVE_TOK_LPAREN)
		return parse_test_list(ps, node);
	if (ps->tok.type == SIEVE_TOK_IDENT) {
		node->tests = xcalloc(1, sizeof(*node->tests));
		node->ntests = 1;
		if (enter(ps) < 0 || parse_test(ps, node->tests) < 0)
			return -1;
		ps->depth--;
	}
	return 0;
}

static int parse_test(struct parser *ps, struct sieve_node *node)
{
	return parse_head(ps, node);
}

static int parse_commands(struct parser *ps, node_array *cmds, enum sieve_tok until);

static int parse_command(struct parser *ps, struct sieve_node *node)
{
	if (parse_head(ps, node) < 0)
		return -1;
	if (ps->tok.type == SIEVE_TOK_SEMICOLON)
		return next(ps);
	if (ps->tok.type != SIEVE_TOK_LBRACE)
		return expected(ps, "';' or '{'");
	node_array block = ARRAY_INIT;
	int ret = enter(ps) < 0 || next(ps) < 0 ? -1 : parse_commands(ps, &block, SIEVE_TOK_RBRACE);
	node->has_block = true;
	node->block = block.items;
	node->nblock = block.count;
	if (ret < 0)
		return -1;
	ps->depth--;
	return next(ps);
}

static int parse_commands(struct parser *ps, node_array *cmds, enum sieve_tok until)
{
	while (ps->tok.type != until) {
		if (ps->tok.type == SIEVE_TOK_EOF)
			return expected(ps, "'}'");
		if (parse_command(ps, array_push(cmds)) < 0)
			return -1;
	}
	return 0;
}

int sieve_parse(const char *text, size_t len, const struct sieve_limits *limits,
                struct sieve_script *script, struct sieve_error *err)
{
	struct parser ps = {.limits = limits, .err = err};
	node_array cmds = ARRAY_INIT;
	int ret;

	if (len > limits->max_script_size)
		return sieve_error_set(err, 1, 1, "script too large (%zu bytes, limit %zu)", len,
		                       limits->max_script_size);
	sieve_lexer_init(&ps.lx, text, len);
	ret = next(&ps);
	if (ret == 0)
		ret = parse_commands(&ps, &cmds, SIEVE_TOK_EOF);
	free(ps.tok.text);
	script->cmds = cmds.items;
	script->ncmds = cmds.count;
	return ret;
}
