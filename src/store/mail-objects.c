/* MAILBOXID, EMAILID, THREADID, SAVEDATE, STATUS SIZE: see mail-objects.h. */
#include "store/mail-objects.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mail-msg.h"
#include "store/mailbox-private.h"

/* Hex digits of the digest in an id: 96 bits, as many as the MAILBOXID. */
#define OBJECTID_HEX 24
#define DIGEST_CHUNK (64 * 1024)

int mailbox_objectid(struct mailbox *box, char **id_r, const char **error_r)
{
	struct mail_index *index;
	int ret;

	if (mail_user_index(box->user, &index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = mail_index_mailboxid(index, box->ibox.id, id_r, error_r);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (ret == 0)
		return mailbox_fail(box, "mailbox has no index row", error_r);
	return 0;
}

uint64_t mailbox_total_size(const struct mailbox *box)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < box->count; i++)
		total += box->msgs[i].msg.size;
	return total;
}

/* prefix + the first OBJECTID_HEX hex digits of digest (malloc'ed). */
static char *id_from_digest(char prefix, const unsigned char *digest)
{
	char *id = xmalloc(OBJECTID_HEX + 2);

	id[0] = prefix;
	for (size_t i = 0; i < OBJECTID_HEX / 2; i++)
		snprintf(id + 1 + 2 * i, 3, "%02x", digest[i]);
	return id;
}

static char *id_from_bytes(char prefix, const void *data, size_t len)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen < OBJECTID_HEX / 2)
		abort();
	return id_from_digest(prefix, digest);
}

/* The EMAILID: the digest of every byte of the message. NULL on a read
   error. */
static char *emailid_make(struct mail_msg_reader *reader, const char **error_r)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t size = mail_msg_size(reader), off = 0;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *chunk = xmalloc(DIGEST_CHUNK), *id = NULL;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

	while (ok && off < size) {
		size_t want = size - off < DIGEST_CHUNK ? (size_t)(size - off) : DIGEST_CHUNK;

		ok = mail_msg_read(reader, off, chunk, want, error_r) == 0 &&
		     EVP_DigestUpdate(md, chunk, want) == 1;
		off += want;
	}
	if (ok && EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen >= OBJECTID_HEX / 2)
		id = id_from_digest('M', digest);
	else if (ok)
		*error_r = "digest failed";
	EVP_MD_CTX_free(md);
	free(chunk);
	return id;
}

/* The next "<...>" of [*pos, end) (whitespace inside dropped), malloc'ed,
   or NULL when there is none; *pos moves past it. */
static char *next_msgid(const char **pos, const char *end)
{
	while (*pos < end) {
		const char *p = memchr(*pos, '<', (size_t)(end - *pos)), *q;
		struct buf b = BUF_INIT;

		if (p == NULL || (q = memchr(p, '>', (size_t)(end - p))) == NULL)
			break;
		*pos = q + 1;
		for (; p <= q; p++) {
			if (!isspace((unsigned char)*p))
				buf_append_char(&b, *p);
		}
		if (b.len > 2)
			return buf_steal(&b);
		buf_free(&b);
	}
	*pos = end;
	return NULL;
}

static char *first_msgid(const char *value, size_t len)
{
	const char *p = value;

	return next_msgid(&p, value + len);
}

char *mail_threadid_from_header(const struct mime_part *hdr)
{
	static const char *const fields[] = {"References", "In-Reply-To", "Message-ID"};
	char *root = NULL, *id;

	for (size_t i = 0; i < 3 && root == NULL; i++) {
		const struct mime_field *f = mime_part_field(hdr, fields[i]);

		if (f != NULL)
			root = first_msgid(f->value, f->value_len);
	}
	if (root == NULL)
		return NULL;
	id = id_from_bytes('T', root, strlen(root));
	free(root);
	return id;
}

/* Message-IDs of a message looked up in the user's thread table, at most. */
#define THREAD_IDS_MAX 32

/* The message's own Message-ID, its In-Reply-To and References ids, in
   that order, into ids (malloc'ed each); returns how many. */
static size_t thread_ids(const struct mime_part *hdr, char **ids)
{
	static const char *const fields[] = {"Message-ID", "In-Reply-To", "References"};
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		const struct mime_field *f = mime_part_field(hdr, fields[i]);
		const char *p, *end;
		char *id;

		if (f == NULL)
			continue;
		p = f->value;
		end = f->value + f->value_len;
		while (n < THREAD_IDS_MAX && (id = next_msgid(&p, end)) != NULL) {
			ids[n++] = id;
			if (i < 2)
				break; /* one id of Message-ID and In-Reply-To */
		}
	}
	return n;
}

/* The THREADID of a message: the one the user's thread table gives its
   own Message-ID or one it refers to (a message already seen of the same
   thread), else the root's (mail_threadid_from_header()); then every id
   of the message is given it, so the thread's later (and earlier) messages
   find it. A failing index costs the table, not the id. */
static char *thread_resolve(struct mailbox *box, const struct mime_part *hdr, const char *emailid)
{
	char *ids[THREAD_IDS_MAX], *tid = NULL;
	size_t n = thread_ids(hdr, ids);
	struct mail_index *index;
	const char *error = NULL;
	bool ok = mail_user_index(box->user, &index, &error) == 0;

	for (size_t i = 0; ok && tid == NULL && i < n; i++)
		ok = mail_index_thread_get(index, ids[i], &tid, &error) >= 0;
	if (tid == NULL && (tid = mail_threadid_from_header(hdr)) == NULL)
		tid = xasprintf("T%s", emailid + 1);
	if (ok && n > 0 && (ok = mail_index_begin(index, &error) == 0)) {
		for (size_t i = 0; ok && i < n; i++)
			ok = mail_index_thread_add(index, ids[i], tid, &error) == 0;
		if (!ok || mail_index_commit(index, &error) < 0) {
			ok = false;
			mail_index_rollback(index);
		}
	}
	if (!ok)
		log_warn(NULL, "event=store.thread_index_failed error=\"%s\"",
		         error != NULL ? error : "");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	return tid;
}

void mail_objects_free(struct mail_objects *obj)
{
	free(obj->emailid);
	free(obj->threadid);
	free(obj->preview);
	memset(obj, 0, sizeof(*obj));
}

/* Compute what obj lacks of want from the message. 1, 0 gone, -1. */
static int objects_compute(struct mailbox *box, uint32_t seq, unsigned want,
                           struct mail_objects *obj, const char **error_r)
{
	struct mail_msg_reader *reader;
	const struct mime_part *tree;
	int ret = mail_msg_open(box, seq, &reader, error_r);

	if (ret <= 0)
		return ret;
	if ((want & (MAIL_OBJ_EMAILID | MAIL_OBJ_THREADID)) && obj->emailid == NULL &&
	    (obj->emailid = emailid_make(reader, error_r)) == NULL)
		ret = -1;
	if (ret > 0 && (want & MAIL_OBJ_THREADID) && obj->threadid == NULL) {
		if (mail_msg_header(reader, &tree, error_r) < 0)
			ret = -1;
		else
			obj->threadid = thread_resolve(box, tree, obj->emailid);
	}
	if (ret > 0 && (want & MAIL_OBJ_PREVIEW) && obj->preview == NULL) {
		struct mime_source src = mail_msg_source(reader);
		struct buf b = BUF_INIT;

		if (mail_msg_tree(reader, &tree, error_r) < 0 ||
		    mail_preview_make(tree, &src, &b, error_r) < 0) {
			buf_free(&b);
			ret = -1;
		} else {
			obj->preview_len = b.len;
			obj->preview = b.len > 0 ? buf_steal(&b) : xstrdup("");
		}
	}
	mail_msg_close(&reader);
	return ret;
}

/* Store the computed values; a failure costs speed only (logged). */
static void objects_store(struct mailbox *box, uint32_t uid, const struct index_objects *obj)
{
	struct mail_index *index;
	const char *error;

	if (mail_user_index(box->user, &index, &error) < 0 || mail_index_begin(index, &error) < 0) {
		log_warn(NULL, "event=store.objects_store_failed error=\"%s\"", error);
		return;
	}
	if (mail_index_objects_set(index, box->ibox.id, uid, obj, &error) < 0 ||
	    mail_index_commit(index, &error) < 0) {
		log_warn(NULL, "event=store.objects_store_failed error=\"%s\"", error);
		mail_index_rollback(index);
	}
}

static void objects_take(struct mail_objects *to, struct index_objects *from)
{
	to->found = true;
	to->savedate = from->savedate;
	to->emailid = from->emailid;
	to->threadid = from->threadid;
	to->preview = from->preview;
	to->preview_len = from->preview_len;
	memset(from, 0, sizeof(*from));
}

int mailbox_objects_read(struct mailbox *box, uint32_t first, uint32_t count,
                         struct mail_objects *objs_r, const char **error_r)
{
	uint32_t *uids, last = first + count - 1;
	struct index_objects *rows;
	struct mail_index *index;
	size_t row_count;
	int ret;

	if (first < 1 || count == 0 || last > box->count)
		abort();
	memset(objs_r, 0, count * sizeof(*objs_r));
	if (mail_user_index(box->user, &index, error_r) < 0)
		return mailbox_fail(box, *error_r, error_r);
	ret = mail_index_objects_range(index, box->ibox.id, box->msgs[first - 1].msg.uid,
	                               box->msgs[last - 1].msg.uid, &uids, &rows, &row_count,
	                               error_r);
	for (size_t i = 0; i < row_count; i++) {
		uint32_t seq = mailbox_seq_by_uid(box, uids[i]);

		if (ret == 0 && seq >= first && seq <= last)
			objects_take(&objs_r[seq - first], &rows[i]);
		index_objects_free(&rows[i]);
	}
	free(uids);
	free(rows);
	if (ret < 0) {
		for (uint32_t i = 0; i < count; i++)
			mail_objects_free(&objs_r[i]);
		return mailbox_fail(box, *error_r, error_r);
	}
	return 0;
}

int mailbox_objects_fill(struct mailbox *box, uint32_t seq, unsigned want, struct mail_objects *obj,
                         const char **error_r)
{
	struct index_objects fresh = {0};
	bool had_e = obj->emailid != NULL, had_t = obj->threadid != NULL,
	     had_p = obj->preview != NULL;
	int ret;

	if (seq < 1 || seq > box->count)
		abort();
	if (!obj->found)
		return 0;
	if ((!(want & MAIL_OBJ_EMAILID) || had_e) && (!(want & MAIL_OBJ_THREADID) || had_t) &&
	    (!(want & MAIL_OBJ_PREVIEW) || had_p))
		return 1;
	ret = objects_compute(box, seq, want, obj, error_r);
	if (ret < 0)
		return mailbox_fail(box, *error_r, error_r);
	if (ret == 0)
		return 0;
	fresh.emailid = had_e ? NULL : obj->emailid;
	fresh.threadid = had_t ? NULL : obj->threadid;
	fresh.preview = had_p ? NULL : obj->preview;
	fresh.preview_len = obj->preview_len;
	objects_store(box, box->msgs[seq - 1].msg.uid, &fresh);
	return 1;
}

int mailbox_objects_get(struct mailbox *box, uint32_t seq, unsigned want,
                        struct mail_objects *obj_r, const char **error_r)
{
	int ret;

	if (mailbox_objects_read(box, seq, 1, obj_r, error_r) < 0)
		return -1;
	ret = mailbox_objects_fill(box, seq, want, obj_r, error_r);
	if (ret <= 0)
		mail_objects_free(obj_r);
	return ret;
}
