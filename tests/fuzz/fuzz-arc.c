/* libFuzzer target: ARC (src/mailauth/arc*.c). The first byte picks the
   part: the AMS / AS / AAR-prefix parsers on the rest, or a whole message
   through the verifier (key lookups answered with one Ed25519 key, so the
   crypto paths run) and then the sealer with the verifier's verdict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/arc-private.h"
#include "mailauth/arc.h"
#include "mailauth/dkim-keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;
static struct dns_answer *key_answer;

static void init(void)
{
	const char *error;
	struct dns_rr rr = {.type = DNS_TYPE_TXT};

	if (key != NULL)
		return;
	if (dkim_key_generate(DKIM_KEY_ED25519, 0, &key, &error) < 0)
		abort();
	rr.u.txt.data = dkim_key_txt_record(key);
	rr.u.txt.len = strlen(rr.u.txt.data);
	key_answer = dns_answer_new(DNS_STATUS_OK);
	dns_answer_add(key_answer, &rr);
	free(rr.u.txt.data);
}

static void fuzz_message(const uint8_t *data, size_t size, bool with_key)
{
	struct arc_verifier *v = arc_verifier_new(0);
	struct dns_answer *none = dns_answer_new(DNS_STATUS_NXDOMAIN);
	struct arc_seal_params p = {.domain = "example.org",
	                            .selector = "s",
	                            .key = key,
	                            .authserv_id = "mx.example.org",
	                            .now = 1};
	struct arc_sealer *sealer;
	size_t half = size / 2;
	const char *error, *name;
	char *fields;

	/* two chunks, so chunk boundaries are exercised too */
	arc_verifier_feed(v, data, half, &error);
	arc_verifier_feed(v, data + half, size - half, &error);
	arc_verifier_finish(v);
	while (arc_verifier_run(v, &name) == 1)
		arc_verifier_answer(v, name, with_key ? key_answer : none);
	if (arc_sealer_new(&p, &sealer, &error) == 0) {
		arc_sealer_feed(sealer, data, size, &error);
		if (arc_sealer_finish(sealer, arc_verifier_result(v, &error),
		                      arc_verifier_next_instance(v), &fields, &error) == 1)
			free(fields);
		arc_sealer_free(&sealer);
	}
	dns_answer_free(&none);
	arc_verifier_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arc_sig *sig;
	const char *error;
	unsigned instance;

	if (size == 0)
		return 0;
	init();
	switch (data[0] % 4) {
	case 0:
		if (arc_ams_parse((const char *)data + 1, size - 1, &sig, &error) == 0)
			arc_sig_free(&sig);
		if (arc_seal_parse((const char *)data + 1, size - 1, &sig, &error) == 0)
			arc_sig_free(&sig);
		(void)arc_aar_instance((const char *)data + 1, size - 1, &instance);
		break;
	case 1:
		fuzz_message(data + 1, size - 1, false);
		break;
	default:
		fuzz_message(data + 1, size - 1, true);
		break;
	}
	return 0;
}
