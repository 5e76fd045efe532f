/* Admin actions on queue entries: see queue-admin.h. */
#include "outbound/queue-admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/queue-state.h"

#define GIVEN_UP_STATUS "5.0.0"
#define GIVEN_UP_CODE   554
#define GIVEN_UP_TEXT   "delivery given up by the administrator"

int queue_admin_lock(struct spool *sp, const char *id, int *fd_r)
{
	char *path = xasprintf("%s/%s.env", spool_path(sp), id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	free(path);
	*fd_r = -1;
	if (fd < 0)
		return errno == ENOENT ? -1 : 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0;
	}
	*fd_r = fd;
	return 1;
}

void queue_admin_give_files(struct spool *sp, const char *id)
{
	static const char *const exts[] = {"env", "msg", "state"};
	struct stat st;

	if (geteuid() != 0 || stat(spool_path(sp), &st) < 0 || st.st_uid == 0)
		return;
	for (size_t i = 0; i < 3; i++) {
		char *path = xasprintf("%s/%s.%s", spool_path(sp), id, exts[i]);

		(void)lchown(path, st.st_uid, st.st_gid);
		free(path);
	}
}

static int append(struct spool *sp, const char *id, const char *state_path, const struct buf *b,
                  const char **error_r)
{
	if (queue_state_append(state_path, b, error_r) < 0)
		return -1;
	queue_admin_give_files(sp, id);
	return 0;
}

static int remove_entry(struct spool *sp, const char *id, const char *state_path,
                        const char **error_r)
{
	enum spool_error kind;

	if (spool_remove(sp, id, &kind, error_r) < 0 && kind != SPOOL_ERROR_NOT_FOUND)
		return -1;
	if (unlink(state_path) < 0 && errno != ENOENT) {
		*error_r = "cannot remove the state file";
		return -1;
	}
	return 0;
}

/* Every pending recipient fails now: the report first, then the records,
   then the entry goes (a crash in between repeats the report at worst). */
static int give_up(const struct queue_admin *a, const struct spool_envelope *env,
                   const struct queue_state *st, const char *state_path, int64_t t,
                   char **bounce_id_r, const char **error_r)
{
	ARRAY(struct dsn_rcpt) rcpts = ARRAY_INIT;
	ARRAY(char *) diags = ARRAY_INIT;
	struct buf lines = BUF_INIT;
	struct bounce_settings set = a->bounce;
	char *data_path = spool_data_path(a->spool, env->id);
	int ret = 0;

	set.now = t;
	for (size_t i = 0; i < st->rcpts.count; i++) {
		const struct queue_rcpt_state *r = &st->rcpts.items[i];
		char *diag;

		if (r->status != QUEUE_RCPT_PENDING)
			continue;
		diag = r->code != 0
		           ? xasprintf("x-tern; " GIVEN_UP_TEXT " (last reply: %u %s %s)", r->code,
		                       r->enhanced, r->text != NULL ? r->text : "")
		           : xstrdup("x-tern; " GIVEN_UP_TEXT);
		array_append(&diags, diag);
		array_append(&rcpts, ((struct dsn_rcpt){.rcpt = &env->rcpts.items[i],
		                                        .action = DSN_ACTION_FAILED,
		                                        .status = GIVEN_UP_STATUS,
		                                        .diagnostic = diag,
		                                        .remote_mta = r->mx,
		                                        .last_attempt = t}));
		queue_state_format(&(struct queue_state_event){.kind = QUEUE_EVENT_FAILED,
		                                               .time = t,
		                                               .rcpt = (unsigned)i,
		                                               .code = GIVEN_UP_CODE,
		                                               .status = GIVEN_UP_STATUS,
		                                               .text = GIVEN_UP_TEXT},
		                   &lines);
	}
	if (rcpts.count > 0 && bounce_write(a->spool, &set, env, data_path, rcpts.items,
	                                    rcpts.count, bounce_id_r, error_r) < 0)
		ret = -1;
	if (ret == 0 && *bounce_id_r != NULL)
		queue_admin_give_files(a->spool, *bounce_id_r);
	if (ret == 0 && lines.len > 0)
		ret = queue_state_append(state_path, &lines, error_r);
	if (ret == 0)
		ret = remove_entry(a->spool, env->id, state_path, error_r);
	for (size_t i = 0; i < diags.count; i++)
		free(diags.items[i]);
	array_free(&diags);
	array_free(&rcpts);
	buf_free(&lines);
	free(data_path);
	return ret;
}

static int act(const struct queue_admin *a, enum queue_request_verb verb,
               const struct spool_envelope *env, const char *state_path, char **bounce_id_r,
               const char **error_r)
{
	int64_t t = a->now != 0 ? a->now : (int64_t)time(NULL);
	struct queue_state st;
	struct buf b = BUF_INIT;
	int ret = 0;

	if (queue_state_read(state_path, env->rcpts.count, &st, error_r) < 0)
		return -1;
	switch (verb) {
	case QUEUE_REQ_HOLD:
	case QUEUE_REQ_RELEASE:
		if (st.held != (verb == QUEUE_REQ_HOLD)) {
			queue_state_format_record(verb == QUEUE_REQ_HOLD ? QUEUE_RECORD_HOLD
			                                                 : QUEUE_RECORD_RELEASE,
			                          t, &b);
			ret = append(a->spool, env->id, state_path, &b, error_r);
		}
		break;
	case QUEUE_REQ_FLUSH:
		queue_state_format_record(QUEUE_RECORD_FLUSH, t, &b);
		ret = append(a->spool, env->id, state_path, &b, error_r);
		break;
	case QUEUE_REQ_DELETE:
		ret = remove_entry(a->spool, env->id, state_path, error_r);
		break;
	case QUEUE_REQ_BOUNCE:
		ret = give_up(a, env, &st, state_path, t, bounce_id_r, error_r);
		break;
	case QUEUE_REQ_RULES:
		break;
	}
	buf_free(&b);
	queue_state_clear(&st);
	return ret;
}

enum queue_answer_kind queue_admin_act(const struct queue_admin *a, enum queue_request_verb verb,
                                       const char *id, char **bounce_id_r, const char **error_r)
{
	struct spool_envelope env;
	enum spool_error kind;
	char *state_path;
	int ret;

	*bounce_id_r = NULL;
	if (!spool_id_valid(id) || spool_read(a->spool, id, &env, &kind, error_r) < 0) {
		if (!spool_id_valid(id) || kind == SPOOL_ERROR_NOT_FOUND)
			return QUEUE_ANSWER_NOTFOUND;
		return QUEUE_ANSWER_ERROR;
	}
	state_path = xasprintf("%s/%s.state", spool_path(a->spool), id);
	ret = act(a, verb, &env, state_path, bounce_id_r, error_r);
	if (ret == 0)
		log_info(NULL, "event=queue.admin action=%s id=%s%s%s",
		         queue_request_verb_name(verb), id, *bounce_id_r != NULL ? " bounce=" : "",
		         *bounce_id_r != NULL ? *bounce_id_r : "");
	free(state_path);
	spool_envelope_clear(&env);
	return ret == 0 ? QUEUE_ANSWER_OK : QUEUE_ANSWER_ERROR;
}
