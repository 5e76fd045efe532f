#ifndef TERN_STORE_MAILDIR_H
#define TERN_STORE_MAILDIR_H

/*
 * Maildir++ naming: where a user's Maildir lives, how files and folders are
 * named, and how flags are written in file names. Pure functions apart from
 * the mkdir helpers; docs/store.md describes the layout.
 *
 * A message file is <base>[:2,<info>]: base is the unique name given at
 * delivery, info holds one letter per flag in ASCII order (D draft,
 * F flagged, P passed, R replied, S seen, T trashed), then the keyword
 * letters a-z (Dovecot's, mapped by the mailbox's dovecot-keywords).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Message flags as stored. MAIL_RECENT is never stored: it lives in one
   session's view only. */
enum mail_flags {
	MAIL_SEEN = 1u << 0,
	MAIL_ANSWERED = 1u << 1,
	MAIL_FLAGGED = 1u << 2,
	MAIL_DELETED = 1u << 3,
	MAIL_DRAFT = 1u << 4,
	MAIL_RECENT = 1u << 5,
};
#define MAIL_STORED_FLAGS (MAIL_SEEN | MAIL_ANSWERED | MAIL_FLAGGED | MAIL_DELETED | MAIL_DRAFT)

/* Longest file or folder name read from disk that is not skipped. */
#define MAILDIR_NAME_MAX 255
/* Longest IMAP mailbox name accepted (hierarchy included). */
#define MAILDIR_MAILBOX_NAME_MAX 200

/* The Maildir of address: <mail_dir>/<domain>/<localpart>, both lower-cased.
   Refuses (-1, *error_r static) an address without exactly one usable '@',
   an empty or over-long part, a part that starts with '.', or one holding
   '/', control bytes or spaces. On success *path_r is malloc'ed. */
int maildir_user_path(const char *mail_dir, const char *address, char **path_r,
                      const char **error_r);

/* True if a name read from a directory is one we may use: 1 to
   MAILDIR_NAME_MAX bytes, no '/', no control bytes or DEL, not starting
   with '.'. */
bool maildir_name_valid(const char *name);

/* The length of the base of a message file name (the part before ":2,";
   the whole name if it has none). *info_r points at the info after ":2,"
   or at "" when there is none. */
size_t maildir_name_base(const char *name, const char **info_r);

/* The size in bytes written in a base as ",S=<n>", if any. */
bool maildir_name_size(const char *name, size_t base_len, uint64_t *size_r);

/* The flags of an info string (unknown letters ignored). */
unsigned maildir_info_flags(const char *info);

/* Append to out the info for flags: the standard letters of flags, plus the
   non-standard letters of old_info (keywords), all in ASCII order without
   duplicates. */
void maildir_info_build(struct buf *out, const char *old_info, unsigned flags);

/* Keywords in file names, as Dovecot writes them: the letter 'a' + i
   stands for keyword i of the mailbox's dovecot-keywords file, for the
   first MAILDIR_KEYWORD_LETTERS keywords (docs/store.md, "Keywords"). */
#define MAILDIR_KEYWORD_LETTERS     26
#define MAILDIR_KEYWORD_LETTER_MASK ((1u << MAILDIR_KEYWORD_LETTERS) - 1)
/* The keyword letters of an info string: bit i for the letter 'a' + i. */
uint32_t maildir_info_keywords(const char *info);
/* Append to out the info for flags and the keyword letters letters (bit i:
   'a' + i), plus the upper-case letters of old_info Tern does not manage
   (P), all in ASCII order without duplicates. old_info's keyword letters
   are not kept. */
void maildir_info_build_keywords(struct buf *out, const char *old_info, unsigned flags,
                                 uint32_t letters);

/* Append a fresh unique name <sec>.M<usec>P<pid>Q<counter>R<random>.<host>
   to out. */
void maildir_unique_name(struct buf *out);

/* The IMAP name of a Maildir++ folder directory (".A.B" gives "A/B").
   Returns 0 with *name_r malloc'ed, or -1 if dirname is not a folder
   name we show (not starting with '.', "." or "..", an empty level, a
   '/', control bytes, over-long). */
int maildir_folder_to_imap(const char *dirname, char **name_r);

/* The folder directory name of an IMAP name other than INBOX ("A/B" gives
   ".A.B"). Names are kept as the client sends them (modified UTF-7).
   Returns -1 with *error_r static for names that cannot be stored: empty
   levels, '.', control bytes, leading '~', over-long. */
int maildir_imap_to_folder(const char *name, char **dirname_r, const char **error_r);

/* True if name is INBOX in any case. */
bool maildir_is_inbox(const char *name);

/* mkdir path (0700) and its missing parents, fsyncing the parent of every
   directory created so that it survives a crash. 0, or -1 with errno. */
int maildir_mkdir_durable(const char *path);

/* Make path a Maildir: the directory and its cur/ new/ tmp/ (0700), each
   created one made durable. Existing ones are fine. 0, or -1 with errno. */
int maildir_create(const char *path);

#endif
