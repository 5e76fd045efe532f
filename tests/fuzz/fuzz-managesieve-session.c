/* Fuzz target for a whole ManageSieve session (src/managesieve, the store
   of scripts, sieve_compile()), made as fuzz-pop3-session.c: the session
   runs on a socketpair on its own event loop, against a data dir made once
   per process (a directory database with user u@example.test, password
   "pw"). Each input is one session; the user's scripts are removed every
   RESET_RUNS inputs (PUTSCRIPT grows them, within the quota).
   Input: 1 control byte, then what the client sends.
     bits 0-2: the client's write chunk size (1, 2, 7, 64, 512, ...);
     bit 3: the client stops reading (output backs up).
   The peer looks like loopback, so plaintext logins are allowed (login
   with AUTHENTICATE "PLAIN" "AHVAZXhhbXBsZS50ZXN0AHB3"). Nothing leaves
   the process. */
#include <crypt.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/cli-settings.h"
#include "directory/directory.h"
#include "auth/auth.h"
#include "managesieve/managesieve-server.h"
#include "store/mailbox.h"
#include "lib/log.h"
#include "lib/settings-private.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "net/conn-set.h"
#include "store/maildir.h"

#define INPUT_MAX  4096
#define RESET_RUNS 256
#define MAX_ROUNDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct tern_settings *settings;
static struct workpool *pool;
static struct auth *auth;
static struct mail_user_registry *users;
static struct managesieve_server *server;
static char data_dir[] = "/tmp/tern-fuzz-msieve-session-XXXXXX";
static char *user_dir;
static unsigned runs;
static bool echo; /* TERN_FUZZ_ECHO set: the server's output goes to stderr */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static void remove_all(void)
{
	nftw(data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh Maildir for the user, without scripts. */
static void make_maildir(void)
{
	nftw(user_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (maildir_mkdir_durable(user_dir) < 0 || maildir_create(user_dir) < 0)
		abort();
}

static void make_directory(void)
{
	struct crypt_data cd = {0};
	struct directory *dir;
	const char *error;
	char *hash;
	/* SHA256-CRYPT with libxcrypt's fewest rounds: cheap to verify */
	const char *h = crypt_r("pw", "$5$rounds=1000$fuzzsalt$", &cd);

	if (h == NULL || h[0] != '$')
		abort();
	hash = xasprintf("{SHA256-CRYPT}%s", h);
	if (directory_open(settings->directory_path, &dir, &error) < 0 ||
	    directory_domain_add(dir, "example.test", &error) < 0 ||
	    directory_user_add(dir, "u@example.test", hash, 0, &error) < 0)
		abort();
	directory_close(&dir);
	free(hash);
}

static void init_once(void)
{
	char *conf, *error = NULL;
	const char *err;

	signal(SIGPIPE, SIG_IGN);
	echo = getenv("TERN_FUZZ_ECHO") != NULL;
	log_init("fuzz", LOG_ERROR);
	if (mkdtemp(data_dir) == NULL)
		abort();
	atexit(remove_all);
	conf = xasprintf("hostname = mx.test\ndata_dir = %s\n"
	                 "auth {\n plaintext_on_loopback = yes\n}\n"
	                 "managesieve {\n max_scripts = 4\n max_script_size = 8K\n}\n",
	                 data_dir);
	if (settings_load_buffer(&tern_settings_schema, "/fuzz/tern.conf", conf, strlen(conf),
	                         &settings, &error) < 0)
		abort();
	free(conf);
	if (maildir_user_path(settings->mail_dir, "u@example.test", &user_dir, &err) < 0)
		abort();
	make_directory();
	base = event_base_new();
	pool = workpool_new(base, 1);
	users = mail_user_registry_new(settings->mail_dir);
	if (auth_new(settings->directory_path, pool, auth_settings(settings), NULL, &auth, &err) <
	    0)
		abort();
	server = managesieve_server_new(base, settings, NULL, auth, users);
	managesieve_server_set_fail_delay(server, (struct timeval){0, 0});
}

/* Run the loop until nothing is left to do now: no worker job pending and
   nothing new to read (bounded). */
static void pump(int client, bool reading)
{
	char sink[4096];

	for (int i = 0; i < MAX_ROUNDS; i++) {
		bool more = false;

		event_base_loop(base, EVLOOP_NONBLOCK);
		while (workpool_pending(pool) > 0) {
			event_base_loop(base, EVLOOP_ONCE);
			more = true;
		}
		for (ssize_t r;
		     client >= 0 && reading && (r = read(client, sink, sizeof(sink))) > 0;) {
			if (echo)
				fwrite(sink, 1, (size_t)r, stderr);
			more = true;
		}
		if (!more)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 2, 7, 64, 512, 4096, 4096, 4096};
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
	size_t chunk, pos = 1;
	bool reading;
	int sv[2];

	if (size < 1 || size > INPUT_MAX)
		return 0;
	if (base == NULL)
		init_once();
	if (runs++ % RESET_RUNS == 0)
		make_maildir();
	chunk = chunks[data[0] & 7];
	reading = (data[0] & 8) == 0;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	managesieve_server_accept(server, sv[1], (const struct sockaddr *)&peer, sizeof(peer));
	for (int stalls = 0; pos < size && conn_count() > 0 && stalls < MAX_ROUNDS;) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		ssize_t w = write(sv[0], data + pos, n);

		if (w > 0)
			pos += (size_t)w;
		else if (w < 0)
			stalls++; /* the session does not read (busy, or closing) */
		pump(sv[0], reading);
	}
	shutdown(sv[0], SHUT_WR);
	pump(sv[0], true);
	close(sv[0]);
	pump(-1, false);
	if (conn_count() > 0)
		conn_abort_all("fuzz end");
	pump(-1, false);
	if (conn_count() != 0 || workpool_pending(pool) != 0)
		abort(); /* a session left behind */
	return 0;
}
