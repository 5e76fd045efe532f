#ifndef TERN_SMTP_SMTP_SUBMISSION_HEADER_H
#define TERN_SMTP_SMTP_SUBMISSION_HEADER_H

/*
 * What the submission policy (smtp-policy-submission.h) reads from and
 * adds to a submitted header section, I/O-free: the From: addresses to
 * check against the user (RFC 6409 section 6.1), the fields RFC 6409
 * section 8 lets an MSA add (Message-ID 8.3, Date 8.2), and the Received:
 * field of an authenticated submission (RFC 5321 4.4, "with ESMTPSA" of
 * RFC 3848). Header sections are as smtp-header.h keeps them: CRLF line
 * ends, without the empty line.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* Why submission_from_addresses() failed. */
enum submission_from_error {
	SUBMISSION_FROM_MISSING,   /* no From: field, or one without a mailbox */
	SUBMISSION_FROM_MALFORMED, /* a From: mailbox the address parser refuses */
};

/* The mailboxes of every From: field of hdr, normalised
   (address_normalize(); group syntax and display names dropped), in
   order. Returns 0 with *addrs_r (malloc'ed array of *count_r malloc'ed
   strings, at least one; free with submission_addresses_free()), or -1
   with *kind_r. */
int submission_from_addresses(const char *hdr, size_t len, char ***addrs_r, size_t *count_r,
                              enum submission_from_error *kind_r);

void submission_addresses_free(char ***addrs, size_t count);

/* True if hdr has a field called name (case-insensitive). */
bool submission_header_has(const char *hdr, size_t len, const char *name);

/* Append to out the fields hdr lacks: "Message-ID: <random@hostname>"
   (random: 32 hex digits from the system's random source) and "Date:" at
   now in local time (RFC 5322 3.3), each CRLF ended. Returns the number
   added (0, 1 or 2). */
unsigned submission_header_fixes(const char *hdr, size_t len, const char *hostname, time_t now,
                                 struct buf *out);

/* What the Received: field of a submission says. */
struct submission_trace {
	const char *helo;      /* the EHLO name */
	const char *client_ip; /* NULL: hidden (submission { hide_client_ip = yes }) */
	const char *hostname;  /* ours */
	const char *id;        /* the message id */
	const char *tls;       /* the TLS description, NULL if none */
	const char *rcpt;      /* the one recipient, else NULL */
	const char *mail_from; /* Return-Path: normalised, "" for <> */
	bool smtputf8;         /* UTF8SMTPSA (RFC 6531 3.7.3) */
	time_t now;
};

/* Append "Return-Path: <...>" and "Received: from <helo> ([ip]) by
   <hostname> (Tern) with ESMTPSA id <id> ..." (CRLF ended, folded). The
   authenticated name is left out on purpose: "with ESMTPSA" says the
   client authenticated (RFC 3848) and the name is in the log, so
   recipients learn nothing of the account. */
void submission_trace_append(const struct submission_trace *t, struct buf *out);

/* The RFC 5322 date-time of now in local time ("Thu, 3 Dec 2026 13:14:00
   +0000"), appended to out. */
void submission_date_append(struct buf *out, time_t now);

#endif
