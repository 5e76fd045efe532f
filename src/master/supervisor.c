#include "master/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/array.h"
#include "lib/xalloc.h"
#include "master/channel.h"
#include "master/supervisor-private.h"
#include "net/listener.h"
#include "net/tls.h"

/* Milliseconds the roles get after SIGTERM before SIGKILL. */
#define STOP_TIMEOUT_MS 5000
/* A role that crashes within this many ms of its start is crashing in a
   loop: its restart delay doubles, up to RESTART_MAX_MS. */
#define CRASH_WINDOW_MS 10000
#define RESTART_MIN_MS  1000
#define RESTART_MAX_MS  30000

struct supervisor {
	const char *config_path;
	const struct settings_schema *schema;
	struct tern_settings *settings;
	SSL_CTX *tls;
	struct listener **listeners;
	size_t listener_count;
	const struct role_ops *const *roles;
	size_t role_count;
	const struct role_shared *shared;
	ARRAY(struct role_proc) procs;
	int sigfd;
	bool stopping;
	int64_t kill_at; /* ms; when stopping */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the server's resources: settings, listeners, TLS ---- */

struct generation {
	struct tern_settings *settings;
	struct listener **listeners;
	size_t listener_count;
	SSL_CTX *tls;
};

/* Load config, bind (reusing sup's sockets), load TLS. Returns 0, or -1
   with a malloc'ed reason (nothing changed in sup then). */
static int generation_load(struct supervisor *sup, struct generation *gen, char **error_r)
{
	memset(gen, 0, sizeof(*gen));
	if (settings_load(sup->schema, sup->config_path, &gen->settings, error_r) < 0)
		return -1;
	/* Checked here too (the roles check again when they switch), so a
	   missing account stops the start instead of a restart loop. */
	if (geteuid() == 0 && getpwnam(gen->settings->run_user) == NULL) {
		*error_r = xasprintf("%s: user %s does not exist", sup->config_path,
		                     gen->settings->run_user);
		settings_free(&gen->settings);
		return -1;
	}
	if (tls_needed(gen->settings) &&
	    tls_server_ctx_new(gen->settings, &gen->tls, error_r) < 0) {
		settings_free(&gen->settings);
		return -1;
	}
	if (listeners_open(gen->settings, sup->listeners, sup->listener_count, &gen->listeners,
	                   &gen->listener_count, error_r) < 0) {
		tls_ctx_free(&gen->tls);
		settings_free(&gen->settings);
		return -1;
	}
	return 0;
}

/* Make gen current; the old listeners left in sup (removed from the config)
   are closed here. */
static void generation_install(struct supervisor *sup, struct generation *gen)
{
	listeners_free(&sup->listeners, sup->listener_count);
	tls_ctx_free(&sup->tls);
	settings_free(&sup->settings);
	sup->settings = gen->settings;
	sup->listeners = gen->listeners;
	sup->listener_count = gen->listener_count;
	sup->tls = gen->tls;
	log_init("supervisor", sup->settings->log_level);
}

/* ---- role processes ---- */

/* In a new role process: close the supervisor's descriptors it must not
   keep (the signalfd, every other process's channel end). */
static void child_close_fds(struct supervisor *sup)
{
	close(sup->sigfd);
	for (size_t i = 0; i < sup->procs.count; i++) {
		if (sup->procs.items[i].chan >= 0)
			close(sup->procs.items[i].chan);
	}
}

static void proc_spawn(struct supervisor *sup, struct role_proc *p)
{
	int sv[2];
	pid_t pid;

	p->restart_at = 0;
	sv[0] = sv[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || (pid = fork()) < 0) {
		log_error(NULL, "event=role.fork_failed role=%s error=\"%s\"", p->ops->name,
		          strerror(errno));
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		p->restart_at = now_ms() + RESTART_MIN_MS;
		return;
	}
	if (pid == 0) {
		struct role_start start = {
		    .settings = sup->settings,
		    .tls = sup->tls,
		    .listeners = sup->listeners,
		    .listener_count = sup->listener_count,
		    .channel_fd = sv[1],
		    .process_index = p->index,
		    .process_count = p->count,
		    .shared = sup->shared,
		};
		close(sv[0]);
		child_close_fds(sup);
		role_run(p->ops, &start);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	p->chan = sv[0];
	channel_decoder_init(&p->dec);
	buf_clear(&p->out);
	p->pid = pid;
	p->started = now_ms();
	log_info(NULL, "event=role.started role=%s pid=%d process=%u", p->ops->name, (int)pid,
	         p->index);
}

/* Processes a role runs: `processes` (0: one per core) for a role with
   listeners, one for a role without. */
static unsigned role_process_count(const struct supervisor *sup, const struct role_ops *ops)
{
	long n = sup->settings->processes;

	if (ops->service_count == 0)
		return 1;
	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

static void procs_start_generation(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->role_count; i++) {
		unsigned count = role_process_count(sup, sup->roles[i]);

		for (unsigned k = 0; k < count; k++) {
			struct role_proc *p = array_push(&sup->procs);

			p->ops = sup->roles[i];
			p->index = k;
			p->count = count;
			p->chan = -1;
			proc_spawn(sup, p);
		}
	}
}

static struct role_proc *proc_find(struct supervisor *sup, pid_t pid)
{
	for (size_t i = 0; i < sup->procs.count; i++) {
		if (sup->procs.items[i].pid == pid)
			return &sup->procs.items[i];
	}
	return NULL;
}

static void proc_remove(struct supervisor *sup, struct role_proc *p)
{
	proc_channel_close(p);
	array_remove(&sup->procs, (size_t)(p - sup->procs.items));
}

static void proc_log_exit(const char *event, const struct role_proc *p, int status)
{
	if (WIFSIGNALED(status))
		log_info(NULL, "event=%s role=%s pid=%d signal=%d", event, p->ops->name,
		         (int)p->pid, WTERMSIG(status));
	else
		log_info(NULL, "event=%s role=%s pid=%d status=%d", event, p->ops->name,
		         (int)p->pid, WEXITSTATUS(status));
}

/* A current role died without being asked to: restart it later, backing
   off while it keeps dying young. */
static void proc_crashed(struct role_proc *p, int status)
{
	int64_t now = now_ms();

	proc_log_exit("role.crashed", p, status);
	proc_channel_close(p);
	if (now - p->started < CRASH_WINDOW_MS && p->backoff > 0)
		p->backoff = p->backoff * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : p->backoff * 2;
	else
		p->backoff = RESTART_MIN_MS;
	p->pid = 0;
	p->restart_at = now + p->backoff;
}

static void on_child_exit(struct supervisor *sup, pid_t pid, int status)
{
	struct role_proc *p = proc_find(sup, pid);

	if (p == NULL)
		return;
	if (p->old || sup->stopping) {
		proc_log_exit(p->old ? "role.drained" : "role.stopped", p, status);
		proc_remove(sup, p);
	} else {
		proc_crashed(p, status);
	}
}

static void reap_children(struct supervisor *sup)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		on_child_exit(sup, pid, status);
}

/* ---- the channels ---- */

static void on_role_msg(struct supervisor *sup, struct role_proc *p, const struct channel_msg *msg)
{
	switch (msg->type) {
	case CHANNEL_MAILBOX_CHANGED:
	case CHANNEL_MESSAGE_QUEUED:
		procs_fan_out(sup->procs.items, sup->procs.count, msg);
		break;
	case CHANNEL_METRICS:
		break; /* for the http role, later */
	case CHANNEL_RELOAD:
		log_warn(NULL, "event=channel.unexpected role=%s pid=%d type=reload", p->ops->name,
		         (int)p->pid);
		break;
	}
}

/* Read what p sent and act on each whole message. A malformed stream
   closes the channel: the role stops, exits and is restarted. */
static void proc_read(struct supervisor *sup, size_t i)
{
	unsigned char tmp[4096];
	struct channel_msg msg;
	const char *error;
	ssize_t n;
	int ret;

	n = read(sup->procs.items[i].chan, tmp, sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		proc_channel_close(&sup->procs.items[i]);
		return;
	}
	channel_decoder_feed(&sup->procs.items[i].dec, tmp, (size_t)n);
	/* Index, not pointer: fan_out does not move procs, but be plain. */
	while ((ret = channel_decoder_next(&sup->procs.items[i].dec, &msg, &error)) > 0)
		on_role_msg(sup, &sup->procs.items[i], &msg);
	if (ret < 0) {
		log_error(NULL, "event=channel.malformed role=%s pid=%d error=\"%s\"",
		          sup->procs.items[i].ops->name, (int)sup->procs.items[i].pid, error);
		proc_channel_close(&sup->procs.items[i]);
	}
}

/* ---- signals ---- */

static void sup_stop(struct supervisor *sup)
{
	if (sup->stopping)
		return;
	sup->stopping = true;
	sup->kill_at = now_ms() + STOP_TIMEOUT_MS;
	log_info(NULL, "event=server.stopping roles=%zu", sup->procs.count);
	for (size_t i = 0; i < sup->procs.count; i++) {
		if (sup->procs.items[i].pid > 0)
			kill(sup->procs.items[i].pid, SIGTERM);
	}
	/* Roles waiting for a restart are simply forgotten. */
	for (size_t i = sup->procs.count; i-- > 0;) {
		if (sup->procs.items[i].pid == 0)
			proc_remove(sup, &sup->procs.items[i]);
	}
}

static void sup_reload(struct supervisor *sup)
{
	struct generation gen;
	char *error;
	char *desc;

	if (generation_load(sup, &gen, &error) < 0) {
		char *v = log_value(error, strlen(error), 1000);
		log_error(NULL, "event=config.reload_failed error=%s", v);
		free(v);
		free(error);
		return;
	}
	for (size_t i = 0; i < sup->procs.count; i++) {
		struct role_proc *p = &sup->procs.items[i];
		/* The message, or the signal when the channel cannot take it. */
		if (!p->old && p->pid > 0 && proc_send(p, CHANNEL_RELOAD, NULL, 0) < 0)
			kill(p->pid, SIGUSR1);
		p->old = true;
	}
	/* Old roles waiting for a restart are replaced by the new ones. */
	for (size_t i = sup->procs.count; i-- > 0;) {
		if (sup->procs.items[i].pid == 0)
			proc_remove(sup, &sup->procs.items[i]);
	}
	generation_install(sup, &gen);
	procs_start_generation(sup);
	desc = listeners_describe(sup->listeners, sup->listener_count);
	log_info(NULL, "event=config.reloaded listeners=%s", desc);
	free(desc);
}

static void handle_signals(struct supervisor *sup)
{
	struct signalfd_siginfo si;

	while (read(sup->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			sup_stop(sup);
			break;
		case SIGHUP:
			if (!sup->stopping)
				sup_reload(sup);
			break;
		case SIGCHLD:
			reap_children(sup);
			break;
		default:
			break;
		}
	}
}

static int signals_init(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* ---- the loop ---- */

static int next_timeout(const struct supervisor *sup)
{
	int64_t now = now_ms();
	int64_t next = INT64_MAX;

	if (sup->stopping)
		next = sup->kill_at;
	for (size_t i = 0; i < sup->procs.count; i++) {
		if (sup->procs.items[i].restart_at > 0 && sup->procs.items[i].restart_at < next)
			next = sup->procs.items[i].restart_at;
	}
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void run_timers(struct supervisor *sup)
{
	int64_t now = now_ms();

	if (sup->stopping && now >= sup->kill_at) {
		for (size_t i = 0; i < sup->procs.count; i++) {
			log_warn(NULL, "event=role.killed role=%s pid=%d",
			         sup->procs.items[i].ops->name, (int)sup->procs.items[i].pid);
			kill(sup->procs.items[i].pid, SIGKILL);
		}
		for (size_t i = 0; i < sup->procs.count; i++) {
			waitpid(sup->procs.items[i].pid, NULL, 0);
			proc_channel_close(&sup->procs.items[i]);
		}
		array_clear(&sup->procs);
		return;
	}
	for (size_t i = 0; i < sup->procs.count && !sup->stopping; i++) {
		struct role_proc *p = &sup->procs.items[i];
		if (p->restart_at > 0 && now >= p->restart_at)
			proc_spawn(sup, p);
	}
}

static void sup_loop(struct supervisor *sup)
{
	ARRAY(struct pollfd) pfds = ARRAY_INIT;
	ARRAY(size_t) whichs = ARRAY_INIT; /* the proc of each pollfd after the first */

	while (!sup->stopping || sup->procs.count > 0) {
		struct pollfd *pfd;
		size_t n, *which;
		int ready;

		array_clear(&pfds);
		array_clear(&whichs);
		array_append(&pfds, ((struct pollfd){.fd = sup->sigfd, .events = POLLIN}));
		array_append(&whichs, 0);
		for (size_t i = 0; i < sup->procs.count; i++) {
			struct role_proc *p = &sup->procs.items[i];
			if (p->chan < 0)
				continue;
			array_append(&pfds,
			             ((struct pollfd){.fd = p->chan,
			                              .events = p->out.len > 0 ? POLLIN | POLLOUT
			                                                       : POLLIN}));
			array_append(&whichs, i);
		}
		pfd = pfds.items;
		which = whichs.items;
		n = pfds.count;
		ready = poll(pfd, n, next_timeout(sup));
		if (ready < 0 && errno != EINTR)
			log_fatal("event=supervisor.poll_failed error=\"%s\"", strerror(errno));
		/* Channels first: reaping (below) may remove procs. */
		for (size_t k = 1; ready > 0 && k < n; k++) {
			struct role_proc *p = &sup->procs.items[which[k]];
			if (p->chan != pfd[k].fd)
				continue;
			if (pfd[k].revents & POLLOUT)
				proc_flush(p);
			if (p->chan >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				proc_read(sup, which[k]);
		}
		if (ready > 0 && (pfd[0].revents & POLLIN))
			handle_signals(sup);
		run_timers(sup);
	}
	array_free(&pfds);
	array_free(&whichs);
}

static void sup_free(struct supervisor *sup)
{
	listeners_free(&sup->listeners, sup->listener_count);
	tls_ctx_free(&sup->tls);
	settings_free(&sup->settings);
	for (size_t i = 0; i < sup->procs.count; i++)
		proc_channel_close(&sup->procs.items[i]);
	array_free(&sup->procs);
	if (sup->sigfd >= 0)
		close(sup->sigfd);
}

int supervisor_run(const char *config_path, const struct settings_schema *schema,
                   const struct role_ops *const *roles, size_t role_count,
                   const struct role_shared *shared)
{
	struct supervisor sup = {.config_path = config_path,
	                         .schema = schema,
	                         .roles = roles,
	                         .role_count = role_count,
	                         .shared = shared,
	                         .sigfd = -1};
	struct generation gen;
	char *error, *desc;

	log_init("supervisor", LOG_INFO);
	if (generation_load(&sup, &gen, &error) < 0) {
		char *v = log_value(error, strlen(error), 1000);
		log_error(NULL, "event=server.failed error=%s", v);
		free(v);
		free(error);
		return 1;
	}
	generation_install(&sup, &gen);
	sup.sigfd = signals_init();
	if (sup.sigfd < 0)
		log_fatal("event=supervisor.signalfd_failed error=\"%s\"", strerror(errno));
	procs_start_generation(&sup);
	desc = listeners_describe(sup.listeners, sup.listener_count);
	log_info(NULL, "event=server.started pid=%d listeners=%s", (int)getpid(), desc);
	free(desc);
	sup_loop(&sup);
	log_info(NULL, "event=server.stopped");
	sup_free(&sup);
	return 0;
}
