#ifndef TERN_MASTER_CHANNEL_H
#define TERN_MASTER_CHANNEL_H

/*
 * The message channel between the supervisor and each role process: one
 * socketpair per process, carrying length-prefixed typed messages.
 *
 * Wire format of one message (all integers big-endian):
 *   u32 payload length (0..CHANNEL_MAX_PAYLOAD)
 *   u16 type (enum channel_type)
 *   u16 flags (0; anything else is an error)
 *   payload
 *
 * The codec here does no I/O: channel_encode() appends a message to a
 * buf; a channel_decoder is fed whatever chunks the socket gave and hands
 * back whole, checked messages. channel_new() (channel-event.c) is the
 * libevent glue the roles use; the supervisor drives the codec from its
 * poll() loop. See docs/processes.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "lib/buf.h"

#define CHANNEL_HEADER_SIZE 8
/* Largest payload of any message. */
#define CHANNEL_MAX_PAYLOAD (64 * 1024)
/* Longest user address or queue id carried by a message. */
#define CHANNEL_MAX_NAME 320
/* Unsent bytes one end may queue; past it messages are dropped (and
   logged): a peer that does not read must not grow our memory. */
#define CHANNEL_MAX_OUTPUT (1024 * 1024)

enum channel_type {
	/* role -> supervisor -> roles: payload = a normalised user address
	   whose mailbox changed (1..CHANNEL_MAX_NAME printable bytes). */
	CHANNEL_MAILBOX_CHANGED = 1,
	/* role -> supervisor -> roles: payload = a queue id (1..64 bytes of
	   letters, digits, '.', '-', '_'): the queue role picks the entry up. */
	CHANNEL_MESSAGE_QUEUED = 2,
	/* supervisor -> role: a new generation has started; drain. No
	   payload. */
	CHANNEL_RELOAD = 3,
	/* role -> supervisor: counters as "key=value" lines (reserved for the
	   http role; any printable text or LF, may be empty). */
	CHANNEL_METRICS = 4,
};
#define CHANNEL_TYPE_FIRST CHANNEL_MAILBOX_CHANGED
#define CHANNEL_TYPE_LAST  CHANNEL_METRICS

/* A decoded message. payload points into the decoder and is valid until the
   next channel_decoder_* call; for CHANNEL_MAILBOX_CHANGED and
   CHANNEL_MESSAGE_QUEUED, name is the payload as a NUL-terminated string
   (NULL for other types). */
struct channel_msg {
	enum channel_type type;
	const unsigned char *payload;
	size_t len;
	const char *name;
};

/* Append one message to out. Returns 0, or -1 with a static reason when
   the type is unknown or the payload is not valid for it (too long, a
   name with bad bytes, ...): then out is unchanged. */
int channel_encode(struct buf *out, enum channel_type type, const void *payload, size_t len,
                   const char **error_r);

struct channel_decoder {
	struct buf in; /* received bytes not yet handed out */
	size_t pos;    /* start of the next message in `in` */
	char name[CHANNEL_MAX_NAME + 1];
	const char *error; /* sticky once set */
};

/* An empty decoder; free with channel_decoder_free(). */
void channel_decoder_init(struct channel_decoder *d);
void channel_decoder_free(struct channel_decoder *d);

/* Add received bytes (any chunking, any length; copied). Never fails; the
   bytes are checked by channel_decoder_next(). */
void channel_decoder_feed(struct channel_decoder *d, const void *data, size_t len);

/* Take the next message. Returns 1 with it in *msg_r; 0 when more bytes
   are needed; -1 with a static reason when the stream is malformed (a
   length over CHANNEL_MAX_PAYLOAD, non-zero flags, an unknown type, a
   payload not valid for its type). After -1 every later call returns -1
   with the same reason: the peer is broken and the channel should be
   closed. */
int channel_decoder_next(struct channel_decoder *d, struct channel_msg *msg_r,
                         const char **error_r);

/* True if data[0..len) is a valid name payload (for CHANNEL_MAILBOX_CHANGED
   users: printable ASCII or UTF-8 bytes, no space or control character). */
bool channel_name_valid(const unsigned char *data, size_t len);

/* ---- libevent glue (channel-event.c) ---- */

struct channel;

/* A message arrived (msg valid for the call). The callback may call
   channel_send() but not channel_free(). */
typedef void channel_msg_cb(const struct channel_msg *msg, void *ctx);
/* The peer closed the channel, or sent a malformed stream (reason says
   which); no more messages come. The callback may call channel_free(). */
typedef void channel_close_cb(const char *reason, void *ctx);

/* Serve fd (a socketpair end; taken over, set nonblocking and closed by
   channel_free()) on base. Returns the channel (never NULL: out of memory
   is fatal). */
struct channel *channel_new(struct event_base *base, int fd, channel_msg_cb *on_msg,
                            channel_close_cb *on_close, void *ctx);
/* Queue one message; never blocks. Returns 0, or -1 with a static reason
   (invalid message, channel closed, CHANNEL_MAX_OUTPUT reached: then the
   message is dropped). */
int channel_send(struct channel *ch, enum channel_type type, const void *payload, size_t len,
                 const char **error_r);
/* Close the channel and free it (NULL is fine); sets *ch to NULL. Queued
   output is not flushed. */
void channel_free(struct channel **ch);

#endif
