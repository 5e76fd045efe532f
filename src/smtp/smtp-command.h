#ifndef TERN_SMTP_SMTP_COMMAND_H
#define TERN_SMTP_SMTP_COMMAND_H

/*
 * The SMTP command line parser (RFC 5321 section 4.1). I/O-free: it takes
 * one complete line without its CRLF (the session splits lines, see
 * conn_read_line()) and returns the verb and its validated arguments, or
 * the reply a client fault deserves. It knows nothing about the session
 * state: whether a command is allowed now is the session's business.
 */

#include <stdbool.h>
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
	SMTP_BODY_8BITMIME,   /* RFC 6152 */
	SMTP_BODY_BINARYMIME, /* RFC 3030 section 3: BDAT only */
};

/* DSN RET= (RFC 3461 section 4.3). */
enum smtp_dsn_ret {
	SMTP_DSN_RET_UNSET,
	SMTP_DSN_RET_FULL,
	SMTP_DSN_RET_HDRS,
};

/* DSN NOTIFY= (RFC 3461 section 4.1): a set of these bits; 0 when the
   parameter was not given. NEVER is never combined with another. */
enum smtp_dsn_notify {
	SMTP_DSN_NOTIFY_NEVER = 1 << 0,
	SMTP_DSN_NOTIFY_SUCCESS = 1 << 1,
	SMTP_DSN_NOTIFY_FAILURE = 1 << 2,
	SMTP_DSN_NOTIFY_DELAY = 1 << 3,
};

/* ENVID is at most 100 characters, ORCPT at most 500 (RFC 3461 sections
   4.4 and 4.2), counted as sent (xtext). */
#define SMTP_DSN_ENVID_MAX 100
#define SMTP_DSN_ORCPT_MAX 500

/* The DSN parameters of one RCPT (RFC 3461 section 4). */
struct smtp_rcpt_params {
	unsigned notify; /* enum smtp_dsn_notify bits, 0: not given */
	/* ORCPT as sent, "addr-type;xtext" (e.g. "rfc822;a+2Bb@example.org"),
	   the addr-type checked to be rfc822 or utf-8 (RFC 6533) and the
	   xtext to be valid; malloc'ed, NULL when not given. */
	char *orcpt;
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
	/* MAIL BODY= (RFC 6152, RFC 3030). */
	enum smtp_body body;
	/* MAIL SMTPUTF8 (RFC 6531 section 3.4) and REQUIRETLS (RFC 8689
	   section 4; whether TLS is on is the session's check). */
	bool smtputf8;
	bool requiretls;
	/* MAIL RET= and ENVID= (RFC 3461 sections 4.3, 4.4); envid is the
	   xtext as sent, validated, malloc'ed, NULL when not given. */
	enum smtp_dsn_ret ret;
	char *envid;
	/* RCPT NOTIFY= and ORCPT=. */
	struct smtp_rcpt_params rcpt;
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
     501 5.5.4 wrong arguments (missing, extra, bad SIZE/BODY/RET/ENVID/
               NOTIFY/ORCPT value, a parameter given twice),
     501 5.1.7 bad sender address syntax (MAIL),
     501 5.1.3 bad recipient address syntax (RCPT),
     555 5.5.4 an ESMTP parameter this server does not implement. */
int smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd_r,
                       struct smtp_reply_error *error_r);

/* True if s (len bytes) is valid xtext (RFC 3461 section 4): "!" to "~"
   except "+" and "=", or "+" and two upper-case hex digits. With utf8
   (RFC 6533 utf-8-addr-xtext, under SMTPUTF8) valid UTF-8 characters are
   allowed too. The empty string is not xtext. */
bool smtp_xtext_valid(const char *s, size_t len, bool utf8);

/* Decode xtext that smtp_xtext_valid() accepted: each "+XX" becomes the
   byte XX, everything else is kept. Returns a malloc'ed NUL-terminated
   string (a decoded NUL ends it early: "+00" names no address). */
char *smtp_xtext_decode(const char *s, size_t len);

/* Free what cmd holds and zero it. A zeroed command is fine. */
void smtp_command_clear(struct smtp_command *cmd);

/* The verb's name in upper case ("MAIL"). */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
