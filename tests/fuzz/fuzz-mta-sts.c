/* libFuzzer target: the MTA-STS policy and TXT record parsers and MX
   pattern matching (src/queue/mta-sts.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/mta-sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_sts_policy *policy = NULL;
	const char *error;
	char id[MTA_STS_MAX_ID + 1];
	/* An exact-size copy, so a read past the end is caught. */
	char *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	(void)mta_sts_txt_parse(text, size, id);
	if (mta_sts_policy_parse(text, size, &policy, &error) == 0) {
		/* Match each pattern against each other one (as a host). */
		for (size_t i = 0; i < policy->mx.count; i++)
			(void)mta_sts_policy_allows_mx(policy, policy->mx.items[i]);
		mta_sts_policy_free(&policy);
	}
	/* The input's first line as a host against the input as a pattern. */
	char *nl = memchr(text, '\n', size);
	if (nl != NULL) {
		*nl = '\0';
		(void)mta_sts_pattern_match(text, nl + 1);
	}
	free(text);
	return 0;
}
