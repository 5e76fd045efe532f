/* libFuzzer target: the SPF record parser and macro expansion
   (src/mailauth/spf-record.c, spf-macro.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expand_all(const struct spf_record *rec)
{
	static const uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct spf_macro_vars vars = {
	    .sender = "a-b+c@d.example.com",
	    .local_part = "a-b+c",
	    .sender_domain = "d.example.com",
	    .domain = "d.example.com",
	    .ip = ip,
	    .ipv6 = true,
	    .validated = "mx.example.com",
	    .helo = "helo.example.com",
	    .now = 1,
	};
	struct buf out = BUF_INIT;
	const char *error;

	for (size_t i = 0; i < rec->mechanisms.count; i++) {
		const char *spec = rec->mechanisms.items[i].domain_spec;
		if (spec != NULL)
			spf_macro_expand(spec, strlen(spec), &vars, false, &out, &error);
	}
	if (rec->exp != NULL)
		spf_macro_expand(rec->exp, strlen(rec->exp), &vars, true, &out, &error);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record *rec;
	const char *error;
	char *text = malloc(size + 7);

	/* Half the inputs get the version prefix so the parser goes deep. */
	size_t off = size > 0 && (data[0] & 1) ? 7 : 0;
	memcpy(text, "v=spf1 ", off);
	memcpy(text + off, data, size);
	if (spf_record_parse(text, size + off, &rec, &error) == 0) {
		expand_all(rec);
		spf_record_free(&rec);
	}
	free(text);
	return 0;
}
