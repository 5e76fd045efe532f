#include "lib/utf8.h"

/* The length of the UTF-8 sequence starting with lead byte c, with the
   allowed range of the second byte (RFC 3629 section 4), or 0 if c cannot
   start a sequence. */
static size_t utf8_seq(unsigned char c, unsigned char *lo_r, unsigned char *hi_r)
{
	*lo_r = 0x80;
	*hi_r = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			*lo_r = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			*hi_r = 0x9f; /* no surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			*lo_r = 0x90;
		else if (c == 0xf4)
			*hi_r = 0x8f; /* nothing above U+10FFFF */
		return 4;
	}
	return 0;
}

bool utf8_valid(const unsigned char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char lo, hi;
		size_t n;

		if (data[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(data[i], &lo, &hi);
		if (n == 0 || len - i < n || data[i + 1] < lo || data[i + 1] > hi)
			return false;
		for (size_t j = 2; j < n; j++) {
			if (data[i + j] < 0x80 || data[i + j] > 0xbf)
				return false;
		}
		i += n;
	}
	return true;
}
