/* Quota arithmetic and the usage of the per-user index (quota.h). */
#include "store/quota.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/delivery.h"
#include "store/index-private.h"
#include "store/index.h"
#include "store/mailbox-private.h"
#include "store/mailbox.h"
#include "store/quota-settings.h"

bool quota_limited(const struct quota_limit *limit)
{
	return limit->bytes != 0 || limit->messages != 0;
}

bool quota_full(const struct quota_limit *limit, const struct quota_usage *usage)
{
	return (limit->bytes != 0 && usage->bytes >= limit->bytes) ||
	       (limit->messages != 0 && usage->messages >= limit->messages);
}

bool quota_fits(const struct quota_limit *limit, const struct quota_usage *usage, uint64_t size)
{
	if (limit->bytes != 0 &&
	    (usage->bytes > limit->bytes || size > limit->bytes - usage->bytes))
		return false;
	return limit->messages == 0 || usage->messages < limit->messages;
}

/* Whether used is at least percent % of max (max > 0), without overflow. */
static bool reached(uint64_t used, uint64_t max, unsigned percent)
{
	return (unsigned __int128)used * 100 >= (unsigned __int128)max * percent;
}

unsigned quota_level(const struct quota_limit *limit, const struct quota_usage *usage,
                     const unsigned *percents, size_t count)
{
	unsigned level = 0;

	for (size_t i = 0; i < count; i++) {
		unsigned p = percents[i];

		if (p <= level)
			continue;
		if ((limit->bytes != 0 && reached(usage->bytes, limit->bytes, p)) ||
		    (limit->messages != 0 && reached(usage->messages, limit->messages, p)))
			level = p;
	}
	return level;
}

int quota_percent_parse(const char *text, unsigned *percent_r)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || strcmp(end, "%") != 0 || v < 1 || v > 100)
		return -1;
	*percent_r = (unsigned)v;
	return 0;
}

/* The usage row plus the pending deliveries. */
static const char usage_sql[] =
    "SELECT u.bytes + coalesce((SELECT sum(size) FROM usage_pending), 0),"
    " u.messages + (SELECT count(*) FROM usage_pending), u.warned FROM usage u WHERE id = 1";

static int index_usage(struct mail_index *index, struct quota_usage *usage_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(usage_r, 0, sizeof(*usage_r));
	if (sqlite3_prepare_v2(mail_index_db(index), usage_sql, -1, &stmt, NULL) != SQLITE_OK)
		return mail_index_ext_fail(index, "usage", error_r);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(stmt, 0), m = sqlite3_column_int64(stmt, 1);

		usage_r->bytes = b > 0 ? (uint64_t)b : 0;
		usage_r->messages = m > 0 ? (uint64_t)m : 0;
		usage_r->warned = (unsigned)sqlite3_column_int(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mail_index_ext_fail(index, "usage", error_r);
	return 0;
}

/* Run sql with up to two bindings (text a, integer b) in its own
   statement. */
static int index_run(struct mail_index *index, const char *sql, const char *a, int64_t b,
                     const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(mail_index_db(index), sql, -1, &stmt, NULL) != SQLITE_OK)
		return mail_index_ext_fail(index, "usage update", error_r);
	if (a != NULL)
		sqlite3_bind_text(stmt, 1, a, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, b);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : mail_index_ext_fail(index, "usage update", error_r);
}

/* Open the index of maildir; 0 with *index_r NULL when the Maildir does
   not exist. */
static int open_index(const char *maildir, struct mail_index **index_r, const char **error_r)
{
	struct stat st;
	char *path;
	int ret;

	*index_r = NULL;
	if (stat(maildir, &st) < 0 && errno == ENOENT)
		return 0;
	path = xasprintf("%s/" INDEX_FILE, maildir);
	ret = mail_index_open(path, index_r, error_r);
	free(path);
	return ret;
}

/* The fast path of quota_usage_read(): a read-only connection and one
   SELECT, without index.c's setup (pragmas, schema, a write transaction),
   which costs about ten times as much. 1 read, 0 not possible here (no
   index yet, another version, busy: take the full open), never -1. */
static int usage_read_fast(const char *maildir, struct quota_usage *usage_r)
{
	char *path = xasprintf("%s/" INDEX_FILE, maildir);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int ret = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ==
	        SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_int(stmt, 0) == MAIL_INDEX_SCHEMA_VERSION) {
		sqlite3_finalize(stmt);
		stmt = NULL;
		if (sqlite3_prepare_v2(db, usage_sql, -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW) {
			int64_t b = sqlite3_column_int64(stmt, 0),
			        m = sqlite3_column_int64(stmt, 1);

			usage_r->bytes = b > 0 ? (uint64_t)b : 0;
			usage_r->messages = m > 0 ? (uint64_t)m : 0;
			usage_r->warned = (unsigned)sqlite3_column_int(stmt, 2);
			ret = 1;
		}
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
	return ret;
}

int quota_usage_read(const char *maildir, struct quota_usage *usage_r, const char **error_r)
{
	struct mail_index *index;
	int ret;

	memset(usage_r, 0, sizeof(*usage_r));
	if (usage_read_fast(maildir, usage_r) == 1)
		return 0;
	memset(usage_r, 0, sizeof(*usage_r));
	if (open_index(maildir, &index, error_r) < 0)
		return -1;
	if (index == NULL)
		return 0;
	ret = index_usage(index, usage_r, error_r);
	if (ret < 0)
		*error_r = "cannot read the quota usage";
	mail_index_close(&index);
	return ret;
}

int quota_usage_add_pending(const char *maildir, const char *path, uint64_t size,
                            const char **error_r)
{
	const char *slash = strrchr(path, '/'), *name = slash != NULL ? slash + 1 : path;
	const char *info = strstr(name, ":2,");
	char *base = info != NULL ? xstrndup(name, (size_t)(info - name)) : xstrdup(name);
	struct mail_index *index;
	int ret = -1;

	if (open_index(maildir, &index, error_r) == 0 && index != NULL) {
		ret = index_run(index,
		                "INSERT OR IGNORE INTO usage_pending (base, size) VALUES (?1, ?2)",
		                base, (int64_t)size, error_r);
		mail_index_close(&index);
	}
	if (ret < 0)
		*error_r = "cannot count the delivery in the quota usage";
	free(base);
	return ret;
}

int quota_usage_set_warned(const char *maildir, unsigned warned, const char **error_r)
{
	struct mail_index *index;
	int ret = -1;

	if (open_index(maildir, &index, error_r) == 0 && index != NULL) {
		ret = index_run(index, "UPDATE usage SET warned = ?2 WHERE id = 1", NULL, warned,
		                error_r);
		mail_index_close(&index);
	}
	if (ret < 0)
		*error_r = "cannot store the quota warning level";
	return ret;
}

int quota_user_usage(struct mail_user *user, struct quota_usage *usage_r, const char **error_r)
{
	struct mail_index *index;

	if (mail_user_index(user, &index, error_r) < 0)
		return -1;
	return index_usage(index, usage_r, error_r);
}

/* Open (and so sync) every mailbox of user. */
static int sync_all(struct mail_user *user, const char **error_r)
{
	char **names;
	size_t count;
	int ret = 0;

	if (mail_user_list(user, &names, &count, error_r) < 0)
		return -1;
	for (size_t i = 0; i < count && ret == 0; i++) {
		struct mailbox *box;

		ret = mailbox_open(user, names[i], true, &box, error_r);
		if (ret == 0)
			mailbox_close(&box);
	}
	mail_user_list_free(names, count);
	return ret;
}

int quota_recalc(struct mail_user *user, struct quota_usage *usage_r, const char **error_r)
{
	struct mail_index *index;

	if (sync_all(user, error_r) < 0 || mail_user_index(user, &index, error_r) < 0)
		return -1;
	if (mail_index_begin(index, error_r) < 0)
		return -1;
	if (index_run(index, "DELETE FROM usage_pending", NULL, 0, error_r) < 0 ||
	    index_run(index,
	              "UPDATE usage SET bytes = (SELECT coalesce(sum(size), 0) FROM messages),"
	              " messages = (SELECT count(*) FROM messages) WHERE id = 1",
	              NULL, 0, error_r) < 0 ||
	    mail_index_commit(index, error_r) < 0) {
		mail_index_rollback(index);
		return -1;
	}
	return index_usage(index, usage_r, error_r);
}

/* Raise the stored level from below level to level: 1 if this call did,
   0 if another had already, -1. */
static int raise_warned(const char *maildir, unsigned level, const char **error_r)
{
	struct mail_index *index;
	int ret = -1;

	if (open_index(maildir, &index, error_r) == 0 && index != NULL) {
		ret = index_run(index, "UPDATE usage SET warned = ?2 WHERE id = 1 AND warned < ?2",
		                NULL, level, error_r);
		if (ret == 0)
			ret = sqlite3_changes(mail_index_db(index)) > 0;
		mail_index_close(&index);
	}
	return ret;
}

/* The warning message (RFC 5322) for level. */
static void warning_text(struct buf *b, const char *user, unsigned level,
                         const struct quota_limit *limit, const struct quota_usage *usage)
{
	const char *at = strrchr(user, '@');
	const char *domain = at != NULL ? at + 1 : "localhost";
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(b,
	           "From: Mail System <postmaster@%s>\r\nTo: <%s>\r\n"
	           "Subject: Quota warning: %u%% of your mailbox is used\r\n"
	           "Date: %s\r\nMessage-ID: <quota.%lld.%u@%s>\r\n"
	           "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	           "Your mailbox has reached %u%% of its quota.\r\n\r\n",
	           domain, user, level, date, (long long)now, level, domain, level);
	if (limit->bytes != 0)
		buf_printf(b, "Storage: %llu of %llu bytes\r\n", (unsigned long long)usage->bytes,
		           (unsigned long long)limit->bytes);
	if (limit->messages != 0)
		buf_printf(b, "Messages: %llu of %llu\r\n", (unsigned long long)usage->messages,
		           (unsigned long long)limit->messages);
	buf_append_str(b, "\r\nDelete messages you no longer need, or mail will be refused\r\n"
	                  "once the quota is full.\r\n");
}

/* Deliver the warning into user's INBOX, counted but not checked. */
static int deliver_warning(const char *mail_dir, const char *user, unsigned level,
                           const struct quota_limit *limit, const struct quota_usage *usage,
                           const char **error_r)
{
	static const struct quota_limit unchecked = {0, 0, NULL};
	struct delivery_target t = {.user = user, .quota = &unchecked};
	struct delivery_result r;
	struct delivery *d;
	struct buf b = BUF_INIT;
	int ret;

	warning_text(&b, user, level, limit, usage);
	ret = delivery_begin(mail_dir, &d, error_r);
	if (ret == 0 && (ret = delivery_write(d, b.data, b.len, error_r)) < 0)
		delivery_abort(&d);
	if (ret == 0) {
		ret = delivery_commit(d, &t, 1, DELIVERY_PER_TARGET, &r, error_r);
		delivery_results_clear(&r, 1);
	}
	buf_free(&b);
	return ret;
}

int quota_warn(const char *mail_dir, const char *user, const char *maildir,
               const struct quota_limit *limit, const char **error_r)
{
	struct quota_usage usage;
	unsigned level;
	int ret;

	if (limit->warn == NULL || limit->warn->count == 0 || !quota_limited(limit))
		return 0;
	if (quota_usage_read(maildir, &usage, error_r) < 0)
		return -1;
	level = quota_level(limit, &usage, limit->warn->percent, limit->warn->count);
	if (level < usage.warned)
		return quota_usage_set_warned(maildir, level, error_r);
	if (level == usage.warned || (ret = raise_warned(maildir, level, error_r)) <= 0)
		return level == usage.warned ? 0 : ret;
	log_info(NULL, "event=store.quota_warning level=%u bytes=%llu messages=%llu", level,
	         (unsigned long long)usage.bytes, (unsigned long long)usage.messages);
	if (deliver_warning(mail_dir, user, level, limit, &usage, error_r) < 0)
		return -1;
	return 1;
}
