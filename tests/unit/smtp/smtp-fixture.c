/* The SMTP session tests' shared fixture (smtp-fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp-fixture.h"

#include "cli/cli-settings.h"
#include "lib/buf.h"
#include "lib/settings-private.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"

int smtp_fixture_start(struct smtp_fixture *f, const char *name, const char *hostname,
                       const char *conf, struct smtp_policy policy,
                       const struct service_def *service)
{
	char *text, *error = NULL;
	int sv[2];

	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-test-%s-XXXXXX", name);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	text = xasprintf("hostname = %s\ndata_dir = %s\n%s", hostname, f->dir,
	                 conf != NULL ? conf : "");
	if (settings_load_buffer(&tern_settings_schema, "/t/tern.conf", text, strlen(text), &f->set,
	                         &error) < 0) {
		fprintf(stderr, "%s\n", error);
		free(error);
		free(text);
		return -1;
	}
	free(text);
	if (f->base == NULL)
		f->base = event_base_new();
	f->role.base = f->base;
	f->role.settings = f->set;
	f->server = smtp_server_new(&f->role, &policy);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->client = sv[0];
	smtp_server_accept_fd(f->server, sv[1], service);
	return 0;
}

void smtp_fixture_pump(struct smtp_fixture *f)
{
	for (int i = 0; i < 50; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

void smtp_fixture_session_begin(void *policy, struct smtp_session *s, void **ctx_r)
{
	struct smtp_fixture_policy *p = policy;

	(void)s;
	p->sessions++;
	*ctx_r = p;
}

void smtp_fixture_session_end(void *ctx)
{
	struct smtp_fixture_policy *p = ctx;

	p->sessions--;
}

int smtp_fixture_stop(struct smtp_fixture *f, const struct smtp_fixture_policy *p)
{
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int ret;

	if (f->client >= 0)
		close(f->client);
	f->client = -1;
	smtp_fixture_pump(f);
	assert_int_equal(p->sessions, 0);
	smtp_server_free(&f->server);
	workpool_free(&f->role.pool);
	event_base_free(f->base);
	f->base = NULL;
	settings_free(&f->set);
	ret = system(cmd);
	free(cmd);
	return ret == 0 ? 0 : -1;
}

void smtp_fixture_send(struct smtp_fixture *f, const char *text)
{
	assert_int_equal(write(f->client, text, strlen(text)), (ssize_t)strlen(text));
	smtp_fixture_pump(f);
}

char *smtp_fixture_received(struct smtp_fixture *f)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;

	smtp_fixture_pump(f);
	while ((n = read(f->client, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	buf_append_char(&b, '\0');
	return buf_steal(&b);
}

void smtp_fixture_expect(struct smtp_fixture *f, const char *want)
{
	char *got = smtp_fixture_received(f);

	if (strcmp(got, want) != 0)
		fail_msg("expected [%s], got [%s]", want, got);
	free(got);
}

void smtp_fixture_expect_tail(struct smtp_fixture *f, const char *tail)
{
	char *got = smtp_fixture_received(f);
	size_t len = strlen(got);

	if (len < strlen(tail) || strcmp(got + len - strlen(tail), tail) != 0)
		fail_msg("expected to end with [%s], got [%s]", tail, got);
	free(got);
}

static bool ends_with(const struct buf *b, const char *tail)
{
	size_t n = strlen(tail);

	return b->len >= n && memcmp(b->data + b->len - n, tail, n) == 0;
}

void smtp_fixture_expect_wait(struct smtp_fixture *f, const char *tail)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;

	/* 5000 turns of at most a millisecond's sleep: about 5 seconds */
	for (int i = 0; i < 5000 && !ends_with(&b, tail); i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		while ((n = read(f->client, chunk, sizeof(chunk))) > 0)
			buf_append(&b, chunk, (size_t)n);
		if (!ends_with(&b, tail))
			usleep(1000);
	}
	if (!ends_with(&b, tail)) {
		buf_append_char(&b, '\0');
		fail_msg("expected to end with [%s], got [%s]", tail, b.data);
	}
	buf_free(&b);
}
