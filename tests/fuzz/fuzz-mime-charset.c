/* libFuzzer target for charset conversion, RFC 2047 and RFC 2231. The
   first line of the input is a charset name, the rest the data. Chunked
   conversion must equal whole conversion; every output must be valid
   UTF-8 (a UTF-8 pass over it changes nothing) and within its cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/mime-charset.h"
#include "mime/mime-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void valid_utf8(const struct buf *b)
{
	struct buf again = BUF_INIT;

	if (mime_charset_to_utf8("utf-8", b->data, b->len, &again) != 0 || again.len != b->len ||
	    (b->len > 0 && memcmp(again.data, b->data, b->len) != 0))
		abort();
	buf_free(&again);
}

static void convert(const char *charset, const uint8_t *in, size_t len)
{
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	struct mime_charset_conv *conv = mime_charset_conv_new(charset);
	size_t chunk = len % 7 + 1;

	(void)mime_charset_to_utf8(charset, in, len, &whole);
	for (size_t off = 0; off < len; off += chunk)
		mime_charset_conv_feed(conv, in + off, len - off < chunk ? len - off : chunk,
		                       &parts);
	mime_charset_conv_finish(conv, &parts);
	if (whole.len != parts.len || (whole.len > 0 && memcmp(whole.data, parts.data, whole.len)))
		abort();
	valid_utf8(&whole);
	mime_charset_conv_free(&conv);
	buf_free(&whole);
	buf_free(&parts);
}

static void header(const uint8_t *in, size_t len)
{
	struct buf out = BUF_INIT;

	(void)mime_header_decode((const char *)in, len, 1000, &out);
	if (out.len > 1000)
		abort();
	valid_utf8(&out);
	buf_free(&out);
}

static void params(const uint8_t *in, size_t len)
{
	char *type, *subtype;
	struct mime_param *p, *d;
	size_t n, dn;

	if (mime_content_type_parse((const char *)in, len, &type, &subtype, &p, &n) < 0)
		return;
	mime_params_decode(p, n, &d, &dn);
	for (size_t i = 0; i < dn; i++) {
		struct buf v = {d[i].value, strlen(d[i].value), 0};

		if (v.len > MIME_PARAM_MAX_VALUE)
			abort();
		valid_utf8(&v);
	}
	mime_params_free(&d, dn);
	mime_params_free(&p, n);
	free(type);
	free(subtype);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl == NULL ? 0 : (size_t)(nl - data);
	const uint8_t *rest = nl == NULL ? data : nl + 1;
	size_t rest_len = size - (size_t)(rest - data);
	char name[80];

	if (name_len < sizeof(name)) {
		memcpy(name, data, name_len);
		name[name_len] = '\0';
		convert(name_len > 0 ? name : NULL, rest, rest_len);
	}
	header(data, size);
	params(data, size);
	return 0;
}
