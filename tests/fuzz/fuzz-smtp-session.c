/* Fuzz target for a whole SMTP session (src/smtp): the session runs on a
   socketpair on its own event loop, with a policy that answers its stages
   from the input. Input: 4 control bytes, then what the client sends.
     byte 0: bit 0 MAIL pends, bit 1 RCPT pends, bit 2 DATA end pends,
             bit 3 the connection dies under the first pending stage,
             bit 4 the submission service with TLS required, or the lmtp
             service (one DATA reply per recipient) when byte 1 has bit 7,
             bits 5-7 the client's write chunk size (1, 2, 7, 64, 512, ...);
     bytes 1-3: the reply codes, one per stage, in turn.
   Nothing leaves the process. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/cli-settings.h"
#include "lib/log.h"
#include "lib/settings-private.h"
#include "lib/xalloc.h"
#include "net/conn-set.h"
#include "smtp/smtp-server.h"
#include "store/delivery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fpolicy {
	unsigned flags;
	const uint8_t *codes;
	unsigned turn;
	struct smtp_session *pending;
	bool killed;
	bool lmtp;
	size_t owed; /* DATA end replies still to give (LMTP: one per recipient) */
	int sessions;
};

static struct event_base *base;
static struct tern_settings *settings;
static struct role_ctx role;
static char data_dir[] = "/tmp/tern-fuzz-smtp-session-XXXXXX";

/* Every spool file is gone by then: only the directories are left. */
static void remove_dirs(void)
{
	char *spool = xasprintf("%s/mail/.spool", data_dir);
	char *mail = xasprintf("%s/mail", data_dir);

	rmdir(spool);
	rmdir(mail);
	rmdir(data_dir);
	free(spool);
	free(mail);
}

static unsigned next_code(struct fpolicy *fp, const char **enhanced_r)
{
	static const unsigned codes[] = {250, 251, 421, 450, 451, 452, 500, 550, 552, 554};
	static const char *const enh[] = {"2.0.0", "2.1.5", "4.3.0", "4.2.0", "4.3.0",
	                                  "4.5.3", "5.5.1", "5.1.1", "5.3.4", "5.7.1"};
	unsigned i = fp->codes[fp->turn++ % 3] % (sizeof(codes) / sizeof(codes[0]));

	/* mostly yes, so that transactions get far */
	if ((fp->codes[(fp->turn + 1) % 3] & 3) != 0)
		i = 0;
	*enhanced_r = enh[i];
	return codes[i];
}

static void answer(struct fpolicy *fp, struct smtp_session *s)
{
	const char *enhanced;
	unsigned code = next_code(fp, &enhanced);

	smtp_stage_reply(s, code, enhanced, "fuzz %u", code);
}

static void stage(struct fpolicy *fp, struct smtp_session *s, unsigned bit)
{
	if ((fp->flags & bit) != 0 && fp->pending == NULL)
		fp->pending = s;
	else
		answer(fp, s);
}

static void fp_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct fpolicy *fp = policy;

	fp->sessions++;
	*ctx_r = fp;
}

static void fp_end(void *ctx)
{
	((struct fpolicy *)ctx)->sessions--;
}

static void fp_mail(void *ctx, struct smtp_session *s)
{
	stage(ctx, s, 1);
}

static void fp_rcpt(void *ctx, struct smtp_session *s, const char *addr)
{
	if (addr == NULL || strchr(addr, '@') == NULL)
		abort(); /* the session hands over normalised addresses only */
	stage(ctx, s, 2);
}

static void fp_feed(void *ctx, const void *p, size_t len)
{
}

static void fp_data_end(void *ctx, struct smtp_session *s, struct smtp_message *msg)
{
	if (msg->rcpt_count == 0 || msg->delivery == NULL || msg->trace_len == 0)
		abort();
	struct fpolicy *fp = ctx;

	delivery_abort(&msg->delivery);
	fp->owed = fp->lmtp ? msg->rcpt_count : 1;
	if ((fp->flags & 4) != 0 && fp->pending == NULL) {
		fp->pending = s;
		return;
	}
	while (fp->owed > 0) {
		fp->owed--;
		answer(fp, s);
	}
}

static const struct smtp_policy_ops fp_ops = {
    .session_begin = fp_begin,
    .session_end = fp_end,
    .mail = fp_mail,
    .rcpt = fp_rcpt,
    .data_feed = fp_feed,
    .data_end = fp_data_end,
};

static void init_once(void)
{
	char *conf, *error = NULL;

	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz", LOG_ERROR);
	if (mkdtemp(data_dir) == NULL)
		abort();
	atexit(remove_dirs);
	conf = xasprintf("hostname = mx.test\ndata_dir = %s\nlimits {\n max_errors = 50\n}\n",
	                 data_dir);
	if (settings_load_buffer(&tern_settings_schema, "/fuzz/tern.conf", conf, strlen(conf),
	                         &settings, &error) < 0)
		abort();
	free(conf);
	base = event_base_new();
	role.base = base;
	role.settings = settings;
}

static void pump(int client)
{
	char sink[4096];

	for (int i = 0; i < 4; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (client >= 0 && read(client, sink, sizeof(sink)) > 0)
			;
	}
}

/* Answer a waiting stage, first killing the connection under it when the
   input says so. */
static void settle(struct fpolicy *fp, int client)
{
	struct smtp_session *s = fp->pending;

	if (s == NULL)
		return;
	fp->pending = NULL;
	if ((fp->flags & 8) != 0 && !fp->killed) {
		fp->killed = true;
		conn_abort_all("fuzz");
		if (!smtp_session_gone(s))
			abort();
	}
	if (fp->owed > 0) {
		/* a DATA end stage: the session lives until its last reply */
		fp->owed--;
		answer(fp, s);
		if (fp->owed > 0)
			fp->pending = s;
	} else {
		answer(fp, s);
	}
	pump(client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 2, 7, 64, 512, 4096, 65536, 1 << 20};
	struct fpolicy fp = {0};
	struct smtp_server *server;
	struct smtp_policy policy;
	size_t chunk, pos = 4;
	int sv[2];

	if (size < 4)
		return 0;
	if (base == NULL)
		init_once();
	fp.flags = data[0];
	fp.codes = data + 1;
	fp.lmtp = (data[0] & 16) != 0 && (data[1] & 128) != 0;
	chunk = chunks[data[0] >> 5];
	policy = (struct smtp_policy){&fp_ops, &fp, (data[0] & 16) != 0 && !fp.lmtp, false};
	server = smtp_server_new(&role, &policy);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	smtp_server_accept_fd(server, sv[1],
	                      fp.lmtp               ? &smtp_service_lmtp
	                      : (data[0] & 16) != 0 ? &smtp_service_submission
	                                            : &smtp_service_smtp);
	while (pos < size && fp.sessions > 0) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		ssize_t w = write(sv[0], data + pos, n);

		if (w > 0)
			pos += (size_t)w;
		else if (fp.pending == NULL && w < 0)
			break; /* the server stopped reading for good (closing) */
		pump(sv[0]);
		settle(&fp, sv[0]);
	}
	shutdown(sv[0], SHUT_WR);
	for (int i = 0; i < 8 && fp.sessions > 0; i++) {
		pump(sv[0]);
		settle(&fp, sv[0]);
	}
	close(sv[0]);
	pump(-1);
	settle(&fp, -1);
	if (fp.sessions > 0) {
		conn_abort_all("fuzz end");
		settle(&fp, -1);
	}
	if (fp.sessions != 0 || fp.pending != NULL)
		abort(); /* a session left behind */
	smtp_server_free(&server);
	return 0;
}
