#include "mime/mime-header.h"

#include <ctype.h>
#include <stdlib.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-rfc822.h"

/* A header value is at most the parser's per-field cap, but parameters are
   also counted so a value made of ";;;" cannot build a huge array. */
#define MAX_PARAMS 256

void mime_params_free(struct mime_param **params, size_t count)
{
	if (*params == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*params)[i].name);
		free((*params)[i].value);
	}
	free(*params);
	*params = NULL;
}

typedef ARRAY(struct mime_param) param_array;

static void param_add(param_array *params, struct buf *name, struct buf *value)
{
	/* names are case-insensitive (RFC 2045 section 5.1); IMAP servers send
	   them in lower case */
	for (size_t i = 0; i < name->len; i++)
		name->data[i] = (char)tolower((unsigned char)name->data[i]);
	array_append(params,
	             ((struct mime_param){.name = buf_steal(name), .value = buf_steal(value)}));
}

/* Skip to just past the next ';' (or to the end): resynchronise after a
   broken parameter. */
static void skip_to_semicolon(struct rfc822_reader *r)
{
	while (!rfc822_eof(r) && *r->p != ';') {
		if (*r->p == '"') {
			struct buf dummy = BUF_INIT;

			rfc822_read_quoted(r, &dummy);
			buf_free(&dummy);
		} else {
			r->p++;
		}
	}
}

/* An unquoted value. RFC 2045 wants a token, but mail in the wild has
   unquoted values with tspecials ("boundary==_x"); like most readers we take
   everything up to ';', whitespace or a comment. */
static int read_lenient_value(struct rfc822_reader *r, struct buf *out)
{
	const char *start = r->p;

	while (r->p < r->end && (unsigned char)*r->p > ' ' && *r->p != ';' && *r->p != '(' &&
	       *r->p != '"' && *r->p != 0x7f)
		r->p++;
	buf_append(out, start, (size_t)(r->p - start));
	return r->p > start ? 1 : 0;
}

/* One "; name=value"; returns 0 at the end of input. */
static int param_next(struct rfc822_reader *r, struct buf *name, struct buf *value)
{
	for (;;) {
		rfc822_skip_cfws(r, NULL);
		if (rfc822_eof(r))
			return 0;
		if (*r->p == ';') {
			r->p++;
			continue;
		}
		buf_clear(name);
		buf_clear(value);
		if (rfc822_read_token(r, name) == 0) {
			skip_to_semicolon(r);
			continue;
		}
		rfc822_skip_cfws(r, NULL);
		if (rfc822_eof(r) || *r->p != '=') {
			skip_to_semicolon(r);
			continue;
		}
		r->p++;
		rfc822_skip_cfws(r, NULL);
		if (rfc822_read_quoted(r, value) == 0 && read_lenient_value(r, value) == 0) {
			skip_to_semicolon(r);
			continue;
		}
		return 1;
	}
}

static void params_parse(struct rfc822_reader *r, struct mime_param **params_r, size_t *count_r)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	param_array params = ARRAY_INIT;

	while (params.count < MAX_PARAMS && param_next(r, &name, &value) > 0)
		param_add(&params, &name, &value);
	buf_free(&name);
	buf_free(&value);
	*params_r = array_steal(&params, count_r);
}

int mime_content_type_parse(const char *value, size_t len, char **type_r, char **subtype_r,
                            struct mime_param **params_r, size_t *count_r)
{
	struct rfc822_reader r;
	struct buf type = BUF_INIT, subtype = BUF_INIT;

	rfc822_reader_init(&r, value, len);
	rfc822_skip_cfws(&r, NULL);
	if (rfc822_read_token(&r, &type) == 0)
		goto invalid;
	rfc822_skip_cfws(&r, NULL);
	if (rfc822_eof(&r) || *r.p != '/')
		goto invalid;
	r.p++;
	rfc822_skip_cfws(&r, NULL);
	if (rfc822_read_token(&r, &subtype) == 0)
		goto invalid;
	rfc822_skip_cfws(&r, NULL);
	/* RFC 2045: parameters follow a ';'; anything else is junk */
	if (!rfc822_eof(&r) && *r.p != ';')
		goto invalid;
	params_parse(&r, params_r, count_r);
	*type_r = buf_steal(&type);
	*subtype_r = buf_steal(&subtype);
	return 0;
invalid:
	buf_free(&type);
	buf_free(&subtype);
	return -1;
}

int mime_disposition_parse(const char *value, size_t len, char **disp_r,
                           struct mime_param **params_r, size_t *count_r)
{
	struct rfc822_reader r;
	struct buf disp = BUF_INIT;

	rfc822_reader_init(&r, value, len);
	rfc822_skip_cfws(&r, NULL);
	if (rfc822_read_token(&r, &disp) == 0) {
		buf_free(&disp);
		return -1;
	}
	params_parse(&r, params_r, count_r);
	*disp_r = buf_steal(&disp);
	return 0;
}
