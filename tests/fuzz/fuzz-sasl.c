/* Fuzz the SASL helpers and the server mechanisms. The input is taken as a
   base64 client response, decoded and parsed as PLAIN and as a LOGIN field;
   the raw bytes are also parsed directly. Then the mechanisms: the first
   byte picks the mechanism, the channel binding and the answers to the
   password check and key lookup; the rest, split at '\n', is the client's
   responses in turn (decoded already), so every state sees any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl-server.h"
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

/* Keys of "pencil" with a fixed salt, derived once (4096 iterations would
   slow every run). */
static const struct scram_keys *fuzz_keys(void)
{
	static struct scram_keys keys;
	static int done;
	const char *error;

	if (!done) {
		if (scram_keys_derive("pencil", 6, (const unsigned char *)"saltsaltsaltsalt", 16,
		                      4096, &keys, &error) < 0)
			abort();
		done = 1;
	}
	return &keys;
}

static void run_mechanism(const uint8_t *data, size_t size)
{
	static const struct sasl_channel_binding tls = {
	    .tls = true,
	    .has_exporter = true,
	    .exporter = "0123456789abcdef0123456789abcdef",
	    .end_point_len = 32,
	    .end_point = "ENDPOINTENDPOINTENDPOINTENDPOINT",
	};
	struct sasl_server *s;
	struct sasl_result r;
	size_t pos = 1, steps = 0;
	uint8_t ctl;

	if (size == 0)
		return;
	ctl = data[0];
	s = sasl_server_new((enum sasl_mech)(ctl % SASL_MECH_COUNT), (ctl & 4) ? &tls : NULL);
	sasl_server_set_nonce(s, "fuzznonce");
	if (ctl & 8)
		sasl_server_start(s, &r);
	while (pos <= size && steps++ < 16) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = (nl != NULL ? (size_t)(nl - data) : size) - pos;

		sasl_server_step(s, data + pos, len, &r);
		if (r.status == SASL_STATUS_NEED_PASSWORD) {
			if (r.user == NULL || r.password == NULL)
				abort();
			sasl_server_password_checked(s, (ctl & 16) != 0, &r);
		} else if (r.status == SASL_STATUS_NEED_KEYS) {
			sasl_server_keys(s, (ctl & 32) ? fuzz_keys() : NULL, &r);
		}
		/* a success needs the right proof: only with keys; never
		   without them */
		if (r.status == SASL_STATUS_DONE &&
		    ctl % SASL_MECH_COUNT >= SASL_MECH_SCRAM_SHA_256 && (ctl & 32) == 0)
			abort();
		if (r.status == SASL_STATUS_FAILED || r.status == SASL_STATUS_DONE)
			break;
		pos += len + 1;
	}
	sasl_server_free(&s);
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
	run_mechanism(data, size);
	return 0;
}
