#ifndef TERN_SMTP_SMTP_SIEVE_PRIVATE_H
#define TERN_SMTP_SMTP_SIEVE_PRIVATE_H

/* Inside the Sieve delivery glue (smtp-sieve*.c); not for other callers. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "sieve/sieve.h"
#include "store/delivery.h"

struct spool;
struct srs;
struct sieve_settings;

/* The process-wide state of smtp_sieve_init(). */
struct smtp_sieve_env {
	const char *mail_dir;
	const char *hostname;
	const struct sieve_settings *set;
	struct spool *spool; /* NULL: no redirect/vacation */
	struct srs *srs;     /* NULL: redirects keep the sender */
};
extern struct smtp_sieve_env smtp_sieve_env;

/* The message as the scripts see it, read once per commit. */
struct smtp_sieve_msg {
	char *data; /* the stored message (capped), NUL-terminated */
	size_t len;
	uint64_t size;      /* the whole message's size */
	size_t skip;        /* bytes of our Return-Path field at the start */
	size_t header_len;  /* of the header section, from skip, blank line included */
	const char *sender; /* envelope from */
	const char *rcpt;   /* envelope to: the user being run for */
	const char *user;   /* user being run for (mailboxexists, state) */
	char *user_sieve_dir;
	struct buf tmp;             /* callback scratch */
	ARRAY(char *) values;       /* header callback answers */
	char *text;                 /* the decoded text for body :text */
	ARRAY(void *) include_refs; /* cache refs of included scripts */
	char *include_error;        /* the last include failure */
	const char *parts[1];
};

/* Read the message of d (through a hard link in the spool directory) into
   m. Returns 0 or -1 with *error_r. */
int smtp_sieve_msg_load(struct smtp_sieve_msg *m, struct delivery *d, const char *sender,
                        const char **error_r);
void smtp_sieve_msg_free(struct smtp_sieve_msg *m);

/* The callbacks of msg for a run for user (m->user set by this). */
void smtp_sieve_msg_callbacks(struct smtp_sieve_msg *m, const char *user,
                              struct sieve_message *msg);

/* Release the scripts the last run included (after sieve_run()). */
void smtp_sieve_msg_release_includes(struct smtp_sieve_msg *m);

/* The first value of header name in m (raw, unfolded, leading space
   dropped), malloc'ed; NULL if none. */
char *smtp_sieve_msg_header(const struct smtp_sieve_msg *m, const char *name);

/* The compiled script at path from the cache (compiled at a miss or when
   mtime or size changed). Returns 1 with *script_r (release *ref_r
   with smtp_sieve_cache_put()), 0 when path does not exist, -1 with *error_r
   (malloc'ed) on a compile or read error. */
int smtp_sieve_cache_get(const char *path, const struct sieve_script **script_r, void **ref_r,
                         char **error_r);
void smtp_sieve_cache_put(void *ref);

/* Per-user state in dir/<file> (".vacation", ".duplicate"): lines
   "<expiry> <key>". seen: key recorded with an expiry in the future. */
bool smtp_sieve_state_seen(const char *dir, const char *file, const char *key);
void smtp_sieve_state_record(const char *dir, const char *file, const char *key, uint64_t seconds);

/* Messages through the outbound spool; each returns 0 with the new
   entry's id in *id_r (malloc'ed) or -1 (logged). */
int smtp_sieve_send_redirect(const struct smtp_sieve_msg *m, const char *user, const char *to,
                             char **id_r);
int smtp_sieve_send_vacation(const struct smtp_sieve_msg *m, const char *user,
                             const struct sieve_action *a, char **id_r);
int smtp_sieve_send_rejection(const struct smtp_sieve_msg *m, const char *user, const char *reason,
                              char **id_r);

#endif
