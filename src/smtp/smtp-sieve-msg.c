/* The message a Sieve run sees at delivery: see smtp-sieve-private.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "mime/mime-charset.h"
#include "mime/mime-parser.h"
#include "mime/mime-text.h"
#include "sieve/sieve-store.h"
#include "smtp/smtp-sieve-private.h"
#include "store/maildir.h"

/* A bigger message is delivered without running the scripts (logged as
   event=sieve.error): the scripts see the whole message in memory. */
#define MSG_MAX ((size_t)64 * 1024 * 1024)

/* The body test reads at most this much decoded text. */
#define BODY_TEXT_MAX (1024 * 1024)

static atomic_uint link_counter;

/* The end of the header section (blank line included) in data[0..len). */
static size_t header_end(const char *data, size_t len)
{
	const char *p;

	if (len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 2;
	p = memmem(data, len, "\r\n\r\n", 4);
	return p != NULL ? (size_t)(p - data) + 4 : len;
}

int smtp_sieve_msg_load(struct smtp_sieve_msg *m, struct delivery *d, const char *sender,
                        const char **error_r)
{
	char *path = xasprintf("%s/.spool/sieve-%ld-%u", smtp_sieve_env.mail_dir, (long)getpid(),
	                       atomic_fetch_add(&link_counter, 1));
	uint64_t size;
	size_t len;
	int ret;

	memset(m, 0, sizeof(*m));
	m->sender = sender;
	(void)unlink(path);
	ret = delivery_link_file(d, path, &size, error_r);
	if (ret == 0 && sieve_store_read(path, MSG_MAX, &m->data, &len, error_r) < 0) {
		*error_r = "the message is too large for Sieve or unreadable";
		ret = -1;
	}
	(void)unlink(path);
	free(path);
	if (ret < 0)
		return -1;
	m->len = len;
	m->size = len;
	if (len >= 12 && strncasecmp(m->data, "Return-Path:", 12) == 0) {
		const char *eol = memmem(m->data, len, "\r\n", 2);

		m->skip = eol != NULL ? (size_t)(eol - m->data) + 2 : 0;
	}
	m->size = len - m->skip;
	m->header_len = header_end(m->data + m->skip, len - m->skip);
	return 0;
}

void smtp_sieve_msg_release_includes(struct smtp_sieve_msg *m)
{
	for (size_t i = 0; i < m->include_refs.count; i++)
		smtp_sieve_cache_put(m->include_refs.items[i]);
	m->include_refs.count = 0;
}

void smtp_sieve_msg_free(struct smtp_sieve_msg *m)
{
	smtp_sieve_msg_release_includes(m);
	array_free(&m->include_refs);
	free(m->include_error);
	for (size_t i = 0; i < m->values.count; i++)
		free(m->values.items[i]);
	array_free(&m->values);
	buf_free(&m->tmp);
	free(m->text);
	free(m->user_sieve_dir);
	free(m->data);
	memset(m, 0, sizeof(*m));
}

/* Each field of the header whose name is name: calls found(value, len). */
static void each_field(const struct smtp_sieve_msg *m, const char *name,
                       void (*found)(void *ctx, const char *v, size_t len), void *ctx)
{
	const char *p = m->data + m->skip, *end = p + m->header_len;
	size_t nlen = strlen(name);

	while (p < end && !(p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *f = p, *colon;

		/* the field runs until a CRLF not followed by white space */
		for (;;) {
			const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

			p = eol != NULL ? eol + 2 : end;
			if (p >= end || (*p != ' ' && *p != '\t'))
				break;
		}
		colon = memchr(f, ':', (size_t)(p - f));
		if (colon == NULL || (size_t)(colon - f) != nlen || strncasecmp(f, name, nlen) != 0)
			continue;
		colon++;
		while (colon < p && (*colon == ' ' || *colon == '\t'))
			colon++;
		found(ctx, colon, (size_t)(p - colon));
	}
}

static void first_raw(void *ctx, const char *v, size_t len)
{
	char **out = ctx;

	if (*out == NULL) {
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
			len--;
		*out = xstrndup(v, len);
		/* unfold */
		for (char *c = *out; *c != '\0'; c++) {
			if (*c == '\r' || *c == '\n')
				*c = ' ';
		}
	}
}

char *smtp_sieve_msg_header(const struct smtp_sieve_msg *m, const char *name)
{
	char *out = NULL;

	each_field(m, name, first_raw, &out);
	return out;
}

static void add_decoded(void *ctx, const char *v, size_t len)
{
	struct smtp_sieve_msg *m = ctx;
	struct buf b = BUF_INIT;

	(void)mime_header_decode(v, len, 64 * 1024, &b);
	while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	buf_append_char(&b, '\0');
	array_append(&m->values, buf_steal(&b));
}

static size_t cb_header(void *ctx, const char *name, const char *const **values_r)
{
	struct smtp_sieve_msg *m = ctx;

	for (size_t i = 0; i < m->values.count; i++)
		free(m->values.items[i]);
	m->values.count = 0;
	each_field(m, name, add_decoded, m);
	*values_r = (const char *const *)m->values.items;
	return m->values.count;
}

static int mem_read(void *ctx, uint64_t offset, size_t len, struct buf *out, const char **error_r)
{
	const struct smtp_sieve_msg *m = ctx;
	size_t avail = m->len - m->skip;

	(void)error_r;
	if (offset < avail)
		buf_append(out, m->data + m->skip + offset,
		           len < avail - offset ? len : (size_t)(avail - offset));
	return 0;
}

/* The decoded text of the message's text parts (mime-text.h), once. */
static const char *body_text(struct smtp_sieve_msg *m)
{
	if (m->text == NULL) {
		struct mime_part *root = mime_parse(m->data + m->skip, m->len - m->skip, NULL);
		struct mime_source src = {.read = mem_read, .ctx = m};
		struct buf out = BUF_INIT;
		const char *error;

		if (root != NULL)
			(void)mime_text_extract(root, &src, BODY_TEXT_MAX, &out, &error);
		mime_part_free(&root);
		buf_append_char(&out, '\0');
		m->text = buf_steal(&out);
	}
	return m->text;
}

static size_t cb_body(void *ctx, enum sieve_body_transform transform, const char *const *types,
                      size_t ntypes, const char *const **parts_r)
{
	struct smtp_sieve_msg *m = ctx;

	if (transform == SIEVE_BODY_RAW) {
		buf_clear(&m->tmp);
		buf_append(&m->tmp, m->data + m->skip + m->header_len,
		           m->len - m->skip - m->header_len);
		m->parts[0] = buf_cstr(&m->tmp);
	} else if (transform == SIEVE_BODY_CONTENT &&
	           !sieve_body_type_selected("text/plain", types, ntypes) &&
	           !sieve_body_type_selected("text/html", types, ntypes)) {
		return 0;
	} else {
		m->parts[0] = body_text(m);
	}
	*parts_r = m->parts;
	return 1;
}

static bool cb_mailbox_exists(void *ctx, const char *name)
{
	struct smtp_sieve_msg *m = ctx;
	char *home, *folder, *path;
	const char *error;
	struct stat st;
	bool ret;

	if (strcasecmp(name, "INBOX") == 0)
		return true;
	if (maildir_user_path(smtp_sieve_env.mail_dir, m->user, &home, &error) < 0)
		return false;
	if (maildir_imap_to_folder(name, &folder, &error) < 0) {
		free(home);
		return false;
	}
	path = xasprintf("%s/%s", home, folder);
	ret = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	free(path);
	free(folder);
	free(home);
	return ret;
}

static bool cb_duplicate(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	struct smtp_sieve_msg *m = ctx;
	char *key = xasprintf("%s:%s", handle, id);
	bool ret;

	(void)seconds; /* the expiry was written with the period */
	ret = m->user_sieve_dir != NULL &&
	      smtp_sieve_state_seen(m->user_sieve_dir, ".duplicate", key);
	free(key);
	return ret;
}

static bool cb_vacation_seen(void *ctx, const char *sender, const char *handle, uint64_t seconds)
{
	struct smtp_sieve_msg *m = ctx;
	char *key = xasprintf("%s:%s", handle, sender);
	bool ret;

	(void)seconds;
	ret =
	    m->user_sieve_dir != NULL && smtp_sieve_state_seen(m->user_sieve_dir, ".vacation", key);
	free(key);
	return ret;
}

/* spamtest from X-Spam-Score-like headers is left to the filter issue:
   X-Spam-Flag: YES reads as 10, else "not tested". */
static const char *cb_spamtest(void *ctx, bool percent)
{
	struct smtp_sieve_msg *m = ctx;
	char *flag = smtp_sieve_msg_header(m, "X-Spam-Flag");
	bool spam = flag != NULL && strncasecmp(flag, "yes", 3) == 0;

	free(flag);
	if (!spam)
		return NULL;
	return percent ? "100" : "10";
}

static const char *cb_environment(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "domain") == 0 || strcmp(name, "host") == 0)
		return smtp_sieve_env.hostname;
	if (strcmp(name, "location") == 0)
		return "MDA";
	return NULL;
}

/* include :personal (RFC 6609): NAME.sieve beside the user's scripts,
   compiled through the cache. :global has no location yet. */
static int cb_include(void *ctx, bool global, const char *name,
                      const struct sieve_script **script_r, const char **error_r)
{
	struct smtp_sieve_msg *m = ctx;
	char *path, *error = NULL;
	void *ref;
	int ret;

	if (global || m->user_sieve_dir == NULL || !sieve_store_name_valid(name)) {
		*error_r = global ? "no global scripts at delivery" : "invalid script name";
		return -1;
	}
	path = xasprintf("%s/%s.sieve", m->user_sieve_dir, name);
	ret = smtp_sieve_cache_get(path, script_r, &ref, &error);
	free(path);
	if (ret == 1) {
		array_append(&m->include_refs, ref);
		return 0;
	}
	free(m->include_error);
	m->include_error = error != NULL ? error : xstrdup("no such script");
	*error_r = m->include_error;
	return -1;
}

void smtp_sieve_msg_callbacks(struct smtp_sieve_msg *m, const char *user, struct sieve_message *msg)
{
	const char *error;

	m->user = user;
	m->rcpt = user;
	free(m->user_sieve_dir);
	m->user_sieve_dir = NULL;
	(void)sieve_store_dir(smtp_sieve_env.mail_dir, user, &m->user_sieve_dir, &error);
	memset(msg, 0, sizeof(*msg));
	msg->ctx = m;
	msg->header = cb_header;
	msg->envelope_from = m->sender;
	msg->envelope_to = user;
	msg->size = m->size;
	msg->body = cb_body;
	msg->now = time(NULL);
	msg->zone_minutes = 0;
	msg->environment = cb_environment;
	msg->mailbox_exists = cb_mailbox_exists;
	msg->duplicate_seen = cb_duplicate;
	msg->spamtest = cb_spamtest;
	msg->vacation_seen = cb_vacation_seen;
	msg->include = cb_include;
}
