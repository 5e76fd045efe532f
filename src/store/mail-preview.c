/* PREVIEW text (RFC 8970): see mail-objects.h. */
#include <stdbool.h>
#include <string.h>

#include "mime/mime-text.h"
#include "store/mail-objects.h"

/* Text extracted for a preview: enough for 256 characters after quoted
   lines' and indentation's whitespace is collapsed (4 bytes a character
   at most, and room for the runs removed). */
#define PREVIEW_EXTRACT_MAX (16 * 1024)

static bool is_space_byte(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

void mail_preview_collapse(const char *text, size_t len, size_t max_chars, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t chars = 0;
	bool space = false;

	while (p < end) {
		size_t n = 1;

		/* U+00A0 (what &nbsp; becomes) is a space too */
		if (is_space_byte(*p) || (*p == 0xc2 && p + 1 < end && p[1] == 0xa0)) {
			p += *p == 0xc2 ? 2 : 1;
			space = chars > 0;
			continue;
		}
		while (p + n < end && (p[n] & 0xc0) == 0x80)
			n++;
		if (chars + (space ? 1 : 0) + 1 > max_chars)
			break;
		if (space) {
			buf_append_char(out, ' ');
			chars++;
			space = false;
		}
		buf_append(out, p, n);
		chars++;
		p += n;
	}
}

int mail_preview_make(const struct mime_part *root, const struct mime_source *src, struct buf *out,
                      const char **error_r)
{
	struct buf text = BUF_INIT;
	int ret = mime_text_extract(root, src, PREVIEW_EXTRACT_MAX, &text, error_r);

	if (ret >= 0)
		mail_preview_collapse(text.data != NULL ? (const char *)text.data : "", text.len,
		                      MAIL_PREVIEW_CHARS, out);
	buf_free(&text);
	return ret < 0 ? -1 : 0;
}
