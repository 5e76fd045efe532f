/* libFuzzer target: the Authentication-Results parser
   (src/mailauth/auth-results.c), and the writer on what it read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/auth-results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write what was parsed back out: the writer must quote anything. */
static void rewrite(const struct auth_results *ar)
{
	struct buf out = BUF_INIT;
	struct auth_results_writer w;

	auth_results_writer_init(&w, &out, ar->authserv_id, true);
	for (size_t i = 0; i < ar->entries.count; i++) {
		const struct auth_results_entry *e = &ar->entries.items[i];
		const char *v = e->prop_count > 0 ? e->props[0].value : NULL;

		auth_results_add(&w, e->method, e->result, e->reason, "x.y", v, NULL);
	}
	auth_results_writer_finish(&w);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct auth_results *ar = NULL;
	const char *error;

	memcpy(text, data, size);
	text[size] = '\0';
	if (auth_results_parse(text, size, &ar, &error) == 0) {
		rewrite(ar);
		auth_results_free(&ar);
	}
	auth_results_claims(text, size, "mx.example.org");
	free(text);
	return 0;
}
