#ifndef TERN_MAILAUTH_CANON_H
#define TERN_MAILAUTH_CANON_H

/*
 * DKIM canonicalization (RFC 6376 section 3.4): "simple" and "relaxed",
 * for header fields and for the body.
 *
 * Line ends: a message arrives with CRLF line ends (SMTP), but a message
 * given on standard input or from a file often has bare LF. Both here count
 * as one CRLF, so a message signed from a file verifies after it was sent
 * by SMTP. A CR not followed by LF is an ordinary byte.
 *
 * The body canonicalizer is a streaming state machine: feed it the body in
 * chunks of any size and it gives the same output as in one piece. It
 * keeps O(1) state: trailing empty lines are counted, not stored. Runs of
 * bytes it leaves unchanged (most of a body) are found 8 bytes at a time
 * and copied whole; its output comes in pieces of up to CANON_OUT_SIZE
 * bytes (larger runs straight from the input), so a hash behind it gets
 * a few large updates.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum canon_alg {
	CANON_SIMPLE,
	CANON_RELAXED,
};

/* "simple" or "relaxed". */
const char *canon_alg_name(enum canon_alg alg);

/* Parse "simple" or "relaxed" (case-sensitive, RFC 6376 3.5 c=). Returns 0,
   or -1 if it is neither. */
int canon_alg_parse(const char *s, size_t len, enum canon_alg *alg_r);

/* Append the canonical form of one whole header field (name, colon and
   value with any folding, without the CRLF that ends it) to out, followed
   by CRLF when with_crlf is true (every signed field but the signature
   field itself, RFC 6376 3.7). Relaxed (3.4.2): the name lowercased,
   unfolded, runs of WSP turned into one SP, WSP at the end of the value and
   around the colon removed. Simple (3.4.1): unchanged (bare LF made CRLF). */
void canon_header(enum canon_alg alg, const char *field, size_t len, bool with_crlf,
                  struct buf *out);

/* Receives canonical body bytes. */
typedef void canon_output_t(void *context, const void *data, size_t len);

#define CANON_OUT_SIZE 4096

struct canon_body {
	enum canon_alg alg;
	canon_output_t *output;
	void *context;
	uint64_t empty_lines; /* line ends held back: maybe trailing (3.4.3) */
	bool pending_cr;      /* a CR that may start a CRLF */
	bool pending_space;   /* relaxed: WSP seen since the last byte out */
	bool any_content;     /* a non-empty line was seen */
	size_t out_len;
	unsigned char out[CANON_OUT_SIZE];
};

/* Start canonicalizing a body with alg; output is called with the
   canonical bytes, in order, once they are final: at the latest when
   CANON_OUT_SIZE of them have gathered, or at canon_body_finish(). */
void canon_body_init(struct canon_body *cb, enum canon_alg alg, canon_output_t *output,
                     void *context);

/* Feed len more bytes of the body. Up to CANON_OUT_SIZE bytes of output
   may be held in cb until a later feed or the finish. */
void canon_body_feed(struct canon_body *cb, const void *data, size_t len);

/* The body ended: flush the rest (the one final CRLF of 3.4.3 and 3.4.4;
   an empty body gives CRLF with simple, nothing with relaxed). */
void canon_body_finish(struct canon_body *cb);

/* Relaxed bodies are scanned 32 bytes at a time with AVX2 where the CPU
   has it, else 16 with SSE2. on = false keeps to the narrower path, true
   (the default) takes the wider one where available; for tests comparing
   both. Not thread-safe: call before any canonicalization. */
void canon_body_use_wide(bool on);

#endif
