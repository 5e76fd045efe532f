/* The milters in front of a policy (smtp-milter.h). */

#include "smtp/smtp-milter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/util.h>

#include "filter/filter-settings.h"
#include "filter/milter-client.h"
#include "filter/milter-codec.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-settings.h"
#include "store/delivery.h"

struct smtp_milter {
	struct smtp_policy inner;
	const struct tern_settings *settings;
	struct event_base *base;
	struct milter_def *defs; /* every milter of the config */
	size_t def_count;
};

struct mw_session {
	struct smtp_milter *m;
	void *inner_ctx;
	struct smtp_session *s;
	struct milter_session *ms; /* NULL: no milter for this service */
	struct milter_def *defs;   /* those serving the session's service */
	bool connected;            /* connect and HELO were sent */
	bool discard;              /* a milter said discard at MAIL or RCPT */
	char *rcpt;                /* the RCPT being asked about */
	int body_fd;               /* the message as it streams, -1: none */
	struct smtp_message *msg;
	/* what msg points to after the modifications */
	struct buf header;
	char *mail_from;
	struct buf trace;
	struct smtp_milter_rcpts rcpts;
};

/* One smtp_milter_rcpts_apply(): the lookups, one at a time. */
struct rcpt_job {
	struct smtp_rcpts *r;
	const struct smtp_milter_rcpts *ch;
	size_t next; /* over del then add */
	void (*done)(void *ctx);
	void *ctx;
};

/* ---- MAIL and RCPT ---- */

static void add_connect(struct mw_session *mw, struct milter_stage *st)
{
	const char *ip = smtp_session_peer_ip(mw->s);
	const struct tern_settings *set = mw->m->settings;
	const char *names[] = {"j", "{daemon_name}", "v", "_", "{client_addr}", "{client_name}"};
	const char *values[] = {
	    set->hostname, smtp_session_service(mw->s)->name, "Tern", ip, ip, ip};
	char family = smtp_session_peer_is_unix(mw->s) ? 'L' : strchr(ip, ':') != NULL ? '6' : '4';
	struct buf b = BUF_INIT;

	milter_encode_connect(&b, ip, family, 0, ip);
	milter_stage_add(st, &b, names, values, 6);
	if (smtp_session_helo(mw->s) != NULL) {
		buf_clear(&b);
		milter_encode_helo(&b, smtp_session_helo(mw->s));
		milter_stage_add(st, &b, NULL, NULL, 0);
	}
	buf_free(&b);
	mw->connected = true;
}

/* "<addr>" as MAIL and RCPT send it. */
static void add_args(struct milter_stage *st, char cmd, const char *addr, const char *name,
                     struct mw_session *mw)
{
	char *arg = xasprintf("<%s>", addr);
	const char *user = smtp_session_auth_user(mw->s);
	const char *names[] = {name, "{auth_type}", "{auth_authen}"};
	const char *values[] = {addr, user != NULL ? "PLAIN" : NULL, user};
	struct buf b = BUF_INIT;

	milter_encode_args(&b, cmd, (const char *const *)&arg, 1);
	milter_stage_add(st, &b, names, values, user != NULL ? 3 : 1);
	buf_free(&b);
	free(arg);
}

/* The end of DATA's answer: LMTP wants one per recipient (RFC 2033 4.2,
   smtp-policy.h); the last one may free the session. */
static void reply_message(struct mw_session *mw, unsigned code, const char *enhanced,
                          const char *text)
{
	struct smtp_session *s = mw->s;
	size_t n = smtp_session_service(s) == &smtp_service_lmtp && mw->msg != NULL
	               ? mw->msg->rcpt_count
	               : 1;

	for (size_t i = 0; i < n; i++)
		smtp_stage_reply(s, code, enhanced, "%s", text);
}

static void reply_refused(struct mw_session *mw, const struct milter_result *res, const char *stage)
{
	log_info(smtp_session_sid(mw->s), "event=milter.refused stage=%s milter=%s code=%u", stage,
	         res->milter != NULL ? res->milter : "-", res->code);
	if (strcmp(stage, "data") == 0)
		return reply_message(mw, res->code, NULL, res->text);
	smtp_stage_reply(mw->s, res->code, NULL, "%s", res->text);
}

static void mail_done(void *ctx, const struct milter_result *res)
{
	struct mw_session *mw = ctx;

	if (res->verdict == MILTER_REJECT || res->verdict == MILTER_TEMPFAIL)
		return reply_refused(mw, res, "mail");
	mw->discard = res->verdict == MILTER_DISCARD;
	mw->m->inner.ops->mail(mw->inner_ctx, mw->s);
}

static void mw_mail(void *ctx, struct smtp_session *s)
{
	struct mw_session *mw = ctx;
	struct milter_stage st = {0};

	if (mw->ms == NULL || !milter_session_active(mw->ms))
		return mw->m->inner.ops->mail(mw->inner_ctx, s);
	if (!mw->connected)
		add_connect(mw, &st);
	add_args(&st, SMFIC_MAIL, smtp_session_mail_from(s), "{mail_addr}", mw);
	milter_session_run(mw->ms, &st, mail_done, mw);
}

static void rcpt_done(void *ctx, const struct milter_result *res)
{
	struct mw_session *mw = ctx;

	if (res->verdict == MILTER_REJECT || res->verdict == MILTER_TEMPFAIL)
		return reply_refused(mw, res, "rcpt");
	mw->discard |= res->verdict == MILTER_DISCARD;
	mw->m->inner.ops->rcpt(mw->inner_ctx, mw->s, mw->rcpt);
}

static void mw_rcpt(void *ctx, struct smtp_session *s, const char *address)
{
	struct mw_session *mw = ctx;
	struct milter_stage st = {0};

	free(mw->rcpt);
	mw->rcpt = xstrdup(address);
	if (mw->ms == NULL || !milter_session_active(mw->ms))
		return mw->m->inner.ops->rcpt(mw->inner_ctx, s, mw->rcpt);
	add_args(&st, SMFIC_RCPT, address, "{rcpt_addr}", mw);
	milter_session_run(mw->ms, &st, rcpt_done, mw);
}

/* ---- the message ---- */

static void mw_feed(void *ctx, const void *data, size_t len)
{
	struct mw_session *mw = ctx;

	if (mw->m->inner.ops->data_feed != NULL)
		mw->m->inner.ops->data_feed(mw->inner_ctx, data, len);
	if (mw->ms == NULL || !milter_session_active(mw->ms))
		return;
	if (mw->body_fd < 0) {
		/* an unnamed file beside the spool: the body is never held whole */
		char *dir = xasprintf("%s/.spool", mw->m->settings->mail_dir);

		mkdir(dir, 0700);
		mw->body_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		free(dir);
		if (mw->body_fd < 0)
			mw->body_fd = -2; /* failed: the end of DATA says 451 */
	}
	if (mw->body_fd >= 0 && write(mw->body_fd, data, len) != (ssize_t)len) {
		close(mw->body_fd);
		mw->body_fd = -2;
	}
}

/* One SMFIC_HEADER per field of the header section: name, and the value
   without the space after the colon, folded lines joined by LF (as
   Postfix sends them). */
static void add_headers(struct milter_stage *st, const char *h, size_t len)
{
	const char *end = h + len;

	/* bounded: each round moves p past one field */
	for (const char *p = h; p < end;) {
		const char *f = p, *colon;
		struct buf name = BUF_INIT, value = BUF_INIT, b = BUF_INIT;

		do {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			p = eol != NULL ? eol + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		colon = memchr(f, ':', (size_t)(p - f));
		if (colon == NULL)
			continue;
		buf_append(&name, f, (size_t)(colon - f));
		colon++;
		if (colon < p && *colon == ' ')
			colon++;
		for (const char *q = colon; q < p; q++) {
			if (*q != '\r')
				buf_append_char(&value, *q);
		}
		if (value.len > 0 && value.data[value.len - 1] == '\n')
			value.data[--value.len] = '\0';
		milter_encode_header(&b, buf_cstr(&name), buf_cstr(&value));
		milter_stage_add(st, &b, NULL, NULL, 0);
		buf_free(&name);
		buf_free(&value);
		buf_free(&b);
	}
}

/* The body, from the copy of the message, read chunk by chunk as the
   milters answer (milter_stage_add_body_file()). */
static int add_body(struct mw_session *mw, struct milter_stage *st, off_t skip)
{
	struct stat stb;

	if (mw->body_fd == -2)
		return -1;
	if (mw->body_fd < 0)
		return 0; /* nothing was fed: no body */
	if (fstat(mw->body_fd, &stb) < 0)
		return -1;
	if (stb.st_size > skip)
		milter_stage_add_body_file(st, mw->body_fd, (uint64_t)skip,
		                           (uint64_t)(stb.st_size - skip));
	return 0;
}

/* ---- the modifications ---- */

struct field {
	const char *start;
	size_t len;
	char *made; /* a field a milter wrote, CRLF ended; NULL: start/len */
};

static bool field_is(const struct field *f, const char *name)
{
	size_t n = strlen(name);
	const char *p = f->made != NULL ? f->made : f->start;
	size_t len = f->made != NULL ? strlen(f->made) : f->len;

	return len > n && p[n] == ':' && strncasecmp(p, name, n) == 0;
}

/* "Name: value\r\n", the LFs of a folded value made CRLF. */
static char *make_field(const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: ", name);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_append_char(&b, '\r');
		buf_append_char(&b, *p);
	}
	buf_append_str(&b, "\r\n");
	return buf_steal(&b);
}

static void split_fields(const char *h, size_t len, struct field **fs_r, size_t *count_r)
{
	const char *end = h + len;
	size_t count = 0;

	*fs_r = NULL;
	for (const char *p = h; p < end;) {
		const char *f = p;

		do {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			p = eol != NULL ? eol + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		*fs_r = xreallocarray(*fs_r, count + 1, sizeof(**fs_r));
		(*fs_r)[count++] = (struct field){f, (size_t)(p - f), NULL};
	}
	*count_r = count;
}

static void insert_field(struct field **fs, size_t *count, size_t at, char *made)
{
	*fs = xreallocarray(*fs, *count + 1, sizeof(**fs));
	if (at > *count)
		at = *count;
	memmove(*fs + at + 1, *fs + at, (*count - at) * sizeof(**fs));
	(*fs)[at] = (struct field){NULL, 0, made};
	(*count)++;
}

/* SMFIR_CHGHEADER: the index-th (from 1) field called name gets value,
   or goes with an empty one; none that far: the field is added. */
static void change_field(struct field **fs, size_t *count, const struct milter_mod *mod)
{
	uint32_t seen = 0, want = mod->index > 0 ? mod->index : 1;

	for (size_t i = 0; i < *count; i++) {
		if (!field_is(&(*fs)[i], mod->name) || ++seen != want)
			continue;
		free((*fs)[i].made);
		if (mod->value == NULL || mod->value[0] == '\0') {
			memmove(*fs + i, *fs + i + 1, (*count - i - 1) * sizeof(**fs));
			(*count)--;
		} else {
			(*fs)[i] = (struct field){NULL, 0, make_field(mod->name, mod->value)};
		}
		return;
	}
	if (mod->value != NULL && mod->value[0] != '\0')
		insert_field(fs, count, *count, make_field(mod->name, mod->value));
}

/* The header section with the milters' changes, into mw->header. */
static void apply_headers(struct mw_session *mw, const struct milter_result *res)
{
	struct field *fs;
	size_t count;

	split_fields(mw->msg->header, mw->msg->header_len, &fs, &count);
	for (size_t i = 0; i < res->mod_count; i++) {
		const struct milter_mod *mod = &res->mods[i];

		if (mod->cmd == SMFIR_ADDHEADER)
			insert_field(&fs, &count, count, make_field(mod->name, mod->value));
		else if (mod->cmd == SMFIR_INSHEADER)
			insert_field(&fs, &count, mod->index, make_field(mod->name, mod->value));
		else if (mod->cmd == SMFIR_CHGHEADER)
			change_field(&fs, &count, mod);
	}
	buf_clear(&mw->header);
	for (size_t i = 0; i < count; i++) {
		if (fs[i].made != NULL)
			buf_append_str(&mw->header, fs[i].made);
		else
			buf_append(&mw->header, fs[i].start, fs[i].len);
		free(fs[i].made);
	}
	free(fs);
	mw->msg->header = mw->header.data != NULL ? mw->header.data : "";
	mw->msg->header_len = mw->header.len;
}

/* SMFIR_REPLBODY: a new spooled body in place of the old. */
static int replace_body(struct mw_session *mw, const struct buf *body)
{
	struct delivery *d;
	const char *error;

	if (delivery_begin(mw->m->settings->mail_dir, &d, &error) < 0 ||
	    delivery_write(d, body->data, body->len, &error) < 0) {
		delivery_abort(&d);
		log_error(smtp_session_sid(mw->s), "event=milter.body_error error=\"%s\"", error);
		return -1;
	}
	delivery_abort(&mw->msg->delivery);
	mw->msg->delivery = d;
	mw->msg->size = mw->msg->header_len + body->len;
	return 0;
}

/* The trace's Return-Path (RFC 5321 4.4) names the changed sender. */
static void set_return_path(struct mw_session *mw)
{
	struct smtp_message *msg = mw->msg;
	const char *end;

	if (msg->trace_len < 12 || strncasecmp(msg->trace, "Return-Path:", 12) != 0 ||
	    (end = memmem(msg->trace, msg->trace_len, "\r\n", 2)) == NULL)
		return;
	end += 2;
	struct buf b = BUF_INIT;
	buf_printf(&b, "Return-Path: <%s>\r\n", mw->mail_from);
	buf_append(&b, end, msg->trace_len - (size_t)(end - msg->trace));
	buf_free(&mw->trace);
	mw->trace = b;
	msg->trace = mw->trace.data;
	msg->trace_len = mw->trace.len;
}

static void push(char ***items, size_t *count, char *s)
{
	*items = xreallocarray(*items, *count + 1, sizeof(**items));
	(*items)[(*count)++] = s;
}

/* An address of SMFIR_ADDRCPT/DELRCPT, without its <>, for the policy. */
static void add_rcpt_change(struct mw_session *mw, const struct milter_mod *mod)
{
	size_t len = strlen(mod->name);
	char *addr = len >= 2 && mod->name[0] == '<' && mod->name[len - 1] == '>'
	                 ? xstrndup(mod->name + 1, len - 2)
	                 : xstrdup(mod->name);

	log_info(smtp_session_sid(mw->s), "event=milter.rcpt_%s rcpt=<%s>",
	         mod->cmd == SMFIR_DELRCPT ? "removed" : "added", addr);
	if (mod->cmd == SMFIR_DELRCPT)
		push(&mw->rcpts.del, &mw->rcpts.del_count, addr);
	else
		push(&mw->rcpts.add, &mw->rcpts.add_count, addr);
}

static void free_list(char ***items, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*count = 0;
}

/* What is applied of res before the wrapped policy's end of DATA; -1
   after answering 451. */
static int apply(struct mw_session *mw, const struct milter_result *res)
{
	const char *sid = smtp_session_sid(mw->s);

	apply_headers(mw, res);
	if (res->body_replaced && replace_body(mw, &res->body) < 0) {
		reply_message(mw, 451, "4.3.0", "Error: local problem, try again later");
		return -1;
	}
	for (size_t i = 0; i < res->mod_count; i++) {
		const struct milter_mod *mod = &res->mods[i];
		size_t len = strlen(mod->name);

		if (mod->cmd == SMFIR_CHGFROM) {
			free(mw->mail_from);
			/* without the <> */
			mw->mail_from = len >= 2 && mod->name[0] == '<'
			                    ? xstrndup(mod->name + 1, len - 2)
			                    : xstrdup(mod->name);
			mw->msg->mail_from = mw->mail_from;
			set_return_path(mw);
			log_info(sid, "event=milter.sender_changed from=<%s>", mw->mail_from);
		} else if (mod->cmd == SMFIR_ADDRCPT || mod->cmd == SMFIR_ADDRCPT_PAR ||
		           mod->cmd == SMFIR_DELRCPT) {
			add_rcpt_change(mw, mod);
		}
	}
	if (mw->rcpts.add_count + mw->rcpts.del_count > 0)
		mw->msg->milter_rcpts = &mw->rcpts;
	if (res->quarantine) {
		log_info(sid, "event=milter.quarantine milter=%s reason=\"%s\"",
		         res->milter != NULL ? res->milter : "-", res->quarantine_reason);
		mw->msg->quarantine = true;
	}
	return 0;
}

static void data_done(void *ctx, const struct milter_result *res)
{
	struct mw_session *mw = ctx;
	struct smtp_message *msg = mw->msg;

	if (res->verdict == MILTER_REJECT || res->verdict == MILTER_TEMPFAIL)
		return reply_refused(mw, res, "data");
	if (res->verdict == MILTER_DISCARD || mw->discard) {
		log_info(smtp_session_sid(mw->s), "event=milter.discard id=%s milter=%s", msg->id,
		         res->milter != NULL ? res->milter : "-");
		char *text = xasprintf("Ok: queued as %s", msg->id);
		reply_message(mw, 250, "2.0.0", text);
		free(text);
		return;
	}
	if (apply(mw, res) == 0)
		mw->m->inner.ops->data_end(mw->inner_ctx, mw->s, msg);
}

static void mw_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	struct mw_session *mw = ctx;
	struct milter_stage st = {0};
	struct buf b = BUF_INIT;
	const char *names[] = {"i"};
	const char *values[] = {msg->id};

	mw->msg = msg;
	if (mw->ms == NULL || !milter_session_active(mw->ms))
		return mw->m->inner.ops->data_end(mw->inner_ctx, s, msg);
	milter_encode_simple(&b, SMFIC_DATA);
	milter_stage_add(&st, &b, names, values, 1);
	add_headers(&st, msg->header, msg->header_len);
	buf_clear(&b);
	milter_encode_simple(&b, SMFIC_EOH);
	milter_stage_add(&st, &b, NULL, NULL, 0);
	if (add_body(mw, &st, (off_t)(msg->header_len + (msg->header_ended ? 2 : 0))) < 0) {
		buf_free(&b);
		milter_stage_clear(&st);
		return reply_message(mw, 451, "4.3.0", "Error: local problem, try again later");
	}
	buf_clear(&b);
	milter_encode_simple(&b, SMFIC_BODYEOB);
	milter_stage_add(&st, &b, names, values, 1);
	buf_free(&b);
	milter_session_run(mw->ms, &st, data_done, mw);
}

/* ---- recipient changes, for the policies ---- */

static void remove_user(struct smtp_rcpts *r, const char *name)
{
	for (size_t i = 0; i < r->users.count; i++) {
		if (strcasecmp(r->users.items[i].name, name) == 0) {
			free(r->users.items[i].name);
			free(r->users.items[i].maildir);
			array_remove(&r->users, i);
			return;
		}
	}
}

/* The remote recipient address, and those the RCPT alias expanded to. */
static void remove_remote(struct smtp_rcpts *r, const char *address)
{
	/* bounded: each round removes an item or moves on */
	for (size_t i = 0; i < r->remotes.count;) {
		struct smtp_rcpt_remote *x = &r->remotes.items[i];

		if (strcasecmp(x->address, address) != 0 &&
		    (x->alias == NULL || strcasecmp(x->alias, address) != 0)) {
			i++;
			continue;
		}
		free(x->address);
		free(x->alias);
		array_remove(&r->remotes, i);
	}
}

static void rcpt_next(struct rcpt_job *job);

static void rcpt_resolved(void *ctx, int ret, struct directory_resolution *res, const char *error)
{
	struct rcpt_job *job = ctx;
	bool del = job->next <= job->ch->del_count;
	const char *addr =
	    del ? job->ch->del[job->next - 1] : job->ch->add[job->next - 1 - job->ch->del_count];
	const char *sid = smtp_session_sid(job->r->s);

	if (ret < 0 || res->result == DIRECTORY_UNKNOWN) {
		log_warn(sid, "event=milter.rcpt_skipped rcpt=<%s> error=\"%s\"", addr,
		         ret < 0 ? error : "no such user");
	} else if (res->result == DIRECTORY_NOT_LOCAL) {
		if (del)
			remove_remote(job->r, addr);
		else
			smtp_rcpts_add_remote(job->r, addr, NULL);
	} else {
		for (size_t i = 0; del && i < res->local_count; i++)
			remove_user(job->r, res->local[i]);
		if (!del && smtp_rcpts_add_users(job->r, res) < 0)
			log_warn(sid, "event=milter.rcpt_skipped rcpt=<%s>", addr);
		for (size_t i = 0; i < res->remote_count; i++) {
			if (del)
				remove_remote(job->r, res->remote[i]);
			else
				smtp_rcpts_add_remote(job->r, res->remote[i], addr);
		}
		if (del)
			remove_remote(job->r, addr);
	}
	rcpt_next(job);
}

static void rcpt_next(struct rcpt_job *job)
{
	size_t i = job->next++;

	if (i < job->ch->del_count)
		return directory_async_resolve(job->r->env->dir, job->ch->del[i], rcpt_resolved,
		                               job);
	if (i - job->ch->del_count < job->ch->add_count)
		return directory_async_resolve(
		    job->r->env->dir, job->ch->add[i - job->ch->del_count], rcpt_resolved, job);
	job->done(job->ctx);
	free(job);
}

void smtp_milter_rcpts_apply(struct smtp_rcpts *r, const struct smtp_milter_rcpts *ch,
                             void (*done)(void *ctx), void *ctx)
{
	struct rcpt_job *job = xcalloc(1, sizeof(*job));

	job->r = r;
	job->ch = ch;
	job->done = done;
	job->ctx = ctx;
	/* ch holds one address or more: the first lookup answers later */
	rcpt_next(job);
}

/* ---- the session ---- */

static void mw_reset(void *ctx)
{
	struct mw_session *mw = ctx;

	if (mw->ms != NULL)
		milter_session_abort(mw->ms);
	if (mw->body_fd >= 0)
		close(mw->body_fd);
	mw->body_fd = -1;
	mw->discard = false;
	mw->msg = NULL;
	buf_free(&mw->header);
	buf_free(&mw->trace);
	free_list(&mw->rcpts.add, &mw->rcpts.add_count);
	free_list(&mw->rcpts.del, &mw->rcpts.del_count);
	free(mw->mail_from);
	mw->mail_from = NULL;
	if (mw->m->inner.ops->reset != NULL)
		mw->m->inner.ops->reset(mw->inner_ctx);
}

static void mw_session_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct smtp_milter *m = policy;
	struct mw_session *mw = xcalloc(1, sizeof(*mw));
	const char *service = smtp_session_service(s)->name;
	size_t n = 0;

	mw->m = m;
	mw->s = s;
	mw->body_fd = -1;
	mw->defs = xcalloc(m->def_count + 1, sizeof(*mw->defs));
	for (size_t i = 0; i < m->def_count; i++) {
		const struct milter_settings *ms = milter_settings(m->settings)->items[i];

		if (milter_settings_serves(ms, service))
			mw->defs[n++] = m->defs[i];
	}
	if (n > 0)
		mw->ms = milter_session_new(m->base, mw->defs, n, smtp_session_sid(s));
	m->inner.ops->session_begin(m->inner.policy, s, &mw->inner_ctx);
	*ctx_r = mw;
}

static void mw_session_end(void *ctx)
{
	struct mw_session *mw = ctx;

	mw_reset(mw);
	mw->m->inner.ops->session_end(mw->inner_ctx);
	milter_session_free(&mw->ms);
	free(mw->rcpt);
	free(mw->defs);
	free(mw);
}

static const struct smtp_policy_ops mw_ops = {
    .session_begin = mw_session_begin,
    .session_end = mw_session_end,
    .mail = mw_mail,
    .rcpt = mw_rcpt,
    .data_feed = mw_feed,
    .data_end = mw_data_end,
    .reset = mw_reset,
};

static bool address_ok(const char *address)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (address == NULL)
		return false;
	if (strncmp(address, "unix:", 5) == 0)
		return address[5] == '/' &&
		       strlen(address + 5) < sizeof(((struct sockaddr_un *)0)->sun_path);
	return evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss, &len) == 0;
}

int smtp_milter_wrap(struct smtp_policy *policy, const struct tern_settings *settings,
                     struct event_base *base, struct smtp_milter **m_r, const char **error_r)
{
	const struct settings_labelled *l = milter_settings(settings);
	struct smtp_milter *m;

	*m_r = NULL;
	if (l->count == 0 || policy->ops == NULL)
		return 0;
	m = xcalloc(1, sizeof(*m));
	m->inner = *policy;
	m->settings = settings;
	m->base = base;
	m->defs = xcalloc(l->count, sizeof(*m->defs));
	m->def_count = l->count;
	for (size_t i = 0; i < l->count; i++) {
		const struct milter_settings *ms = l->items[i];

		if (!address_ok(ms->address)) {
			log_error(NULL, "event=milter.bad_address milter=%s address=%s", ms->name,
			          ms->address != NULL ? ms->address : "-");
			free(m->defs);
			free(m);
			*error_r = "a milter's address is not IP:PORT, [IPv6]:PORT or unix:/path";
			return -1;
		}
		m->defs[i] = (struct milter_def){ms->name, ms->address, ms->default_action,
		                                 ms->connect_timeout, ms->timeout};
	}
	policy->ops = &mw_ops;
	policy->policy = m;
	*m_r = m;
	return 0;
}

void smtp_milter_free(struct smtp_milter **m)
{
	if (*m == NULL)
		return;
	free((*m)->defs);
	free(*m);
	*m = NULL;
}
