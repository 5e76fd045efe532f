/* Extended LIST and CREATE-SPECIAL-USE arguments (imap-list-ext.h). */
#include <string.h>
#include <strings.h>

#include "imap/imap-list-ext.h"
#include "lib/buf.h"

static const struct {
	const char *name;
	unsigned bit;
} special_attrs[] = {
    {"\\All", IMAP_SPECIAL_ALL},       {"\\Archive", IMAP_SPECIAL_ARCHIVE},
    {"\\Drafts", IMAP_SPECIAL_DRAFTS}, {"\\Flagged", IMAP_SPECIAL_FLAGGED},
    {"\\Junk", IMAP_SPECIAL_JUNK},     {"\\Sent", IMAP_SPECIAL_SENT},
    {"\\Trash", IMAP_SPECIAL_TRASH},
};
#define SPECIAL_COUNT (sizeof(special_attrs) / sizeof(special_attrs[0]))

unsigned imap_special_use_bit(const char *name)
{
	for (size_t i = 0; i < SPECIAL_COUNT; i++) {
		if (strcasecmp(name, special_attrs[i].name) == 0)
			return special_attrs[i].bit;
	}
	return 0;
}

void imap_special_use_append(struct buf *out, unsigned mask)
{
	for (size_t i = 0; i < SPECIAL_COUNT; i++) {
		if (mask & special_attrs[i].bit) {
			buf_append_char(out, ' ');
			buf_append_str(out, special_attrs[i].name);
		}
	}
}

static int selection_parse(const struct imap_arg *list, struct imap_list_params *p,
                           const char **error_r)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *opt = imap_arg_atom(&list->list[i]);

		if (opt == NULL)
			goto bad;
		if (strcasecmp(opt, "SUBSCRIBED") == 0)
			p->sel_subscribed = p->ret_subscribed = true;
		else if (strcasecmp(opt, "REMOTE") == 0)
			p->sel_remote = true;
		else if (strcasecmp(opt, "RECURSIVEMATCH") == 0)
			p->sel_recursive = true;
		else if (strcasecmp(opt, "SPECIAL-USE") == 0)
			p->sel_special_use = true;
		else
			goto bad;
	}
	/* RFC 5258 3: RECURSIVEMATCH alone (or with REMOTE only) is BAD. */
	if (p->sel_recursive && !p->sel_subscribed && !p->sel_special_use) {
		*error_r = "RECURSIVEMATCH needs another selection option";
		return -1;
	}
	return 0;
bad:
	*error_r = "Unknown LIST selection option";
	return -1;
}

static int return_parse(const struct imap_arg *list, struct imap_list_params *p,
                        const char **error_r)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *opt = imap_arg_atom(&list->list[i]);

		if (opt == NULL)
			goto bad;
		if (strcasecmp(opt, "SUBSCRIBED") == 0) {
			p->ret_subscribed = true;
		} else if (strcasecmp(opt, "CHILDREN") == 0) {
			p->ret_children = true;
		} else if (strcasecmp(opt, "SPECIAL-USE") == 0) {
			p->ret_special_use = true;
		} else if (strcasecmp(opt, "STATUS") == 0 && i + 1 < list->count &&
		           list->list[i + 1].type == IMAP_ARG_LIST && list->list[i + 1].count > 0 &&
		           p->ret_status == NULL) {
			p->ret_status = &list->list[++i];
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	*error_r = "Invalid LIST return option";
	return -1;
}

static int patterns_parse(const struct imap_arg *arg, struct imap_list_params *p,
                          const char **error_r)
{
	*error_r = "Invalid mailbox pattern";
	if (arg->type != IMAP_ARG_LIST) {
		p->patterns[0] = imap_arg_astring(arg);
		p->pattern_count = 1;
		return p->patterns[0] == NULL ? -1 : 0;
	}
	p->extended = true;
	if (arg->count == 0 || arg->count > IMAP_LIST_MAX_PATTERNS)
		return -1;
	for (size_t i = 0; i < arg->count; i++) {
		if ((p->patterns[i] = imap_arg_astring(&arg->list[i])) == NULL)
			return -1;
	}
	p->pattern_count = arg->count;
	return 0;
}

int imap_list_params_parse(const struct imap_arg *args, size_t count, struct imap_list_params *p,
                           const char **error_r)
{
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	*error_r = "Invalid arguments";
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		p->extended = true;
		if (selection_parse(&args[i++], p, error_r) < 0)
			return -1;
	}
	if (i + 2 > count || (p->ref = imap_arg_astring(&args[i++])) == NULL)
		return -1;
	if (patterns_parse(&args[i++], p, error_r) < 0)
		return -1;
	if (i == count)
		return 0;
	const char *kw = imap_arg_atom(&args[i]);
	if (i + 2 != count || kw == NULL || strcasecmp(kw, "RETURN") != 0 ||
	    args[i + 1].type != IMAP_ARG_LIST) {
		*error_r = "Invalid arguments";
		return -1;
	}
	p->extended = true;
	return return_parse(&args[i + 1], p, error_r);
}

int imap_create_params_parse(const struct imap_arg *args, size_t count, unsigned *use_r,
                             const char **error_r)
{
	const struct imap_arg *params, *attrs;
	const char *kw;

	*use_r = 0;
	*error_r = "Invalid CREATE parameters";
	if (count == 0)
		return 0;
	params = &args[0];
	if (count != 1 || params->type != IMAP_ARG_LIST || params->count != 2 ||
	    (kw = imap_arg_atom(&params->list[0])) == NULL || strcasecmp(kw, "USE") != 0 ||
	    params->list[1].type != IMAP_ARG_LIST)
		return -1;
	attrs = &params->list[1];
	for (size_t i = 0; i < attrs->count; i++) {
		const char *a = imap_arg_atom(&attrs->list[i]);
		unsigned bit;

		if (a == NULL)
			return -1;
		bit = imap_special_use_bit(a);
		if ((bit & IMAP_SPECIAL_STORABLE) == 0) {
			*error_r = "Special-use attribute not supported";
			return IMAP_CREATE_USEATTR;
		}
		*use_r |= bit;
	}
	return 0;
}
