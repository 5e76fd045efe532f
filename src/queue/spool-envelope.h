#ifndef TERN_QUEUE_SPOOL_ENVELOPE_H
#define TERN_QUEUE_SPOOL_ENVELOPE_H

/*
 * The envelope of one outbound spool entry: what the SMTP transaction said
 * about the message (sender, recipients with their DSN parameters, flags)
 * and what the server knew (arrival, client, authenticated user). The SMTP
 * policies fill one and hand it to spool_prepare() (spool.h); the queue
 * role reads it back with spool_read().
 *
 * On disk it is text, one field per line, versioned; docs/queue.md gives
 * the format. spool_envelope_parse() takes any bytes and never crashes: an
 * envelope it cannot read is reported as malformed, never half filled.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/array.h"
#include "lib/buf.h"

/* The version spool_envelope_format() writes and the parser reads. */
#define SPOOL_ENVELOPE_VERSION 1

/* NOTIFY of RFC 3461 section 4.1 (bits; 0: the client gave none). */
enum spool_notify {
	SPOOL_NOTIFY_NEVER = 1 << 0,
	SPOOL_NOTIFY_SUCCESS = 1 << 1,
	SPOOL_NOTIFY_FAILURE = 1 << 2,
	SPOOL_NOTIFY_DELAY = 1 << 3,
};

/* RET of RFC 3461 section 4.3. */
enum spool_ret {
	SPOOL_RET_UNSET,
	SPOOL_RET_FULL,
	SPOOL_RET_HDRS,
};

/* BODY of MAIL FROM (RFC 6152, RFC 3030). */
enum spool_body {
	SPOOL_BODY_UNSET, /* none given: 7BIT by default */
	SPOOL_BODY_7BIT,
	SPOOL_BODY_8BITMIME,
	SPOOL_BODY_BINARYMIME,
};

struct spool_rcpt {
	char *address;   /* the forward-path to deliver to, normalised */
	unsigned notify; /* enum spool_notify bits, 0: none given */
	/* ORCPT (RFC 3461 section 4.2), decoded from xtext: its addr-type
	   ("rfc822", "utf-8") and the address. Both NULL when none was given. */
	char *orcpt_type;
	char *orcpt;
	/* The local address (an alias) the client named, which expanded to
	   this one; NULL when the client named address itself. */
	char *alias;
	/* 0-based index of the RCPT command of the transaction this
	   recipient comes from. */
	unsigned rcpt_index;
};

struct spool_envelope {
	char *id;        /* the queue id (spool_prepare() sets it) */
	int64_t arrival; /* seconds since the epoch */
	uint64_t size;   /* bytes of the message to relay (spool_prepare() sets it) */
	/* Bytes at the start of the data file that are not part of the
	   message to relay: the Return-Path field that local delivery adds
	   (RFC 5321 4.4), when the data file is shared with the Maildirs. */
	uint64_t data_skip;
	char *sender; /* normalised reverse-path, "" for <> */
	ARRAY(struct spool_rcpt) rcpts;
	enum spool_ret ret;
	char *envid; /* ENVID decoded from xtext; NULL: none */
	enum spool_body body;
	bool requiretls; /* RFC 8689 */
	bool smtputf8;   /* RFC 6531 */
	char *auth_user; /* the SASL identity; NULL: none */
	char *client_ip; /* the SMTP client's address */
	char *helo;      /* its HELO/EHLO name; NULL: none */
	char *smtp_id;   /* the id of the SMTP reply ("queued as"); NULL: none */
};

/* Add a recipient (the strings are copied; NULLs allowed except address).
   Returns the new recipient, valid until the next add. */
struct spool_rcpt *spool_envelope_add_rcpt(struct spool_envelope *env, const char *address,
                                           unsigned notify, const char *orcpt_type,
                                           const char *orcpt, const char *alias);

/* Free what env holds and zero it. A zeroed envelope is fine. */
void spool_envelope_clear(struct spool_envelope *env);

/* Append env in the on-disk format to out. Fails (-1, *error_r static)
   when env cannot be written: no id, no recipient, a NULL sender or
   client_ip, a recipient without address. */
int spool_envelope_format(const struct spool_envelope *env, struct buf *out, const char **error_r);

/* Parse len bytes of an envelope into *env_r (zeroed first; the caller
   clears it on success). Returns 0, or -1 with *error_r static text and
   *env_r zeroed (nothing to free) when the bytes are not a complete
   version-1 envelope. Unknown fields are skipped (docs/queue.md). */
int spool_envelope_parse(const char *data, size_t len, struct spool_envelope *env_r,
                         const char **error_r);

/* Whether id is a queue id as spool_prepare() makes them (1 to 64 of
   [0-9A-Za-z]): it names files, so nothing else is accepted. */
bool spool_id_valid(const char *id);

/* The words of the on-disk format ("FULL", "8BITMIME", ...; NULL for
   the UNSET values), for display. */
const char *spool_ret_name(enum spool_ret ret);
const char *spool_body_name(enum spool_body body);
/* "SUCCESS,FAILURE" etc. into out; nothing for 0. */
void spool_notify_format(unsigned notify, struct buf *out);

#endif
