/* CONDSTORE / QRESYNC argument parsing (RFC 7162). */
#include "imap/imap-condstore.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/xalloc.h"

int imap_modseq_parse(const struct imap_arg *arg, uint64_t *modseq_r)
{
	const char *s = imap_arg_atom(arg);
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > IMAP_MODSEQ_MAX)
		return -1;
	*modseq_r = v;
	return 0;
}

static int parse_number32(const struct imap_arg *arg, uint32_t *n_r)
{
	uint64_t v;

	if (imap_modseq_parse(arg, &v) < 0 || v == 0 || v > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)v;
	return 0;
}

/* A sequence set into nums in the order given ("*" refused: RFC 7162
   seq-match-data takes known numbers). Returns the count, or -1. */
static int set_to_list(const char *s, uint32_t **nums_r, size_t *count_r)
{
	ARRAY(uint32_t) nums = ARRAY_INIT;
	const char *p = s;

	while (*p != '\0') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi;

		if (end == p || lo == 0 || lo > UINT32_MAX || *p == '-' || *p == '+')
			goto fail;
		hi = lo;
		p = end;
		if (*p == ':') {
			hi = strtoul(++p, &end, 10);
			if (end == p || hi == 0 || hi > UINT32_MAX || *p == '-' || *p == '+')
				goto fail;
			p = end;
		}
		if ((lo < hi ? hi - lo : lo - hi) + nums.count >= IMAP_SEQSET_MAX_RANGES)
			goto fail;
		if (lo <= hi) {
			for (unsigned long n = lo; n <= hi; n++)
				array_append(&nums, (uint32_t)n);
		} else {
			for (unsigned long n = lo; n >= hi; n--)
				array_append(&nums, (uint32_t)n);
		}
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			goto fail;
	}
	*nums_r = array_steal(&nums, count_r);
	return 0;
fail:
	array_free(&nums);
	return -1;
}

/* (seq-set uid-set): as many sequence numbers as UIDs. */
static int parse_seq_match(const struct imap_arg *arg, struct imap_select_params *p)
{
	const char *seqs, *uids;
	size_t nseq = 0, nuid = 0;

	if (arg->type != IMAP_ARG_LIST || arg->count != 2)
		return -1;
	seqs = imap_arg_atom(&arg->list[0]);
	uids = imap_arg_atom(&arg->list[1]);
	if (seqs == NULL || uids == NULL || set_to_list(seqs, &p->match_seqs, &nseq) < 0)
		return -1;
	if (set_to_list(uids, &p->match_uids, &nuid) < 0 || nseq != nuid)
		return -1;
	p->match_count = nseq;
	return 0;
}

/* QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]) */
static int parse_qresync(const struct imap_arg *arg, struct imap_select_params *p)
{
	const char *error;

	if (arg->type != IMAP_ARG_LIST || arg->count < 2 || arg->count > 4)
		return -1;
	if (parse_number32(&arg->list[0], &p->uidvalidity) < 0 ||
	    imap_modseq_parse(&arg->list[1], &p->modseq) < 0 || p->modseq == 0)
		return -1;
	if (arg->count >= 3) {
		const char *known = imap_arg_atom(&arg->list[2]);

		if (arg->list[2].type == IMAP_ARG_LIST && arg->count == 3)
			return parse_seq_match(&arg->list[2], p);
		if (known == NULL || strchr(known, '*') != NULL ||
		    imap_seqset_parse(known, UINT32_MAX, &p->known_uids, &error) < 0)
			return -1;
	}
	if (arg->count == 4)
		return parse_seq_match(&arg->list[3], p);
	return 0;
}

int imap_select_params_parse(const struct imap_arg *args, size_t count,
                             struct imap_select_params *p, const char **error_r)
{
	const struct imap_arg *list;

	*p = (struct imap_select_params){0};
	if (count == 0)
		return 0;
	if (count != 1 || args[0].type != IMAP_ARG_LIST)
		goto bad;
	list = args[0].list;
	for (size_t i = 0; i < args[0].count; i++) {
		const char *name = imap_arg_atom(&list[i]);

		if (name != NULL && strcasecmp(name, "CONDSTORE") == 0 && !p->condstore) {
			p->condstore = true;
		} else if (name != NULL && strcasecmp(name, "QRESYNC") == 0 && !p->qresync &&
		           i + 1 < args[0].count) {
			p->qresync = true;
			if (parse_qresync(&list[++i], p) < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	imap_select_params_free(p);
	*error_r = "Invalid SELECT parameters.";
	return -1;
}

void imap_select_params_free(struct imap_select_params *p)
{
	imap_seqset_free(&p->known_uids);
	free(p->match_seqs);
	free(p->match_uids);
	*p = (struct imap_select_params){0};
}

int imap_fetch_mods_parse(const struct imap_arg *arg, uint64_t *changedsince_r, bool *vanished_r,
                          const char **error_r)
{
	bool changed = false;

	*changedsince_r = 0;
	*vanished_r = false;
	if (arg == NULL)
		return 0;
	if (arg->type != IMAP_ARG_LIST || arg->count == 0)
		goto bad;
	for (size_t i = 0; i < arg->count; i++) {
		const char *name = imap_arg_atom(&arg->list[i]);

		if (name != NULL && strcasecmp(name, "CHANGEDSINCE") == 0 && !changed &&
		    i + 1 < arg->count) {
			if (imap_modseq_parse(&arg->list[++i], changedsince_r) < 0 ||
			    *changedsince_r == 0)
				goto bad;
			changed = true;
		} else if (name != NULL && strcasecmp(name, "VANISHED") == 0 && !*vanished_r) {
			*vanished_r = true;
		} else {
			goto bad;
		}
	}
	/* RFC 7162 3.2.6: VANISHED only with CHANGEDSINCE */
	if (*vanished_r && !changed)
		goto bad;
	return 0;
bad:
	*error_r = "Invalid FETCH modifiers.";
	return -1;
}

int imap_store_mods_parse(const struct imap_arg *arg, uint64_t *unchangedsince_r, bool *present_r,
                          const char **error_r)
{
	const char *name;

	*unchangedsince_r = 0;
	*present_r = false;
	if (arg->type != IMAP_ARG_LIST || arg->count != 2)
		goto bad;
	name = imap_arg_atom(&arg->list[0]);
	if (name == NULL || strcasecmp(name, "UNCHANGEDSINCE") != 0 ||
	    imap_modseq_parse(&arg->list[1], unchangedsince_r) < 0)
		goto bad;
	*present_r = true;
	return 0;
bad:
	*error_r = "Invalid STORE modifiers.";
	return -1;
}
