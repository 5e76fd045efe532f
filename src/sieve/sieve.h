#ifndef TERN_SIEVE_SIEVE_H
#define TERN_SIEVE_SIEVE_H

/*
 * The Sieve language (RFC 5228) and its extensions, as a pure library: no
 * I/O, no delivery. A script is compiled once (lexed, parsed, validated
 * against its `require`s) into a struct sieve_script that can be cached and
 * run many times, possibly concurrently from different threads (a run never
 * writes to the script). A run sees the message only through struct
 * sieve_message (callbacks) and yields a struct sieve_result: the list of
 * actions the caller must carry out, transactionally.
 *
 * Supported: require, if/elsif/else, stop, keep, discard, redirect and the
 * tests address, allof, anyof, envelope, exists, false, header, not, size,
 * true; extensions fileinto, reject, ereject, envelope, encoded-character,
 * imap4flags, body, variables, vacation, vacation-seconds, relational,
 * comparator-i;ascii-numeric (i;octet and i;ascii-casemap always),
 * subaddress, copy, date, index, editheader, mailbox, regex, include,
 * duplicate, spamtest, spamtestplus, virustest, environment.
 * docs/sieve.md has the details and the limits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sieve_script;

/* Limits on a script at compile time and on a run. Zero in a field means
   "the default" (sieve_limits_default()). */
struct sieve_limits {
	size_t max_script_size; /* bytes of source; default 1 MiB */
	unsigned max_nesting;   /* blocks and nested tests; default 32 */
	unsigned max_commands;  /* commands + tests in one script; default 10000 */
	unsigned max_actions;   /* actions one run may produce; default 64 */
	unsigned max_redirects; /* redirect actions in one run; default 4 */
	unsigned max_includes;  /* include depth; default 5 */
	size_t max_variable;    /* bytes of a variable's value; default 4096 */
};

/* The defaults, as documented above. */
struct sieve_limits sieve_limits_default(void);

/* A compile error: 1-based line and column of the offending token (or of
   the end of input) and a human-readable message ("unknown command 'foo'"). */
struct sieve_error {
	unsigned line;
	unsigned column;
	char message[200];
};

/* Compile len bytes of text (need not be NUL-terminated; NUL bytes are an
   error). limits may be NULL for the defaults; they are copied into the
   script and also govern its runs. Returns 0 with *script_r (free with
   sieve_script_free()), or -1 with *script_r NULL and *error_r filled. */
int sieve_compile(const char *text, size_t len, const struct sieve_limits *limits,
                  struct sieve_script **script_r, struct sieve_error *error_r);

/* Free a compiled script; accepts NULL and *script NULL, sets *script NULL. */
void sieve_script_free(struct sieve_script **script);

/* True if the compiled script requires extension ext ("fileinto"). */
bool sieve_script_requires(const struct sieve_script *script, const char *ext);

/* The extensions this library supports, space separated, for the
   ManageSieve SIEVE capability. A static string. */
const char *sieve_extensions(void);

/* body transforms (RFC 5173) */
enum sieve_body_transform {
	SIEVE_BODY_TEXT,    /* :text, the default: text of every text part */
	SIEVE_BODY_RAW,     /* :raw, the undecoded body after the header */
	SIEVE_BODY_CONTENT, /* :content types, decoded parts of those types */
};

/* For body callbacks: true if a part of content type ctype ("text/html",
   parameters allowed and ignored) is selected by the :content types of
   RFC 5173 section 5.2: "" selects every part, a major type ("text")
   every subtype of it, "text/html" exactly that type; case-insensitive. */
bool sieve_body_type_selected(const char *ctype, const char *const *types, size_t ntypes);

/*
 * The message as a run sees it. Every callback may be NULL, which reads as
 * "nothing there" (no header, no envelope, empty body, no environment item,
 * mailbox does not exist, not a duplicate, no score). Strings returned by
 * the callbacks stay owned by the message and must stay valid until
 * sieve_run() returns; an array returned in *values_r or *parts_r need
 * only stay valid until the next call of a callback (the library copies
 * what it keeps). Callbacks are called from the thread of sieve_run().
 */
struct sieve_message {
	void *ctx;
	/* Every occurrence of header field name (case-insensitive), in message
	   order, unfolded, RFC 2047-decoded to UTF-8, without the name and
	   colon. Returns the count and the values in *values_r. */
	size_t (*header)(void *ctx, const char *name, const char *const **values_r);
	/* The envelope: the reverse path ("" for the null sender) and the
	   original recipient, both without angle brackets; NULL if unknown. */
	const char *envelope_from;
	const char *envelope_to;
	/* The message size in octets (RFC 5228 section 5.9). */
	uint64_t size;
	/* The body for the body test: returns the count of text pieces in
	   *parts_r. For SIEVE_BODY_CONTENT, types holds ntypes content types
	   ("text", "text/html", "" for all); a part matches a type as RFC 5173
	   section 5.2 says. */
	size_t (*body)(void *ctx, enum sieve_body_transform transform, const char *const *types,
	               size_t ntypes, const char *const **parts_r);
	/* The current time and the local zone offset in minutes east of UTC,
	   for currentdate and the date test's default zone. */
	time_t now;
	int zone_minutes;
	/* An environment item (RFC 5183: "domain", "host", "name", ...); NULL if
	   unknown. The library answers "name", "version" and "phase" itself
	   when this returns NULL. */
	const char *(*environment)(void *ctx, const char *name);
	/* True if mailbox (UTF-8 name) exists for the user. */
	bool (*mailbox_exists)(void *ctx, const char *name);
	/* Duplicate tracking (RFC 7352): true if id under handle was seen in
	   the last seconds. The library never records; when the delivery
	   succeeds the caller records each result duplicate_ids entry. */
	bool (*duplicate_seen)(void *ctx, const char *handle, const char *id, uint64_t seconds);
	/* spamtest/virustest (RFC 5235): the score as the tests compare it:
	   "0" (not tested) or "1".."10" for spamtest, "0".."100" for
	   spamtest :percent, "0".."5" for virustest; NULL means "0". */
	const char *(*spamtest)(void *ctx, bool percent);
	const char *(*virustest)(void *ctx);
	/* Vacation (RFC 5230 section 4.2): true if a reply to sender with
	   handle was already sent within the last seconds. NULL: never. The
	   caller records the reply when it sends it. */
	bool (*vacation_seen)(void *ctx, const char *sender, const char *handle, uint64_t seconds);
	/* include (RFC 6609): the compiled script named name in the personal
	   (global false) or global location. Returns 0 with *script_r (owned
	   by the caller, valid until sieve_run() returns) or -1 with a static
	   or message-owned reason in *error_r. NULL: nothing can be included. */
	int (*include)(void *ctx, bool global, const char *name,
	               const struct sieve_script **script_r, const char **error_r);
};

enum sieve_action_type {
	SIEVE_ACT_KEEP,     /* deliver to INBOX (flags) */
	SIEVE_ACT_FILEINTO, /* deliver to mailbox (flags, create) */
	SIEVE_ACT_REDIRECT, /* forward to address */
	SIEVE_ACT_REJECT,   /* refuse with text (reject: MDN; ereject: SMTP) */
	SIEVE_ACT_EREJECT,
	SIEVE_ACT_VACATION, /* send an auto-reply, unless skip is set */
};

struct sieve_action {
	enum sieve_action_type type;
	/* FILEINTO: mailbox; REDIRECT: address; REJECT/EREJECT: reason;
	   VACATION: reason (the body); KEEP: "INBOX". */
	char *target;
	bool copy;    /* :copy (FILEINTO, REDIRECT) */
	bool create;  /* :create (FILEINTO) */
	char **flags; /* IMAP flags for KEEP/FILEINTO (imap4flags) */
	size_t nflags;
	/* Header edits (result edits[0..edits-1]) that apply to the message
	   this action delivers or sends (RFC 5293 section 5). */
	size_t edits;
	/* VACATION only */
	char *subject;    /* the Subject of the reply (default "Auto: " + subject) */
	char *from;       /* :from, or NULL */
	char *recipient;  /* whom to answer: the envelope sender */
	char *handle;     /* :handle, or derived from the parameters */
	uint64_t seconds; /* the period (:days * 86400 or :seconds) */
	bool mime;        /* :mime: target is a MIME entity */
	/* Why no reply must be sent (null sender, list mail, auto-submitted,
	   not addressed to the user, already answered), or NULL: send it
	   with "Auto-Submitted: auto-replied" (RFC 3834). */
	const char *skip;
};

/* One editheader change, in script order. */
struct sieve_edit {
	bool add;    /* addheader: true; deleteheader: false */
	char *name;  /* field name */
	char *value; /* add: the value; delete: NULL (all) */
	bool last;   /* add: append instead of prepend (:last) */
	/* deleteheader: which occurrences go. index 0 means all; else the
	   index-th (1-based, from the end if last). When patterns is non-NULL
	   only occurrences matching one of them go; the library applies this
	   itself, listing each deleted occurrence's exact value in values. */
	unsigned index;
	char **values; /* delete with patterns: the exact values to delete */
	size_t nvalues;
};

struct sieve_result {
	struct sieve_action *actions;
	size_t nactions;
	struct sieve_edit *edits;
	size_t nedits;
	/* Duplicate ids the caller records when delivery succeeds. */
	char **duplicate_ids; /* "handle\0id" is not used: handle + ":" + id */
	uint64_t *duplicate_seconds;
	size_t nduplicates;
	/* A run-time error ("redirect limit reached at 5:3"), or NULL. With an
	   error, actions hold exactly one KEEP (implicit keep on error). */
	char *error;
};

/* Run script against msg. Returns 0 with *result_r filled (free it with
   sieve_result_free()), or -1 on a run-time error: then result_r->error
   says why and result_r->actions is a single KEEP into INBOX, which the
   caller carries out (no message is lost by a script). The implicit keep
   (RFC 5228 section 2.10.2) is already in the actions when it applies;
   duplicate actions are merged. */
int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
              struct sieve_result *result_r);

/* Free what a result holds; the struct is zeroed and reusable. */
void sieve_result_free(struct sieve_result *result);

#endif
