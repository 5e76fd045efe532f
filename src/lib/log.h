#ifndef TERN_LIB_LOG_H
#define TERN_LIB_LOG_H

/*
 * Logging: one line per event on stderr, key=value fields, the session id
 * first:
 *
 *   sid=4kq7m2x9c1ab ts=2026-11-22T15:31:00.123Z level=info role=smtp event=smtp.connect ip=...
 *
 * Callers pass the fields after "role=" as a printf format
 * ("event=smtp.connect ip=%s"). Values that come from the network must go
 * through log_value() so a client cannot forge fields or lines. Never log a
 * password, a SASL response or a key.
 */

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define SESSION_ID_LEN 12

/* Set the role name printed in every line ("supervisor", "smtp", "imap",
   "cli") and the lowest level that is printed. Can be called again. */
void log_init(const char *role, enum log_level min);

/* Parse "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *level_r);
const char *log_level_name(enum log_level level);

/* Write one event line. sid may be NULL ("-" is printed). The line is
   written with a single write(2), so lines from several processes sharing
   stderr do not interleave. */
void log_event(enum log_level level, const char *sid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_eventv(enum log_level level, const char *sid, const char *fmt, va_list ap);

#define log_debug(sid, ...) log_event(LOG_DEBUG, (sid), __VA_ARGS__)
#define log_info(sid, ...)  log_event(LOG_INFO, (sid), __VA_ARGS__)
#define log_warn(sid, ...)  log_event(LOG_WARN, (sid), __VA_ARGS__)
#define log_error(sid, ...) log_event(LOG_ERROR, (sid), __VA_ARGS__)

/* The environment is broken (cannot open a file we must have, cannot
   bind): log a level=fatal line and exit(1). */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A broken invariant, i.e. a bug: log a level=panic line and abort(). */
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A log-safe rendering of untrusted text, malloc'ed (the caller frees it).
   Text made only of [A-Za-z0-9._@:/+=<>-] is returned as is; anything else
   is double-quoted with \" \\ and \xNN escapes for control and 8-bit bytes.
   At most max input bytes are used; longer input gets "..." appended. */
char *log_value(const char *s, size_t len, size_t max);

/* A fresh random session id: SESSION_ID_LEN characters of [a-z0-9] and a
   NUL. */
void session_id_new(char out[SESSION_ID_LEN + 1]);

#endif
