/* libFuzzer target: the DKIM-Signature parser and the tag-list parser
   under it (src/mailauth/dkim-record.c, tag-list.c), the key record
   parser, and the verifier's header collection and canonicalization on a
   whole message whose key lookups all fail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/dkim-verify.h"
#include "mailauth/dkim.h"
#include "mailauth/tag-list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_message(const uint8_t *data, size_t size)
{
	struct dkim_verifier *v = dkim_verifier_new(1700000000);
	struct dns_answer *answer = dns_answer_new(DNS_STATUS_NXDOMAIN);
	size_t half = size / 2;
	const char *error, *name;

	/* two chunks, so chunk boundaries are exercised too */
	dkim_verifier_feed(v, data, half, &error);
	dkim_verifier_feed(v, data + half, size - half, &error);
	dkim_verifier_finish(v);
	while (dkim_verifier_run(v, &name) == 1)
		dkim_verifier_answer(v, name, answer);
	for (size_t i = 0; i < dkim_verifier_count(v); i++)
		(void)dkim_verifier_verdict(v, i)->result;
	dkim_verifier_summary(v, &error);
	dns_answer_free(&answer);
	dkim_verifier_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_signature *sig;
	struct dkim_key *key;
	struct tag_list list;
	const char *error;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (dkim_signature_parse((const char *)data + 1, size - 1, &sig, &error) == 0)
			dkim_signature_free(&sig);
		if (tag_list_parse((const char *)data + 1, size - 1, &list, &error) == 0)
			(void)tag_list_get(&list, "b");
		tag_list_free(&list);
		break;
	case 1:
		if (dkim_key_parse((const char *)data + 1, size - 1, &key, &error) == 0)
			dkim_key_free(&key);
		break;
	default:
		fuzz_message(data + 1, size - 1);
		break;
	}
	return 0;
}
