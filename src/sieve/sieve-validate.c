/* Sieve validator: each command's and test's arguments against its
   extension (RFC 5228 section 2.6, 3.2 and the extension RFCs). */
#include "sieve/sieve-commands.h"
#include "sieve/sieve-private.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const ext_names[SIEVE_EXT_COUNT] = {
    "fileinto",
    "reject",
    "ereject",
    "envelope",
    "encoded-character",
    "imap4flags",
    "body",
    "variables",
    "vacation",
    "vacation-seconds",
    "relational",
    "comparator-i;ascii-numeric",
    "subaddress",
    "copy",
    "date",
    "index",
    "editheader",
    "mailbox",
    "regex",
    "include",
    "duplicate",
    "spamtest",
    "spamtestplus",
    "virustest",
    "environment",
    "vnd.dovecot.testsuite",
};

const char *sieve_ext_name(enum sieve_ext ext)
{
	return ext_names[ext];
}

int sieve_ext_lookup(const char *name)
{
	for (int i = 0; i < SIEVE_EXT_COUNT; i++) {
		if (strcmp(ext_names[i], name) == 0)
			return i;
	}
	return -1;
}

/* tag groups a command accepts */
enum {
	G_CMP = 1 << 0,
	G_MATCH = 1 << 1,
	G_ADDR = 1 << 2,
	G_INDEX = 1 << 3,
	G_COPY = 1 << 4,
	G_CREATE = 1 << 5,
	G_FLAGS = 1 << 6,
	G_BODY = 1 << 7,
	G_ZONE = 1 << 8,
	G_VACATION = 1 << 9,
	G_SETMOD = 1 << 10,
	G_INCLUDE = 1 << 11,
	G_LAST = 1 << 12,
	G_DUP = 1 << 13,
	G_SPAM = 1 << 14,
	G_SIZE = 1 << 15,
};

#define NOEXT (-1)

struct cmd_spec {
	const char *name;
	int id;
	int ext;         /* required extension or NOEXT */
	bool test;       /* a test rather than a command */
	unsigned groups; /* tag groups */
	const char *pos; /* positional types: s string, l string list, n number */
	unsigned minpos; /* how many of pos are mandatory */
	char tests;      /* '0' none, '1' one test, 'L' test list */
	bool block;      /* needs a block */
};

static const struct cmd_spec specs[] = {
    {"require", SIEVE_CMD_REQUIRE, NOEXT, false, 0, "l", 1, '0', false},
    {"if", SIEVE_CMD_IF, NOEXT, false, 0, "", 0, '1', true},
    {"elsif", SIEVE_CMD_ELSIF, NOEXT, false, 0, "", 0, '1', true},
    {"else", SIEVE_CMD_ELSE, NOEXT, false, 0, "", 0, '0', true},
    {"stop", SIEVE_CMD_STOP, NOEXT, false, 0, "", 0, '0', false},
    {"keep", SIEVE_CMD_KEEP, NOEXT, false, G_FLAGS, "", 0, '0', false},
    {"discard", SIEVE_CMD_DISCARD, NOEXT, false, 0, "", 0, '0', false},
    {"redirect", SIEVE_CMD_REDIRECT, NOEXT, false, G_COPY, "s", 1, '0', false},
    {"fileinto", SIEVE_CMD_FILEINTO, SIEVE_EXT_FILEINTO, false, G_COPY | G_CREATE | G_FLAGS, "s", 1,
     '0', false},
    {"reject", SIEVE_CMD_REJECT, SIEVE_EXT_REJECT, false, 0, "s", 1, '0', false},
    {"ereject", SIEVE_CMD_EREJECT, SIEVE_EXT_EREJECT, false, 0, "s", 1, '0', false},
    {"vacation", SIEVE_CMD_VACATION, SIEVE_EXT_VACATION, false, G_VACATION, "s", 1, '0', false},
    {"setflag", SIEVE_CMD_SETFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "ll", 1, '0', false},
    {"addflag", SIEVE_CMD_ADDFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "ll", 1, '0', false},
    {"removeflag", SIEVE_CMD_REMOVEFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "ll", 1, '0', false},
    {"set", SIEVE_CMD_SET, SIEVE_EXT_VARIABLES, false, G_SETMOD, "ss", 2, '0', false},
    {"addheader", SIEVE_CMD_ADDHEADER, SIEVE_EXT_EDITHEADER, false, G_LAST, "ss", 2, '0', false},
    {"deleteheader", SIEVE_CMD_DELETEHEADER, SIEVE_EXT_EDITHEADER, false, G_INDEX | G_CMP | G_MATCH,
     "sl", 1, '0', false},
    {"include", SIEVE_CMD_INCLUDE, SIEVE_EXT_INCLUDE, false, G_INCLUDE, "s", 1, '0', false},
    {"return", SIEVE_CMD_RETURN, SIEVE_EXT_INCLUDE, false, 0, "", 0, '0', false},
    {"global", SIEVE_CMD_GLOBAL, SIEVE_EXT_INCLUDE, false, 0, "l", 1, '0', false},
    {"test", SIEVE_CMD_TEST, SIEVE_EXT_TESTSUITE, false, 0, "s", 1, '0', true},
    {"test_set", SIEVE_CMD_TEST_SET, SIEVE_EXT_TESTSUITE, false, 0, "ss", 2, '0', false},
    {"test_fail", SIEVE_CMD_TEST_FAIL, SIEVE_EXT_TESTSUITE, false, 0, "s", 1, '0', false},
    {"address", SIEVE_TEST_ADDRESS, NOEXT, true, G_ADDR | G_CMP | G_MATCH | G_INDEX, "ll", 2, '0',
     false},
    {"envelope", SIEVE_TEST_ENVELOPE, SIEVE_EXT_ENVELOPE, true, G_ADDR | G_CMP | G_MATCH, "ll", 2,
     '0', false},
    {"header", SIEVE_TEST_HEADER, NOEXT, true, G_CMP | G_MATCH | G_INDEX, "ll", 2, '0', false},
    {"exists", SIEVE_TEST_EXISTS, NOEXT, true, 0, "l", 1, '0', false},
    {"size", SIEVE_TEST_SIZE, NOEXT, true, G_SIZE, "n", 1, '0', false},
    {"true", SIEVE_TEST_TRUE, NOEXT, true, 0, "", 0, '0', false},
    {"false", SIEVE_TEST_FALSE, NOEXT, true, 0, "", 0, '0', false},
    {"not", SIEVE_TEST_NOT, NOEXT, true, 0, "", 0, '1', false},
    {"allof", SIEVE_TEST_ALLOF, NOEXT, true, 0, "", 0, 'L', false},
    {"anyof", SIEVE_TEST_ANYOF, NOEXT, true, 0, "", 0, 'L', false},
    {"body", SIEVE_TEST_BODY, SIEVE_EXT_BODY, true, G_CMP | G_MATCH | G_BODY, "l", 1, '0', false},
    {"date", SIEVE_TEST_DATE, SIEVE_EXT_DATE, true, G_ZONE | G_CMP | G_MATCH | G_INDEX, "ssl", 3,
     '0', false},
    {"currentdate", SIEVE_TEST_CURRENTDATE, SIEVE_EXT_DATE, true, G_ZONE | G_CMP | G_MATCH, "sl", 2,
     '0', false},
    {"mailboxexists", SIEVE_TEST_MAILBOXEXISTS, SIEVE_EXT_MAILBOX, true, 0, "l", 1, '0', false},
    {"duplicate", SIEVE_TEST_DUPLICATE, SIEVE_EXT_DUPLICATE, true, G_DUP, "", 0, '0', false},
    {"spamtest", SIEVE_TEST_SPAMTEST, SIEVE_EXT_SPAMTEST, true, G_CMP | G_MATCH | G_SPAM, "s", 1,
     '0', false},
    {"virustest", SIEVE_TEST_VIRUSTEST, SIEVE_EXT_VIRUSTEST, true, G_CMP | G_MATCH, "s", 1, '0',
     false},
    {"environment", SIEVE_TEST_ENVIRONMENT, SIEVE_EXT_ENVIRONMENT, true, G_CMP | G_MATCH, "sl", 2,
     '0', false},
    {"string", SIEVE_TEST_STRING, SIEVE_EXT_VARIABLES, true, G_CMP | G_MATCH, "ll", 2, '0', false},
    {"hasflag", SIEVE_TEST_HASFLAG, SIEVE_EXT_IMAP4FLAGS, true, G_CMP | G_MATCH, "ll", 1, '0',
     false},
};

struct vctx {
	struct sieve_script *script;
	struct sieve_error *err;
	unsigned depth_include;
};

static bool has_ext(const struct vctx *v, int ext)
{
	return ext == NOEXT || (v->script->exts & (1u << ext)) != 0;
}

static const struct cmd_spec *find_spec(const char *name, bool test)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (specs[i].test == test && strcasecmp(specs[i].name, name) == 0)
			return &specs[i];
	}
	return NULL;
}

struct tag_spec {
	const char *name;
	unsigned group;
	int ext;
	char arg; /* 0 none, 's' string, 'l' string list, 'n' number */
};

static const struct tag_spec tags[] = {
    {"comparator", G_CMP, NOEXT, 's'},
    {"is", G_MATCH, NOEXT, 0},
    {"contains", G_MATCH, NOEXT, 0},
    {"matches", G_MATCH, NOEXT, 0},
    {"regex", G_MATCH, SIEVE_EXT_REGEX, 0},
    {"value", G_MATCH, SIEVE_EXT_RELATIONAL, 's'},
    {"count", G_MATCH, SIEVE_EXT_RELATIONAL, 's'},
    {"all", G_ADDR, NOEXT, 0},
    {"localpart", G_ADDR, NOEXT, 0},
    {"domain", G_ADDR, NOEXT, 0},
    {"user", G_ADDR, SIEVE_EXT_SUBADDRESS, 0},
    {"detail", G_ADDR, SIEVE_EXT_SUBADDRESS, 0},
    {"index", G_INDEX, SIEVE_EXT_INDEX, 'n'},
    {"last", G_INDEX | G_LAST | G_DUP, NOEXT, 0},
    {"copy", G_COPY, SIEVE_EXT_COPY, 0},
    {"create", G_CREATE, SIEVE_EXT_MAILBOX, 0},
    {"flags", G_FLAGS, SIEVE_EXT_IMAP4FLAGS, 'l'},
    {"raw", G_BODY, NOEXT, 0},
    {"content", G_BODY, NOEXT, 'l'},
    {"text", G_BODY, NOEXT, 0},
    {"zone", G_ZONE, NOEXT, 's'},
    {"originalzone", G_ZONE, NOEXT, 0},
    {"days", G_VACATION, NOEXT, 'n'},
    {"seconds", G_VACATION | G_DUP, NOEXT, 'n'},
    {"subject", G_VACATION, NOEXT, 's'},
    {"from", G_VACATION, NOEXT, 's'},
    {"addresses", G_VACATION, NOEXT, 'l'},
    {"mime", G_VACATION, NOEXT, 0},
    {"handle", G_VACATION | G_DUP, NOEXT, 's'},
    {"header", G_DUP, NOEXT, 's'},
    {"uniqueid", G_DUP, NOEXT, 's'},
    {"lower", G_SETMOD, NOEXT, 0},
    {"upper", G_SETMOD, NOEXT, 0},
    {"lowerfirst", G_SETMOD, NOEXT, 0},
    {"upperfirst", G_SETMOD, NOEXT, 0},
    {"quotewildcard", G_SETMOD, NOEXT, 0},
    {"length", G_SETMOD, NOEXT, 0},
    {"personal", G_INCLUDE, NOEXT, 0},
    {"global", G_INCLUDE, NOEXT, 0},
    {"once", G_INCLUDE, NOEXT, 0},
    {"optional", G_INCLUDE, NOEXT, 0},
    {"percent", G_SPAM, SIEVE_EXT_SPAMTESTPLUS, 0},
    {"over", G_SIZE, NOEXT, 0},
    {"under", G_SIZE, NOEXT, 0},
};

static const struct tag_spec *find_tag(const char *name, unsigned groups)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if ((tags[i].group & groups) && strcasecmp(tags[i].name, name) == 0)
			return &tags[i];
	}
	return NULL;
}

static int arg_error(struct vctx *v, const struct sieve_arg *a, const char *fmt, const char *s)
{
	return sieve_error_set(v->err, a->line, a->column, fmt, s);
}

static int set_comparator(struct vctx *v, struct sieve_node *n, struct sieve_arg *a)
{
	const char *c = a->sl.items[0];

	if (strcasecmp(c, "i;octet") == 0)
		n->o.cmp = SIEVE_CMP_OCTET;
	else if (strcasecmp(c, "i;ascii-casemap") == 0)
		n->o.cmp = SIEVE_CMP_CASEMAP;
	else if (strcasecmp(c, "i;ascii-numeric") == 0 && has_ext(v, SIEVE_EXT_NUMERIC))
		n->o.cmp = SIEVE_CMP_NUMERIC;
	else
		return arg_error(v, a, "unknown comparator '%s'", c);
	return 0;
}

static int set_relop(struct vctx *v, struct sieve_node *n, struct sieve_arg *a)
{
	static const char *const ops[] = {"gt", "ge", "lt", "le", "eq", "ne"};
	const char *s = a->sl.items[0];

	for (int i = 0; i < 6; i++) {
		if (strcasecmp(s, ops[i]) == 0) {
			n->o.relop = (enum sieve_relop)i;
			return 0;
		}
	}
	return arg_error(v, a, "unknown relational operator '%s'", s);
}

static int set_zone(struct vctx *v, struct sieve_arg *a)
{
	const char *z = a->sl.items[0];

	if (strlen(z) != 5 || (z[0] != '+' && z[0] != '-') || strspn(z + 1, "0123456789") != 4)
		return arg_error(v, a, "bad time zone '%s' (expected +hhmm)", z);
	return 0;
}

/* Tags that take no argument and set a flag or a value in o. */
static void tag_simple(struct sieve_node *n, const char *t)
{
	struct sieve_opts *o = &n->o;
	static const char *const mods[] = {"lower",      "upper",         "lowerfirst",
	                                   "upperfirst", "quotewildcard", "length"};

	if (strcasecmp(t, "is") == 0)
		o->match = SIEVE_MATCH_IS;
	else if (strcasecmp(t, "contains") == 0)
		o->match = SIEVE_MATCH_CONTAINS;
	else if (strcasecmp(t, "matches") == 0)
		o->match = SIEVE_MATCH_MATCHES;
	else if (strcasecmp(t, "regex") == 0)
		o->match = SIEVE_MATCH_REGEX;
	else if (strcasecmp(t, "all") == 0)
		o->addrpart = SIEVE_ADDR_ALL;
	else if (strcasecmp(t, "localpart") == 0)
		o->addrpart = SIEVE_ADDR_LOCAL;
	else if (strcasecmp(t, "domain") == 0)
		o->addrpart = SIEVE_ADDR_DOMAIN;
	else if (strcasecmp(t, "user") == 0)
		o->addrpart = SIEVE_ADDR_USER;
	else if (strcasecmp(t, "detail") == 0)
		o->addrpart = SIEVE_ADDR_DETAIL;
	else if (strcasecmp(t, "last") == 0)
		o->last = true;
	else if (strcasecmp(t, "copy") == 0)
		o->copy = true;
	else if (strcasecmp(t, "create") == 0)
		o->create = true;
	else if (strcasecmp(t, "raw") == 0)
		o->transform = SIEVE_BODY_RAW;
	else if (strcasecmp(t, "text") == 0)
		o->transform = SIEVE_BODY_TEXT;
	else if (strcasecmp(t, "originalzone") == 0)
		o->zone_original = true;
	else if (strcasecmp(t, "mime") == 0)
		o->is_mime = true;
	else if (strcasecmp(t, "global") == 0)
		o->global = true;
	else if (strcasecmp(t, "once") == 0)
		o->once = true;
	else if (strcasecmp(t, "optional") == 0)
		o->optional = true;
	else if (strcasecmp(t, "percent") == 0)
		o->percent = true;
	else if (strcasecmp(t, "over") == 0)
		o->over = true;
	else if (strcasecmp(t, "under") == 0)
		o->under = true;
	for (int i = 0; i < 6; i++) {
		if (strcasecmp(t, mods[i]) == 0)
			o->modifiers |= 1u << i;
	}
}

/* A tag with its argument a. */
static int tag_with_arg(struct vctx *v, struct sieve_node *n, const char *t, struct sieve_arg *a)
{
	struct sieve_opts *o = &n->o;

	if (strcasecmp(t, "comparator") == 0)
		return set_comparator(v, n, a);
	if (strcasecmp(t, "value") == 0 || strcasecmp(t, "count") == 0) {
		o->match = t[0] == 'v' || t[0] == 'V' ? SIEVE_MATCH_VALUE : SIEVE_MATCH_COUNT;
		return set_relop(v, n, a);
	}
	if (strcasecmp(t, "index") == 0) {
		if (a->number == 0 || a->number > 100000)
			return arg_error(v, a, "%s: index must be 1 or more", ":index");
		o->index = (unsigned)a->number;
	} else if (strcasecmp(t, "flags") == 0) {
		o->flags = a;
	} else if (strcasecmp(t, "content") == 0) {
		o->transform = SIEVE_BODY_CONTENT;
		o->content_types = a;
	} else if (strcasecmp(t, "zone") == 0) {
		o->zone = a;
		return set_zone(v, a);
	} else if (strcasecmp(t, "days") == 0 || strcasecmp(t, "seconds") == 0) {
		if ((t[0] == 's' || t[0] == 'S') && n->id == SIEVE_CMD_VACATION &&
		    !has_ext(v, SIEVE_EXT_VACATION_SECONDS))
			return arg_error(v, a, "%s requires \"vacation-seconds\"", ":seconds");
		o->has_seconds = t[0] == 's' || t[0] == 'S';
		o->seconds = a->number;
		o->days = a;
	} else if (strcasecmp(t, "subject") == 0) {
		o->subject = a;
	} else if (strcasecmp(t, "from") == 0) {
		o->from = a;
	} else if (strcasecmp(t, "addresses") == 0) {
		o->addresses = a;
	} else if (strcasecmp(t, "handle") == 0) {
		o->handle = a;
	} else if (strcasecmp(t, "header") == 0) {
		o->header_arg = a;
	} else if (strcasecmp(t, "uniqueid") == 0) {
		o->uniqueid = a;
	}
	return 0;
}

static bool arg_fits(const struct sieve_arg *a, char want)
{
	if (want == 'n')
		return a->type == SIEVE_ARG_NUMBER;
	if (want == 's')
		return a->type == SIEVE_ARG_STRINGS && !a->is_list && a->sl.count == 1;
	return a->type == SIEVE_ARG_STRINGS;
}

static const char *type_name(char want)
{
	return want == 'n' ? "a number" : want == 's' ? "a string" : "a string list";
}

static int check_tag(struct vctx *v, struct sieve_node *n, const struct cmd_spec *sp, size_t *i)
{
	struct sieve_arg *a = &n->args[*i];
	const struct tag_spec *ts = find_tag(a->tag, sp->groups);

	if (ts == NULL)
		return sieve_error_set(v->err, a->line, a->column, "unknown tag ':%s' for %s",
		                       a->tag, sp->name);
	if (!has_ext(v, ts->ext))
		return sieve_error_set(v->err, a->line, a->column, "tag ':%s' requires \"%s\"",
		                       a->tag, sieve_ext_name((enum sieve_ext)ts->ext));
	if (ts->arg == 0) {
		tag_simple(n, a->tag);
		return 0;
	}
	if (*i + 1 >= n->nargs || !arg_fits(&n->args[*i + 1], ts->arg))
		return sieve_error_set(v->err, a->line, a->column, "tag ':%s' needs %s", a->tag,
		                       type_name(ts->arg));
	(*i)++;
	return tag_with_arg(v, n, a->tag, &n->args[*i]);
}

static int check_args(struct vctx *v, struct sieve_node *n, const struct cmd_spec *sp)
{
	size_t maxpos = strlen(sp->pos);

	for (size_t i = 0; i < n->nargs; i++) {
		struct sieve_arg *a = &n->args[i];
		if (a->type == SIEVE_ARG_TAG) {
			if (n->o.npos > 0)
				return arg_error(v, a, "tag ':%s' after positional arguments",
				                 a->tag);
			if (check_tag(v, n, sp, &i) < 0)
				return -1;
			continue;
		}
		if (n->o.npos >= maxpos)
			return arg_error(v, a, "too many arguments for %s", sp->name);
		n->o.pos[n->o.npos++] = a;
	}
	if (n->o.npos < sp->minpos)
		return sieve_error_set(v->err, n->line, n->column, "%s needs %u argument%s",
		                       sp->name, sp->minpos, sp->minpos > 1 ? "s" : "");
	/* with an optional leading variable name (setflag, hasflag) the types
	   line up from the end; otherwise from the start */
	size_t shift = 0;
	if ((sp->id == SIEVE_CMD_SETFLAG || sp->id == SIEVE_CMD_ADDFLAG ||
	     sp->id == SIEVE_CMD_REMOVEFLAG || sp->id == SIEVE_TEST_HASFLAG) &&
	    n->o.npos == 1)
		shift = 1;
	for (size_t i = 0; i < n->o.npos; i++) {
		char want = sp->pos[i + shift];
		if (!arg_fits(n->o.pos[i], want))
			return sieve_error_set(v->err, n->o.pos[i]->line, n->o.pos[i]->column,
			                       "argument %zu of %s must be %s", i + 1, sp->name,
			                       type_name(want));
	}
	return 0;
}

static bool valid_var_name(const char *s)
{
	/* names up to 32 characters must work (RFC 5229 section 3); longer
	   than the expander reads is refused */
	if (strlen(s) > 100)
		return false;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (const char *p = s; *p; p++) {
		if (!(*p == '_' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	}
	return true;
}

/* Compile the constant keys of a :regex match once, here, so runs
   only execute them (a key with variables is compiled at run time). The
   last positional argument is the key list. */
static int check_regex(struct vctx *v, struct sieve_node *n)
{
	struct sieve_arg *a = n->o.pos[n->o.npos - 1];
	int flags = REG_EXTENDED | (n->o.cmp == SIEVE_CMP_CASEMAP ? REG_ICASE : 0);

	if (n->id == SIEVE_CMD_DELETEHEADER && n->o.npos < 2)
		return 0;
	n->o.regexes = calloc(a->sl.count, sizeof(regex_t *));
	n->o.nregexes = a->sl.count;
	for (size_t k = 0; k < a->sl.count; k++) {
		if (has_ext(v, SIEVE_EXT_VARIABLES) && strstr(a->sl.items[k], "${"))
			continue;
		regex_t *re = malloc(sizeof(*re));
		if (re == NULL || regcomp(re, a->sl.items[k], flags) != 0) {
			free(re);
			return arg_error(v, a, "bad regular expression '%s'", a->sl.items[k]);
		}
		n->o.regexes[k] = re;
	}
	return 0;
}

static int check_specific(struct vctx *v, struct sieve_node *n)
{
	struct sieve_opts *o = &n->o;

	if (o->match == SIEVE_MATCH_REGEX && check_regex(v, n) < 0)
		return -1;
	if (o->last && o->index == 0 &&
	    (n->id == SIEVE_TEST_HEADER || n->id == SIEVE_TEST_ADDRESS ||
	     n->id == SIEVE_TEST_DATE || n->id == SIEVE_CMD_DELETEHEADER))
		return sieve_error_set(v->err, n->line, n->column,
		                       ":last needs :index (RFC 5260 section 6)");
	if (o->zone_original && n->id == SIEVE_TEST_CURRENTDATE)
		return sieve_error_set(v->err, n->line, n->column,
		                       "currentdate takes no :originalzone");
	switch (n->id) {
	case SIEVE_TEST_SIZE:
		if (o->over == o->under)
			return sieve_error_set(v->err, n->line, n->column,
			                       "size needs exactly one of :over and :under");
		break;
	case SIEVE_CMD_SET:
		if (!valid_var_name(o->pos[0]->sl.items[0]))
			return arg_error(v, o->pos[0], "bad variable name '%s'",
			                 o->pos[0]->sl.items[0]);
		break;
	case SIEVE_CMD_REDIRECT: {
		/* a constant address is checked now (RFC 5228 section 4.2) */
		const char *a = o->pos[0]->sl.items[0], *at = strrchr(a, '@');
		bool var = has_ext(v, SIEVE_EXT_VARIABLES) && strstr(a, "${") != NULL;
		if (!var && (at == NULL || at == a || at[1] == '\0' || strpbrk(a, " \t\r\n<>,")))
			return arg_error(v, o->pos[0], "bad redirect address '%s'", a);
		break;
	}
	case SIEVE_CMD_VACATION:
		if (o->days == NULL)
			o->seconds = 7;
		if (!o->has_seconds)
			o->seconds *= 86400;
		break;
	case SIEVE_TEST_DUPLICATE:
		if (o->header_arg && o->uniqueid)
			return sieve_error_set(
			    v->err, n->line, n->column,
			    "duplicate: :header and :uniqueid exclude each other");
		if (o->days == NULL)
			o->seconds = 7 * 86400;
		break;
	case SIEVE_CMD_ADDHEADER:
	case SIEVE_CMD_DELETEHEADER: {
		const char *name = o->pos[0]->sl.items[0];
		if (name[0] == '\0' || strpbrk(name, ": \t\r\n") != NULL)
			return arg_error(v, o->pos[0], "bad header name '%s'", name);
		break;
	}
	default:
		break;
	}
	return 0;
}

static int check_node(struct vctx *v, struct sieve_node *n, bool test);

static int check_children(struct vctx *v, struct sieve_node *n, const struct cmd_spec *sp)
{
	for (size_t i = 0; i < n->ntests; i++) {
		if (check_node(v, &n->tests[i], true) < 0)
			return -1;
	}
	if (sp->tests == '0' && n->ntests > 0)
		return sieve_error_set(v->err, n->tests[0].line, n->tests[0].column,
		                       "%s takes no test", sp->name);
	if (sp->tests == '1' && (n->ntests != 1 || n->tests_is_list))
		return sieve_error_set(v->err, n->line, n->column, "%s needs one test", sp->name);
	if (sp->tests == 'L' && !n->tests_is_list)
		return sieve_error_set(v->err, n->line, n->column, "%s needs a test list",
		                       sp->name);
	if (sp->block != n->has_block)
		return sieve_error_set(v->err, n->line, n->column,
		                       sp->block ? "%s needs a block" : "%s takes no block",
		                       sp->name);
	return 0;
}

static int check_block(struct vctx *v, struct sieve_node *cmds, size_t n, bool top);

static int check_node(struct vctx *v, struct sieve_node *n, bool test)
{
	const struct cmd_spec *sp = find_spec(n->name, test);

	if (sp == NULL)
		return sieve_error_set(v->err, n->line, n->column, "unknown %s '%s'",
		                       test ? "test" : "command", n->name);
	if (!has_ext(v, sp->ext))
		return sieve_error_set(v->err, n->line, n->column, "%s '%s' requires \"%s\"",
		                       test ? "test" : "command", n->name,
		                       sieve_ext_name((enum sieve_ext)sp->ext));
	n->id = sp->id;
	if (check_args(v, n, sp) < 0 || check_children(v, n, sp) < 0 || check_specific(v, n) < 0)
		return -1;
	return check_block(v, n->block, n->nblock, false);
}

static int do_require(struct vctx *v, struct sieve_node *n)
{
	const struct sieve_arg *a = n->o.pos[0];

	for (size_t i = 0; i < a->sl.count; i++) {
		int e = sieve_ext_lookup(a->sl.items[i]);
		if (e == SIEVE_EXT_TESTSUITE && !v->script->testsuite)
			e = -1;
		if (e < 0) {
			if (strcmp(a->sl.items[i], "comparator-i;octet") == 0 ||
			    strcmp(a->sl.items[i], "comparator-i;ascii-casemap") == 0)
				continue;
			return arg_error(v, a, "unknown extension \"%s\"", a->sl.items[i]);
		}
		v->script->exts |= 1u << e;
		/* spamtestplus implies spamtest (RFC 5235 section 3.2) */
		if (e == SIEVE_EXT_SPAMTESTPLUS)
			v->script->exts |= 1u << SIEVE_EXT_SPAMTEST;
	}
	return 0;
}

static int check_block(struct vctx *v, struct sieve_node *cmds, size_t n, bool top)
{
	bool past_require = false;
	int prev = -1;

	for (size_t i = 0; i < n; i++) {
		struct sieve_node *c = &cmds[i];
		if (check_node(v, c, false) < 0)
			return -1;
		if (c->id == SIEVE_CMD_REQUIRE) {
			/* RFC 5228 section 3.2: require only at the start */
			if (!top || past_require)
				return sieve_error_set(v->err, c->line, c->column,
				                       "require must come before other commands");
		} else {
			past_require = true;
		}
		if ((c->id == SIEVE_CMD_ELSIF || c->id == SIEVE_CMD_ELSE) && prev != SIEVE_CMD_IF &&
		    prev != SIEVE_CMD_ELSIF)
			return sieve_error_set(v->err, c->line, c->column, "%s without if",
			                       c->name);
		prev = c->id;
	}
	return 0;
}

/* First pass: the requires at the top, so later checks know the
   extensions. */
static int collect_requires(struct vctx *v)
{
	struct sieve_script *s = v->script;

	for (size_t i = 0; i < s->ncmds; i++) {
		struct sieve_node *c = &s->cmds[i];
		const struct cmd_spec *sp = find_spec(c->name, false);
		if (sp == NULL || sp->id != SIEVE_CMD_REQUIRE)
			break;
		c->id = sp->id;
		if (check_args(v, c, sp) < 0 || do_require(v, c) < 0)
			return -1;
	}
	return 0;
}

static int decode_nodes(struct vctx *v, struct sieve_node *nodes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct sieve_node *n = &nodes[i];
		for (size_t a = 0; a < n->nargs; a++) {
			for (size_t k = 0; k < n->args[a].sl.count; k++) {
				if (sieve_decode_encoded(&n->args[a].sl.items[k]) < 0)
					return sieve_error_set(v->err, n->args[a].line,
					                       n->args[a].column,
					                       "bad encoded character");
			}
		}
		if (decode_nodes(v, n->tests, n->ntests) < 0 ||
		    decode_nodes(v, n->block, n->nblock) < 0)
			return -1;
	}
	return 0;
}

int sieve_validate(struct sieve_script *script, struct sieve_error *err)
{
	struct vctx v = {.script = script, .err = err};

	if (collect_requires(&v) < 0)
		return -1;
	for (size_t i = 0; i < script->ncmds; i++)
		memset(&script->cmds[i].o, 0, sizeof(script->cmds[i].o));
	if ((script->exts & (1u << SIEVE_EXT_ENCODED)) &&
	    decode_nodes(&v, script->cmds, script->ncmds) < 0)
		return -1;
	return check_block(&v, script->cmds, script->ncmds, true);
}
