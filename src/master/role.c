#include "master/role.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "guard/guard-sync.h"
#include "guard/guard.h"
#include "lib/cidr.h"
#include "lib/xalloc.h"
#include "master/channel.h"
#include "master/role-proxy.h"
#include "master/sandbox.h"
#include "net/conn-set.h"
#include "net/conn.h"

/* Connections taken per wakeup of one listener, so one busy listener does
   not starve the others or the sessions. */
#define ACCEPT_BATCH 64
/* Seconds to stop accepting after running out of file descriptors. */
#define ACCEPT_BACKOFF 1

struct role_listener {
	struct role_state *rs;
	struct listener *l;
	struct event *ev;
};

struct role_state {
	const struct role_ops *ops;
	struct role_ctx ctx;
	struct role_listener *listeners;
	size_t listener_count;
	struct event *sig_term, *sig_usr1;
	struct event *stop_deadline;  /* ROLE_STOP_GRACE after a stop */
	struct event *drain_deadline; /* ROLE_DRAIN_LIMIT after a drain */
	struct event *accept_retry;
	time_t last_limit_log;
	unsigned limit_suppressed;
	int accept_batch; /* connections taken per wakeup */
	bool stopping, draining;
	struct guard_sync *guard_sync; /* housekeeping roles only */
};

bool role_serves(const struct role_ops *ops, const struct service_def *service)
{
	for (size_t i = 0; i < ops->service_count; i++) {
		if (ops->services[i] == service)
			return true;
	}
	return false;
}

/* ---- process setup ---- */

static void drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 && getuid() != 0)
		return;
	pw = getpwnam(user);
	if (pw == NULL)
		log_fatal("event=role.no_user user=%s reason=\"run_user does not exist\"", user);
	if (pw->pw_uid == 0)
		log_fatal("event=role.root_user user=%s reason=\"run_user must not be root\"",
		          user);
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		log_fatal("event=role.setuid_failed user=%s error=\"%s\"", user, strerror(errno));
	/* Paranoia: a partial drop (saved uid still 0) must not go unnoticed. */
	if (setuid(0) == 0 || seteuid(0) == 0 || geteuid() == 0 || getuid() == 0)
		log_fatal("event=role.setuid_failed user=%s error=\"root can be regained\"", user);
}

static void setup_signals(void)
{
	sigset_t none;

	/* The supervisor relays SIGTERM; a terminal's SIGINT/SIGHUP to the
	   whole process group must not stop or kill the roles on their own. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void die_with_parent(pid_t parent)
{
	/* Set after the privilege drop: changing credentials clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_fatal("event=role.prctl_failed error=\"%s\"", strerror(errno));
	if (getppid() != parent)
		exit(0); /* the supervisor died before we got here */
}

/* ---- accepting ---- */

static void role_listeners_close(struct role_state *rs)
{
	for (size_t i = 0; i < rs->listener_count; i++) {
		if (rs->listeners[i].ev == NULL)
			continue;
		event_free(rs->listeners[i].ev);
		rs->listeners[i].ev = NULL;
		close(rs->listeners[i].l->fd);
		rs->listeners[i].l->fd = -1;
	}
	if (rs->accept_retry != NULL)
		event_del(rs->accept_retry);
}

static void role_accepting(struct role_state *rs, bool on)
{
	for (size_t i = 0; i < rs->listener_count; i++) {
		if (rs->listeners[i].ev == NULL)
			continue;
		if (on)
			event_add(rs->listeners[i].ev, NULL);
		else
			event_del(rs->listeners[i].ev);
	}
}

/* One log line per second at most for refused connections, so a flood
   does not become a log flood. */
static void log_refused(struct role_state *rs, const char *why, const char *ip)
{
	time_t now = time(NULL);

	if (now == rs->last_limit_log) {
		rs->limit_suppressed++;
		return;
	}
	log_warn(NULL, "event=conn.refused reason=%s ip=%s suppressed=%u", why, ip,
	         rs->limit_suppressed);
	rs->last_limit_log = now;
	rs->limit_suppressed = 0;
}

static bool role_admit(struct role_state *rs, int fd, const struct sockaddr *peer,
                       socklen_t peerlen)
{
	const char *why = NULL;
	char text[INET6_ADDRSTRLEN];
	char *ip;

	conn_addr_text(peer, text, sizeof(text));
	if (rs->ctx.guard != NULL &&
	    guard_banned(rs->ctx.guard, guard_settings(rs->ctx.settings), text, time(NULL), NULL)) {
		/* no banner, and one log line a second at most */
		log_refused(rs, "banned", text);
		close(fd);
		return false;
	}
	if (conn_count() >= ROLE_MAX_CONNECTIONS)
		why = "too-many-connections";
	else if (conn_count_for_peer(peer, peerlen) >= ROLE_MAX_CONNECTIONS_PER_IP)
		why = "too-many-connections-from-ip";
	if (why == NULL)
		return true;
	ip = listener_addr_name(peer, peerlen);
	log_refused(rs, why, ip);
	free(ip);
	close(fd);
	return false;
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	role_accepting(arg, true);
}

/* Returns false when accepting should stop for this wakeup. */
static bool accept_failed(struct role_state *rs, int err)
{
	struct timeval tv = {ACCEPT_BACKOFF, 0};

	switch (err) {
	case EAGAIN:
	case EINTR:
		return false;
	case ECONNABORTED:
	case EPROTO:
		return true;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_error(NULL, "event=accept.failed error=\"%s\" action=pause", strerror(err));
		role_accepting(rs, false);
		evtimer_add(rs->accept_retry, &tv);
		return false;
	default:
		log_error(NULL, "event=accept.failed error=\"%s\"", strerror(err));
		return false;
	}
}

static void admit_and_accept(struct role_state *rs, int fd, const struct sockaddr *peer,
                             socklen_t peerlen, struct listener *l)
{
	if (role_admit(rs, fd, peer, peerlen))
		rs->ops->accept(&rs->ctx, fd, peer, peerlen, l->service, l->tls);
}

/* A PROXY header arrived: the connection is the client's from now on. */
static void proxied(void *context, int fd, const struct sockaddr *peer, socklen_t peerlen,
                    struct listener *l)
{
	admit_and_accept(context, fd, peer, peerlen, l);
}

/* Must peer send a PROXY header first (listener { proxy_protocol })? */
static bool from_proxy(const struct listener *l, const struct sockaddr *peer)
{
	char ip[INET6_ADDRSTRLEN];

	if (l->proxy_from_count == 0)
		return false;
	conn_addr_text(peer, ip, sizeof(ip));
	return ip_in_networks(ip, l->proxy_from, l->proxy_from_count);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct role_listener *rl = arg;
	struct role_state *rs = rl->rs;

	for (int i = 0; i < rs->accept_batch && rl->ev != NULL; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (!accept_failed(rs, errno))
				return;
			continue;
		}
		if (from_proxy(rl->l, (struct sockaddr *)&ss)) {
			role_proxy_wait(rs->ctx.base, fd, (struct sockaddr *)&ss, len, rl->l,
			                proxied, rs);
			continue;
		}
		admit_and_accept(rs, fd, (struct sockaddr *)&ss, len, rl->l);
	}
}

/* Keep the listeners this role serves; close the others' inherited fds. */
static void role_listeners_init(struct role_state *rs, struct listener *const *listeners,
                                size_t count)
{
	rs->listeners = xcalloc(count + 1, sizeof(*rs->listeners));
	for (size_t i = 0; i < count; i++) {
		struct role_listener *rl;

		if (!role_serves(rs->ops, listeners[i]->service)) {
			close(listeners[i]->fd);
			listeners[i]->fd = -1;
			continue;
		}
		rl = &rs->listeners[rs->listener_count++];
		rl->rs = rs;
		rl->l = listeners[i];
		rl->ev = event_new(rs->ctx.base, rl->l->fd, EV_READ | EV_PERSIST, on_accept, rl);
		if (rl->ev == NULL)
			log_fatal("event=role.event_failed");
	}
	rs->accept_retry = evtimer_new(rs->ctx.base, on_accept_retry, rs);
}

/* ---- stopping and draining ---- */

static void on_empty(void *arg)
{
	struct role_state *rs = arg;

	if (rs->stopping || rs->draining)
		event_base_loopexit(rs->ctx.base, NULL);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct role_state *rs = arg;

	if (conn_count() > 0)
		log_info(NULL, "event=role.abort_sessions count=%zu", conn_count());
	conn_abort_all("server stopping");
	event_base_loopexit(rs->ctx.base, NULL);
}

static void role_stop(struct role_state *rs)
{
	struct timeval tv = {ROLE_STOP_GRACE, 0};

	if (rs->stopping)
		return;
	rs->stopping = true;
	role_listeners_close(rs);
	conn_shutdown_all();
	if (conn_count() == 0) {
		event_base_loopexit(rs->ctx.base, NULL);
		return;
	}
	rs->stop_deadline = evtimer_new(rs->ctx.base, on_stop_deadline, rs);
	evtimer_add(rs->stop_deadline, &tv);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	role_stop(arg);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	log_info(NULL, "event=role.stopping sessions=%zu", conn_count());
	role_stop(arg);
}

static void role_drain(struct role_state *rs)
{
	struct timeval tv = {ROLE_DRAIN_LIMIT, 0};

	if (rs->draining || rs->stopping)
		return;
	log_info(NULL, "event=role.draining sessions=%zu", conn_count());
	rs->draining = true;
	role_listeners_close(rs);
	if (conn_count() == 0) {
		event_base_loopexit(rs->ctx.base, NULL);
		return;
	}
	rs->drain_deadline = evtimer_new(rs->ctx.base, on_drain_deadline, rs);
	evtimer_add(rs->drain_deadline, &tv);
}

static void on_sigusr1(evutil_socket_t sig, short what, void *arg)
{
	role_drain(arg);
}

/* ---- the channel to the supervisor ---- */

static void on_channel_msg(const struct channel_msg *msg, void *arg)
{
	struct role_state *rs = arg;

	switch (msg->type) {
	case CHANNEL_RELOAD:
		role_drain(rs);
		break;
	case CHANNEL_MAILBOX_CHANGED:
		if (rs->ops->mailbox_changed != NULL)
			rs->ops->mailbox_changed(&rs->ctx, msg->name);
		break;
	case CHANNEL_MESSAGE_QUEUED:
		if (rs->ops->message_queued != NULL)
			rs->ops->message_queued(&rs->ctx, msg->name);
		break;
	case CHANNEL_METRICS:
		break;
	}
}

/* The supervisor is gone or broken: without it there are no reloads or
   notifications, so stop (PR_SET_PDEATHSIG usually comes first). */
static void on_channel_close(const char *reason, void *arg)
{
	struct role_state *rs = arg;

	log_warn(NULL, "event=role.channel_closed reason=\"%s\"", reason);
	role_stop(rs);
}

static void role_notify(struct role_ctx *ctx, enum channel_type type, const char *name)
{
	const char *error;

	if (ctx->channel == NULL)
		return; /* run without a supervisor (tests) */
	if (channel_send(ctx->channel, type, name, strlen(name), &error) < 0) {
		char *v = log_value(name, strlen(name), 100);
		log_warn(NULL, "event=role.notify_dropped type=%d name=%s error=\"%s\"", (int)type,
		         v, error);
		free(v);
	}
}

void role_notify_mailbox_changed(struct role_ctx *ctx, const char *user)
{
	role_notify(ctx, CHANNEL_MAILBOX_CHANGED, user);
}

void role_notify_message_queued(struct role_ctx *ctx, const char *id)
{
	role_notify(ctx, CHANNEL_MESSAGE_QUEUED, id);
}

static void role_signals_init(struct role_state *rs)
{
	rs->sig_term = evsignal_new(rs->ctx.base, SIGTERM, on_sigterm, rs);
	rs->sig_usr1 = evsignal_new(rs->ctx.base, SIGUSR1, on_sigusr1, rs);
	if (rs->sig_term == NULL || rs->sig_usr1 == NULL || event_add(rs->sig_term, NULL) < 0 ||
	    event_add(rs->sig_usr1, NULL) < 0)
		log_fatal("event=role.signal_failed");
}

static void role_free(struct role_state *rs)
{
	role_listeners_close(rs);
	event_free(rs->accept_retry);
	event_free(rs->sig_term);
	event_free(rs->sig_usr1);
	if (rs->stop_deadline != NULL)
		event_free(rs->stop_deadline);
	if (rs->drain_deadline != NULL)
		event_free(rs->drain_deadline);
	free(rs->listeners);
	channel_free(&rs->ctx.channel);
	workpool_free(&rs->ctx.pool);
	guard_free(&rs->ctx.guard);
	event_base_free(rs->ctx.base);
}

void role_run(const struct role_ops *ops, const struct role_start *start)
{
	pid_t parent = getppid();
	struct role_state rs = {.ops = ops};
	const struct tern_settings *settings = start->settings;
	const char *error;

	log_init(ops->name, settings->log_level);
	setup_signals();
	drop_privileges(settings->run_user);
	die_with_parent(parent);
	/* Before any thread starts: Landlock binds the calling thread and the
	   threads it starts later, not those already running. */
	sandbox_enter(settings);
	rs.ctx.settings = settings;
	rs.ctx.tls = start->tls;
	rs.ctx.process_index = start->process_index;
	rs.ctx.shared = start->shared;
	if (start->shared != NULL)
		rs.ctx.guard = guard_new(start->shared->guard);
	/* Several processes share each listening socket: taking one
	   connection per wakeup lets the least busy one take the next. */
	rs.accept_batch = start->process_count > 1 ? 1 : ACCEPT_BATCH;
	rs.ctx.base = event_base_new();
	if (rs.ctx.base == NULL)
		log_fatal("event=role.event_base_failed");
	rs.ctx.pool = workpool_new(rs.ctx.base, ROLE_WORKER_THREADS);
	role_listeners_init(&rs, start->listeners, start->listener_count);
	role_signals_init(&rs);
	if (start->channel_fd >= 0)
		rs.ctx.channel = channel_new(rs.ctx.base, start->channel_fd, on_channel_msg,
		                             on_channel_close, &rs);
	conn_set_empty_hook(on_empty, &rs);
	if (ops->init(&rs.ctx, &error) < 0)
		log_fatal("event=role.init_failed error=\"%s\"", error);
	if (ops->housekeeping && rs.ctx.guard != NULL)
		rs.guard_sync =
		    guard_sync_start(rs.ctx.base, rs.ctx.pool, rs.ctx.guard,
		                     guard_settings(settings), settings->directory_path);
	role_accepting(&rs, true);
	log_info(NULL, "event=role.ready pid=%d listeners=%zu process=%u", (int)getpid(),
	         rs.listener_count, start->process_index);
	event_base_dispatch(rs.ctx.base);
	conn_abort_all("server stopping");
	role_proxy_abort_all();
	guard_sync_stop(&rs.guard_sync);
	/* Jobs still running get their done() before the role's state goes. */
	workpool_free(&rs.ctx.pool);
	ops->deinit(&rs.ctx);
	role_free(&rs);
	log_info(NULL, "event=role.exit");
	exit(0);
}
