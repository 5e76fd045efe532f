#ifndef TERN_SMTP_SMTP_COMMAND_H
#define TERN_SMTP_SMTP_COMMAND_H

/*
 * The SMTP command line parser (RFC 5321 section 4.1). I/O-free: it takes
 * one complete line without its CRLF (the session splits lines, see
 * conn_read_line()) and returns the verb and its validated arguments, or
 * the reply a client fault deserves. It knows nothing about the session
 * state: whether a command is allowed now is the session's business.
 */

#include <stddef.h>
#include <stdint.h>

#include "lib/address.h"

/* Longest HELO/EHLO argument kept (a domain is at most 255 octets). */
#define SMTP_HELO_MAX 255
/* ESMTP parameters accepted on one MAIL or RCPT line. */
#define SMTP_PARAMS_MAX 16

enum smtp_verb {
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_LHLO, /* LMTP (RFC 2033 section 4.1) */
	SMTP_VERB_COUNT
};

enum smtp_body {
	SMTP_BODY_UNSET,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME, /* RFC 6152 */
};

struct smtp_command {
	enum smtp_verb verb;
	/* The argument text after the verb and its space, trailing spaces
	   removed; malloc'ed, NULL when there is none. HELO/EHLO: the client's
	   name; VRFY/EXPN/HELP/NOOP/AUTH/BDAT: as sent. */
	char *arg;
	/* MAIL: the reverse-path (may be the null path); RCPT: the
	   forward-path. Zeroed for other verbs. */
	struct address path;
	/* MAIL SIZE= (RFC 1870), 0 when not given. */
	uint64_t size;
	enum smtp_body body;
};

/* A reply for a command that cannot be accepted as written. code is the
   basic reply code, enhanced the RFC 3463 code ("5.5.2"), text the human
   part. All three are static strings/values. */
struct smtp_reply_error {
	unsigned code;
	const char *enhanced;
	const char *text;
};

/* Parse one command line (len bytes, no CRLF; NUL bytes are an error).
   Returns 0 with *cmd_r filled (free its contents with
   smtp_command_clear()), or -1 with *error_r set and *cmd_r zeroed:
     500 5.5.2 unknown or empty command,
     500 5.5.1 a line holding NUL or other control bytes,
     501 5.5.4 wrong arguments (missing, extra, bad SIZE/BODY value),
     501 5.1.7 bad sender address syntax (MAIL),
     501 5.1.3 bad recipient address syntax (RCPT),
     555 5.5.4 an ESMTP parameter this server does not implement. */
int smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd_r,
                       struct smtp_reply_error *error_r);

/* Free what cmd holds and zero it. A zeroed command is fine. */
void smtp_command_clear(struct smtp_command *cmd);

/* The verb's name in upper case ("MAIL"). */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
