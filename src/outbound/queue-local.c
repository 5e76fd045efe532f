/* Local delivery from the queue: see queue-local.h. */
#include "outbound/queue-local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directory/directory.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/queue-private.h"
#include "smtp/smtp-sieve.h"
#include "store/delivery.h"
#include "store/quota-settings.h"
#include "store/quota.h"

bool queue_local_domain(struct directory *dir, const char *domain)
{
	const char *error;
	int ret;

	if (dir == NULL)
		return false;
	ret = directory_domain_exists(dir, domain, &error);
	if (ret < 0)
		log_error(NULL, "event=queue.directory_error error=\"%s\"", error);
	return ret == 1;
}

/* Copy the message (after data_skip) into d, behind our own Return-Path
   (RFC 5321 4.4: the final delivery adds it). */
static int fill(struct delivery *d, const struct queue_entry *e, const char **error_r)
{
	char *rp = xasprintf("Return-Path: <%s>\r\n", e->env.sender);
	char chunk[65536];
	uint64_t left = e->env.size;
	int fd = open(e->data_path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	delivery_set_prefix(d, rp, strlen(rp));
	free(rp);
	if (fd < 0 || lseek(fd, (off_t)e->env.data_skip, SEEK_SET) < 0) {
		*error_r = "cannot read the queued message";
		ret = -1;
	}
	while (ret == 0 && left > 0) {
		ssize_t n = read(fd, chunk, left < sizeof(chunk) ? (size_t)left : sizeof(chunk));

		if (n <= 0) {
			*error_r = "cannot read the queued message";
			ret = -1;
		} else {
			ret = delivery_write(d, chunk, (size_t)n, error_r);
			left -= (uint64_t)n;
		}
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* quota: whether a recipient was refused by its user's quota */
static bool any_over_quota(const struct smtp_sieve_rcpt *rcpts, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (rcpts[i].over_quota)
			return true;
	}
	return false;
}

/* sieve: the users' scripts run (smtp-sieve.h); a script's reject is a
   550 5.7.1 for this recipient, which the queue bounces as a DSN. quota:
   a user over it is a permanent failure (552 5.2.2, bounced), as Postfix
   makes of Dovecot's LMTP 552. */
static void commit_users(struct queue_role *q, struct queue_job *job,
                         const struct directory_resolution *res, struct delivery *d,
                         const struct quota_limit *quotas, struct smtp_client_result *r)
{
	struct smtp_sieve_rcpt *rcpts = xcalloc(res->local_count, sizeof(*rcpts));
	const char *reject = NULL, *error;

	for (size_t i = 0; i < res->local_count; i++) {
		rcpts[i].user = res->local[i];
		rcpts[i].can_refuse = true;
		rcpts[i].quota = &quotas[i];
	}
	if (smtp_sieve_commit(q->settings, d, job->entry->env.sender, rcpts, res->local_count,
	                      DELIVERY_ALL_OR_NOTHING, &error) < 0) {
		if (any_over_quota(rcpts, res->local_count))
			smtp_client_result_set(r, 552, "5.2.2", "mailbox full: over quota");
		else
			smtp_client_result_set(r, 451, "4.3.0", error);
	} else {
		for (size_t i = 0; i < res->local_count && reject == NULL; i++)
			reject = rcpts[i].reject;
		if (reject != NULL)
			smtp_client_result_set(r, 550, "5.7.1", reject);
		else
			smtp_client_result_set(r, 250, "2.0.0", "delivered locally");
		for (size_t i = 0; i < res->local_count; i++) {
			role_notify_mailbox_changed(q->role, res->local[i]);
			for (size_t j = 0; j < rcpts[i].queued_count; j++)
				role_notify_message_queued(q->role, rcpts[i].queued[j]);
		}
	}
	smtp_sieve_rcpt_clear(rcpts, res->local_count);
	free(rcpts);
}

/* One recipient: resolve, deliver to its users. Sets *r. */
static void deliver_one(struct queue_role *q, struct queue_job *job, const char *address,
                        struct smtp_client_result *r)
{
	struct directory_resolution res;
	struct delivery *d = NULL;
	struct quota_limit *quotas; /* quota (docs/quota.md) */
	struct quota_warnings warn;
	const char *error;

	if (directory_resolve(q->dir, address, &res, &error) < 0) {
		smtp_client_result_set(r, 451, "4.3.0", error);
		return;
	}
	if (res.result != DIRECTORY_LOCAL || res.local_count == 0) {
		/* an alias here that only forwards is not re-expanded by the queue */
		smtp_client_result_set(r, 550, "5.1.1",
		                       res.result == DIRECTORY_LOCAL
		                           ? "the local address only forwards"
		                           : "no such local user");
		directory_resolution_free(&res);
		return;
	}
	quotas = xcalloc(res.local_count, sizeof(*quotas));
	quota_warnings_of(q->settings, &warn);
	for (size_t i = 0; i < res.local_count; i++) {
		quotas[i].bytes = res.local_quota != NULL ? res.local_quota[i].bytes : 0;
		quotas[i].messages = res.local_quota != NULL ? res.local_quota[i].messages : 0;
		quotas[i].warn = &warn;
	}
	if (delivery_begin(q->settings->mail_dir, &d, &error) < 0 ||
	    fill(d, job->entry, &error) < 0) {
		delivery_abort(&d);
		smtp_client_result_set(r, 451, "4.3.0", error);
	} else {
		commit_users(q, job, &res, d, quotas, r);
	}
	free(quotas);
	directory_resolution_free(&res);
}

void queue_local_deliver(struct queue_role *q, struct queue_job *job)
{
	for (size_t i = 0; i < job->rcpts.count; i++)
		(void)array_push(&job->results);
	job->mx_name = xstrdup("local");
	job->tls = xstrdup("none");
	for (size_t i = 0; i < job->rcpts.count; i++)
		deliver_one(q, job, job->entry->env.rcpts.items[job->rcpts.items[i]].address,
		            &job->results.items[i]);
}
