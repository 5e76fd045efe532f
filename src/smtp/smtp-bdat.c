#include "smtp/smtp-bdat.h"

#include <string.h>
#include <strings.h>

int smtp_bdat_parse_args(const char *arg, uint64_t *size_r, bool *last_r)
{
	uint64_t v = 0;
	size_t n = 0;

	if (arg == NULL)
		return -1;
	while (arg[n] >= '0' && arg[n] <= '9') {
		uint64_t digit = (uint64_t)(arg[n] - '0');

		if (n >= SMTP_BDAT_SIZE_DIGITS_MAX || v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
		n++;
	}
	if (n == 0)
		return -1;
	if (arg[n] == '\0') {
		*last_r = false;
	} else if (arg[n] == ' ' && strcasecmp(arg + n + 1, "LAST") == 0) {
		*last_r = true;
	} else {
		return -1;
	}
	*size_r = v;
	return 0;
}

void smtp_bdat_init(struct smtp_bdat_reader *r, uint64_t max_size, bool binary)
{
	memset(r, 0, sizeof(*r));
	r->max_size = max_size;
	r->binary = binary;
}

void smtp_bdat_chunk(struct smtp_bdat_reader *r, uint64_t size)
{
	r->chunk_left = size;
}

bool smtp_bdat_chunk_absurd(const struct smtp_bdat_reader *r, uint64_t size)
{
	uint64_t cap;

	if (r->max_size == 0)
		return false;
	/* size + r->size > 2 * max_size, written so that nothing overflows */
	cap = r->max_size > UINT64_MAX / 2 ? UINT64_MAX : 2 * r->max_size;
	return size > cap - (r->size < cap ? r->size : cap);
}

/* CR/LF pairing across the octets p[0..n), carried over chunk borders. */
static void check_line_ends(struct smtp_bdat_reader *r, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !r->pending_cr)
			r->bare_lf = true;
		else if (p[i] != '\n' && r->pending_cr)
			r->bare_cr = true;
		r->pending_cr = p[i] == '\r';
	}
}

int smtp_bdat_feed(struct smtp_bdat_reader *r, const void *in, size_t len, size_t *consumed_r,
                   struct buf *out)
{
	const unsigned char *p = in;
	size_t n = r->chunk_left < len ? (size_t)r->chunk_left : len;
	uint64_t room = r->max_size == 0         ? UINT64_MAX
	                : r->size >= r->max_size ? 0
	                                         : r->max_size - r->size;

	if (!r->binary)
		check_line_ends(r, p, n);
	if (out != NULL && room > 0)
		buf_append(out, p, n < room ? n : (size_t)room);
	r->size += n;
	r->chunk_left -= n;
	*consumed_r = n;
	return r->chunk_left == 0 ? 1 : 0;
}

void smtp_bdat_finish(struct smtp_bdat_reader *r)
{
	if (!r->binary && r->pending_cr)
		r->bare_cr = true;
	r->pending_cr = false;
}

enum smtp_data_result smtp_bdat_result(const struct smtp_bdat_reader *r)
{
	if (r->max_size != 0 && r->size > r->max_size)
		return SMTP_DATA_TOO_BIG;
	if (r->bare_lf || r->bare_cr)
		return SMTP_DATA_BARE_LF;
	return SMTP_DATA_OK;
}
