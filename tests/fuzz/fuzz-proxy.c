/* libFuzzer target: the PROXY protocol header parser (src/net/proxy.c). A
   DONE header's length never passes the input, and every prefix of a
   DONE input parses as NEED_MORE or the same result. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h;
	const char *error = NULL;
	enum proxy_status st = proxy_parse(data, size, &h, &error);

	if (st == PROXY_DONE && (h.length > size || h.length == 0))
		abort();
	if (st == PROXY_INVALID && error == NULL)
		abort();
	if (st == PROXY_DONE && proxy_parse(data, h.length, &h, &error) != PROXY_DONE)
		abort();
	return 0;
}
