#include "auth/sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/base64.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"

/* Decode one 4-character group into v; '=' counts as zero bits (only the
   pad positions reach here as '='). */
static int b64_group(const char *in, size_t data_chars, uint32_t *v_r)
{
	uint32_t v = 0;

	for (size_t j = 0; j < 4; j++) {
		int d = j < data_chars ? base64_value((unsigned char)in[j]) : 0;

		if (d < 0)
			return -1;
		v = (v << 6) | (uint32_t)d;
	}
	*v_r = v;
	return 0;
}

int sasl_base64_decode(const char *in, size_t len, size_t max_out, unsigned char **out_r,
                       size_t *out_len_r, const char **error_r)
{
	size_t pad = 0, out_len, o = 0;
	unsigned char *out;
	uint32_t v = 0;

	if (len % 4 != 0) {
		*error_r = "invalid base64 (length not a multiple of 4)";
		return -1;
	}
	if (len > 0 && in[len - 1] == '=')
		pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
	out_len = len / 4 * 3 - pad;
	if (out_len > max_out) {
		*error_r = "response too long";
		return -1;
	}
	out = xmalloc(out_len + 1);
	for (size_t i = 0; i < len; i += 4) {
		size_t data_chars = i + 4 == len ? 4 - pad : 4;

		if (b64_group(in + i, data_chars, &v) < 0) {
			sasl_bytes_free(&out, out_len);
			*error_r = "invalid base64 character";
			return -1;
		}
		for (size_t j = 0; j < 3 && o < out_len; j++)
			out[o++] = (unsigned char)(v >> (16 - 8 * j));
	}
	/* RFC 4648 section 3.5: the bits under the padding must be zero, so
	   each value has exactly one encoding. */
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) {
		sasl_bytes_free(&out, out_len);
		*error_r = "invalid base64 (non-zero padding bits)";
		return -1;
	}
	out[out_len] = '\0';
	*out_r = out;
	*out_len_r = out_len;
	return 0;
}

char *sasl_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		for (size_t j = 0; j < 4; j++)
			out[o++] = j <= n ? base64_alphabet[(v >> (18 - 6 * j)) & 0x3f] : '=';
	}
	out[o] = '\0';
	return out;
}

static int field_check(const unsigned char *data, size_t len, const char *name,
                       const char **error_r)
{
	if (len > SASL_FIELD_MAX) {
		*error_r = name;
		return -1;
	}
	if (memchr(data, '\0', len) != NULL) {
		*error_r = "NUL inside a SASL field";
		return -1;
	}
	if (!utf8_valid(data, len)) {
		*error_r = "SASL field is not valid UTF-8";
		return -1;
	}
	return 0;
}

int sasl_plain_parse(const unsigned char *data, size_t len, char **authzid_r, char **authcid_r,
                     char **password_r, const char **error_r)
{
	const unsigned char *nul1, *nul2, *authcid, *passwd;
	size_t zlen, clen, plen;

	if (len > SASL_PLAIN_MAX) {
		*error_r = "PLAIN message too long";
		return -1;
	}
	nul1 = memchr(data, '\0', len);
	nul2 = nul1 == NULL ? NULL : memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - data));
	if (nul2 == NULL) {
		*error_r = "malformed PLAIN message (expected authzid NUL authcid NUL passwd)";
		return -1;
	}
	authcid = nul1 + 1;
	passwd = nul2 + 1;
	zlen = (size_t)(nul1 - data);
	clen = (size_t)(nul2 - authcid);
	plen = len - (size_t)(passwd - data);
	if (clen == 0 || plen == 0) {
		*error_r = "empty PLAIN authentication identity or password";
		return -1;
	}
	if (field_check(data, zlen, "PLAIN authzid too long", error_r) < 0 ||
	    field_check(authcid, clen, "PLAIN authcid too long", error_r) < 0 ||
	    field_check(passwd, plen, "PLAIN password too long", error_r) < 0)
		return -1;
	*authzid_r = zlen == 0 ? NULL : xstrndup((const char *)data, zlen);
	*authcid_r = xstrndup((const char *)authcid, clen);
	*password_r = xstrndup((const char *)passwd, plen);
	return 0;
}

int sasl_login_field_parse(const unsigned char *data, size_t len, char **field_r,
                           const char **error_r)
{
	if (len == 0) {
		*error_r = "empty LOGIN response";
		return -1;
	}
	if (field_check(data, len, "LOGIN response too long", error_r) < 0)
		return -1;
	*field_r = xstrndup((const char *)data, len);
	return 0;
}

void sasl_secret_free(char **s)
{
	if (s == NULL || *s == NULL)
		return;
	sodium_memzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void sasl_bytes_free(unsigned char **data, size_t len)
{
	if (data == NULL || *data == NULL)
		return;
	sodium_memzero(*data, len);
	free(*data);
	*data = NULL;
}
