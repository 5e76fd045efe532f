#include "lib/size.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char units[] = "KMGT";

int size_parse(const char *s, uint64_t *size_r)
{
	const char *unit;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0') {
		/* & ~0x20 upper-cases an ASCII letter; '\0' is not a unit */
		unit = strchr(units, *s & ~0x20);
		if (unit == NULL || *unit == '\0' || s[1] != '\0')
			return -1;
		for (const char *u = units; u <= unit; u++) {
			if (n > UINT64_MAX / 1024)
				return -1;
			n *= 1024;
		}
	}
	*size_r = n;
	return 0;
}

char *size_format(uint64_t size, char *buf)
{
	int unit = -1;

	while (size != 0 && unit < 3 && size % 1024 == 0) {
		size /= 1024;
		unit++;
	}
	if (unit < 0)
		snprintf(buf, SIZE_STR_MAX, "%" PRIu64, size);
	else
		snprintf(buf, SIZE_STR_MAX, "%" PRIu64 "%c", size, units[unit]);
	return buf;
}
