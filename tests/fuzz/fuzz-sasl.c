/* Fuzz the SASL helpers: the input is taken as a base64 client response,
   decoded and parsed as PLAIN and as a LOGIN field; the raw bytes are also
   parsed directly, so both the decoder and the parsers see arbitrary data. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_all(const unsigned char *msg, size_t len)
{
	char *z = NULL, *c = NULL, *p = NULL, *field = NULL;
	const char *error;

	if (sasl_plain_parse(msg, len, &z, &c, &p, &error) == 0) {
		/* every field is a NUL-free string of at most 255 bytes */
		if (strlen(c) == 0 || strlen(c) > SASL_FIELD_MAX || strlen(p) == 0 ||
		    strlen(p) > SASL_FIELD_MAX || (z != NULL && strlen(z) > SASL_FIELD_MAX))
			abort();
	}
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);
	if (sasl_login_field_parse(msg, len, &field, &error) == 0 && strlen(field) != len)
		abort();
	sasl_secret_free(&field);
	(void)utf8_valid(msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *decoded;
	size_t len;
	const char *error;

	parse_all(data, size);
	if (sasl_base64_decode((const char *)data, size, SASL_PLAIN_MAX, &decoded, &len, &error) ==
	    0) {
		char *enc = sasl_base64_encode(decoded, len);

		/* strict decoding means one encoding per value */
		if (strlen(enc) != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		parse_all(decoded, len);
		sasl_bytes_free(&decoded, len);
	}
	return 0;
}
