#ifndef TERN_TESTS_UNIT_SMTP_FIXTURE_H
#define TERN_TESTS_UNIT_SMTP_FIXTURE_H

/* What the SMTP session tests share (test-smtp-session.c,
   test-smtp-lmtp.c, test-smtp-rcpt.c): an SMTP server on its own event
   base with a test's policy, and one client on a socketpair. cmocka
   asserts inside: call from a test or a setup. */

#include <stdbool.h>

#include <event2/event.h>

#include "lib/settings.h"
#include "master/role.h"
#include "smtp/smtp-server.h"

struct smtp_fixture {
	char dir[64]; /* the data_dir, a fresh temporary directory */
	struct tern_settings *set;
	struct event_base *base;
	struct role_ctx role;
	struct smtp_server *server;
	int client; /* the test's end; -1 once closed */
};

/* A test policy's count of begun and not ended sessions: the first member
   of the test's policy struct, whose address is the policy pointer. */
struct smtp_fixture_policy {
	int sessions;
};

/* session_begin and session_end for such a policy (ctx is the policy). */
void smtp_fixture_session_begin(void *policy, struct smtp_session *s, void **ctx_r);
void smtp_fixture_session_end(void *ctx);

/* Start f (zeroed) for the test called name: settings "hostname =
   <hostname>", data_dir = f->dir, then conf (may be NULL); a server with
   policy; a client connected to it on service. A test that needs a
   worker pool sets f->base and f->role.pool (on that base) before
   (smtp_fixture_stop() frees both).
   0, or -1 (printed). */
int smtp_fixture_start(struct smtp_fixture *f, const char *name, const char *hostname,
                       const char *conf, struct smtp_policy policy,
                       const struct service_def *service);

/* A cmocka teardown's work: close the client (if still open), let the
   server see it, assert that every session of p has ended, then free the
   server, the worker pool, the base, the settings and remove f->dir. 0, or -1 if it could
   not be removed. */
int smtp_fixture_stop(struct smtp_fixture *f, const struct smtp_fixture_policy *p);

/* Run the loop for a bounded number of turns (nothing blocks). */
void smtp_fixture_pump(struct smtp_fixture *f);

/* Write text as the client, then pump. */
void smtp_fixture_send(struct smtp_fixture *f, const char *text);

/* Everything the server sent since the last call (malloc'ed). */
char *smtp_fixture_received(struct smtp_fixture *f);

/* Fail the test unless what the server sent since the last call is want
   (exactly), or ends with tail. */
void smtp_fixture_expect(struct smtp_fixture *f, const char *want);
void smtp_fixture_expect_tail(struct smtp_fixture *f, const char *tail);

/* Like smtp_fixture_expect_tail(), for replies that come from the worker
   pool: read until what came ends with tail, or fail after 5 seconds. */
void smtp_fixture_expect_wait(struct smtp_fixture *f, const char *tail);

#endif
