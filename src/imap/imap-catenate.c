/* CATENATE URL parts (imap-catenate.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-catenate.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime-section.h"
#include "store/delivery.h"
#include "store/mail-msg.h"
#include "store/mailbox.h"

#define URL_CHUNK (64 * 1024)

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decode [p, end): a malloc'ed string, or NULL for a bad escape or an
   encoded NUL. */
static char *pct_decode(const char *p, const char *end)
{
	char *out = xmalloc(end - p + 1), *o = out;

	while (p < end) {
		if (*p != '%') {
			*o++ = *p++;
			continue;
		}
		int hi = p + 2 < end ? hexval(p[1]) : -1;
		int lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		p += 3;
	}
	*o = '\0';
	return out;
}

/* A number of 1..UINT32_MAX at *p (advanced past it). */
static int nz_number(const char **p, uint32_t *n_r)
{
	char *end;
	unsigned long long v;

	if (**p < '1' || **p > '9')
		return -1;
	v = strtoull(*p, &end, 10);
	if (v > UINT32_MAX || end - *p > 10)
		return -1;
	*n_r = (uint32_t)v;
	*p = end;
	return 0;
}

int imap_url_parse(const char *url, struct imap_url *u)
{
	const char *p, *mb_end, *uid;

	memset(u, 0, sizeof(*u));
	if (url[0] != '/' || url[1] == '/' || (uid = strcasestr(url, "/;UID=")) == NULL ||
	    uid <= url + 1)
		return -1;
	mb_end = uid;
	p = memchr(url, ';', uid - url);
	if (p != NULL) {
		/* ";UIDVALIDITY=n" right before "/;UID=" */
		const char *v = p + strlen(";UIDVALIDITY=");
		if (strncasecmp(p, ";UIDVALIDITY=", 13) != 0 ||
		    nz_number(&v, &u->uidvalidity) < 0 || v != uid)
			return -1;
		mb_end = p;
	}
	if (mb_end <= url + 1 || (u->mailbox = pct_decode(url + 1, mb_end)) == NULL)
		goto bad;
	p = uid + strlen("/;UID=");
	if (nz_number(&p, &u->uid) < 0)
		goto bad;
	if (*p == '\0')
		return 0;
	if (strncasecmp(p, "/;SECTION=", 10) != 0 || p[10] == '\0' || strchr(p + 10, ';') != NULL ||
	    strchr(p + 10, '/') != NULL)
		goto bad;
	if ((u->section = pct_decode(p + 10, p + strlen(p))) == NULL)
		goto bad;
	return 0;
bad:
	imap_url_free(u);
	return -1;
}

void imap_url_free(struct imap_url *u)
{
	free(u->mailbox);
	free(u->section);
	memset(u, 0, sizeof(*u));
}

/* The view's sequence number of uid, or 0 (views are in UID order). */
static uint32_t seq_of_uid(struct mailbox *box, uint32_t uid)
{
	uint32_t lo = 1, hi = mailbox_count(box);

	while (lo <= hi) {
		uint32_t mid = lo + (hi - lo) / 2, m = mailbox_msg(box, mid)->uid;

		if (m == uid)
			return mid;
		if (m < uid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

/* The section's extents in the message, then their bytes into d. */
static int write_section(struct mail_msg_reader *r, const char *spec, struct delivery *d,
                         const char **error_r)
{
	struct mime_section *sec;
	const struct mime_part *tree;
	struct mime_extent *ext = NULL;
	struct mime_source src = mail_msg_source(r);
	size_t count;
	uint64_t size;
	struct buf b = BUF_INIT;
	int ret = -1;

	if (mime_section_parse(spec, strlen(spec), &sec, error_r) < 0)
		return -1;
	if (mail_msg_tree(r, &tree, error_r) < 0) {
		ret = IMAP_URL_IO_ERROR;
	} else if (mime_section_resolve(tree, sec, &ext, &count, &size, error_r) == 0) {
		ret = 0;
		for (uint64_t off = 0; off < size && ret == 0; off += URL_CHUNK) {
			buf_clear(&b);
			if (mime_extents_read(&src, ext, count, off, URL_CHUNK, &b, error_r) < 0 ||
			    delivery_write(d, b.data, b.len, error_r) < 0)
				ret = IMAP_URL_IO_ERROR;
		}
	}
	buf_free(&b);
	free(ext);
	mime_section_free(&sec);
	return ret;
}

static int write_whole(struct mail_msg_reader *r, struct delivery *d, const char **error_r)
{
	uint64_t size = mail_msg_size(r);
	char *chunk = xmalloc(URL_CHUNK);
	int ret = 0;

	for (uint64_t off = 0; off < size && ret == 0; off += URL_CHUNK) {
		size_t n = size - off < URL_CHUNK ? (size_t)(size - off) : URL_CHUNK;

		if (mail_msg_read(r, off, chunk, n, error_r) < 0 ||
		    delivery_write(d, chunk, n, error_r) < 0)
			ret = IMAP_URL_IO_ERROR;
	}
	free(chunk);
	return ret;
}

int imap_url_write(struct mail_user *user, const struct imap_url *u, struct delivery *d,
                   const char **error_r)
{
	struct mailbox *box;
	struct mail_msg_reader *r = NULL;
	uint32_t seq;
	int ret = -1;

	*error_r = "No such message";
	if (!mail_user_mailbox_exists(user, u->mailbox) ||
	    mailbox_open(user, u->mailbox, true, &box, error_r) < 0)
		return -1;
	if ((u->uidvalidity == 0 || u->uidvalidity == mailbox_uidvalidity(box)) &&
	    (seq = seq_of_uid(box, u->uid)) != 0) {
		ret = mail_msg_open(box, seq, &r, error_r);
		if (ret == 1)
			ret = u->section == NULL ? write_whole(r, d, error_r)
			                         : write_section(r, u->section, d, error_r);
		else
			ret = ret == 0 ? -1 : IMAP_URL_IO_ERROR;
	}
	mail_msg_close(&r);
	mailbox_close(&box);
	return ret;
}
