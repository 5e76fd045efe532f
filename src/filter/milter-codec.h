#ifndef TERN_FILTER_MILTER_CODEC_H
#define TERN_FILTER_MILTER_CODEC_H

/*
 * The milter protocol, version 6, as Sendmail's libmilter and Postfix
 * speak it (libmilter/mfdef.h; docs/filter.md): I/O free. A packet is a
 * 32-bit length in network order (counting the command byte), a command
 * byte and its data. The encoders append one packet to a buffer; the
 * decoder takes the milter's bytes in any split (one at a time is fine)
 * and yields one reply at a time, its fields slices of its own buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define MILTER_VERSION 6
/* libmilter's MILTER_CHUNK_SIZE: the largest body packet. */
#define MILTER_CHUNK_MAX 65535
/* The largest reply the decoder takes (libmilter allows up to 1 MiB with
   SMFIC_OPTNEG's size flags; a replaced body comes in chunks). */
#define MILTER_PACKET_MAX (1024 * 1024)

/* Commands, MTA to milter. */
#define SMFIC_ABORT   'A'
#define SMFIC_BODY    'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO   'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO    'H'
#define SMFIC_QUIT_NC 'K'
#define SMFIC_HEADER  'L'
#define SMFIC_MAIL    'M'
#define SMFIC_EOH     'N'
#define SMFIC_OPTNEG  'O'
#define SMFIC_QUIT    'Q'
#define SMFIC_RCPT    'R'
#define SMFIC_DATA    'T'
#define SMFIC_UNKNOWN 'U'

/* Replies, milter to MTA. */
#define SMFIR_ADDRCPT     '+'
#define SMFIR_DELRCPT     '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN    '4'
#define SMFIR_ACCEPT      'a'
#define SMFIR_REPLBODY    'b'
#define SMFIR_CONTINUE    'c'
#define SMFIR_DISCARD     'd'
#define SMFIR_CHGFROM     'e'
#define SMFIR_CONN_FAIL   'f'
#define SMFIR_ADDHEADER   'h'
#define SMFIR_INSHEADER   'i'
#define SMFIR_SETSYMLIST  'l'
#define SMFIR_CHGHEADER   'm'
#define SMFIR_PROGRESS    'p'
#define SMFIR_QUARANTINE  'q'
#define SMFIR_REJECT      'r'
#define SMFIR_SKIP        's'
#define SMFIR_TEMPFAIL    't'
#define SMFIR_REPLYCODE   'y'

/* Actions a milter may take (SMFIC_OPTNEG). */
#define SMFIF_ADDHDRS      0x001u
#define SMFIF_CHGBODY      0x002u
#define SMFIF_ADDRCPT      0x004u
#define SMFIF_DELRCPT      0x008u
#define SMFIF_CHGHDRS      0x010u
#define SMFIF_QUARANTINE   0x020u
#define SMFIF_CHGFROM      0x040u
#define SMFIF_ADDRCPT_PAR  0x080u
#define SMFIF_SETSYMLIST   0x100u
#define MILTER_ACTIONS_ALL 0x1ffu

/* Protocol steps a milter may leave out, or not answer (SMFIP_NR_*). */
#define SMFIP_NOCONNECT   0x000001u
#define SMFIP_NOHELO      0x000002u
#define SMFIP_NOMAIL      0x000004u
#define SMFIP_NORCPT      0x000008u
#define SMFIP_NOBODY      0x000010u
#define SMFIP_NOHDRS      0x000020u
#define SMFIP_NOEOH       0x000040u
#define SMFIP_NR_HDR      0x000080u
#define SMFIP_NOUNKNOWN   0x000100u
#define SMFIP_NODATA      0x000200u
#define SMFIP_SKIP        0x000400u
#define SMFIP_RCPT_REJ    0x000800u
#define SMFIP_NR_CONN     0x001000u
#define SMFIP_NR_HELO     0x002000u
#define SMFIP_NR_MAIL     0x004000u
#define SMFIP_NR_RCPT     0x008000u
#define SMFIP_NR_DATA     0x010000u
#define SMFIP_NR_UNKN     0x020000u
#define SMFIP_NR_EOH      0x040000u
#define SMFIP_NR_BODY     0x080000u
#define SMFIP_HDR_LEADSPC 0x100000u
/* What Tern offers: every step may be left out or left unanswered. */
#define MILTER_PROTOCOL_ALL 0x1fffffu

/* Macro stages of SMFIR_SETSYMLIST in the SMFIC_OPTNEG reply. */
enum milter_macro_stage {
	SMFIM_CONNECT = 0,
	SMFIM_HELO = 1,
	SMFIM_ENVFROM = 2,
	SMFIM_ENVRCPT = 3,
	SMFIM_DATA = 4,
	SMFIM_EOM = 5,
	SMFIM_EOH = 6,
};

/* ---- encoding: each appends one packet to out ---- */

void milter_encode_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol);
/* SMFIC_MACRO for the command cmd: count name/value pairs ("j",
   "{client_addr}" ...); a NULL value is sent empty. */
void milter_encode_macro(struct buf *out, char cmd, const char *const *names,
                         const char *const *values, size_t count);
/* family: '4', '6', 'L' (unix socket) or 'U' (unknown: no port nor
   address follow). */
void milter_encode_connect(struct buf *out, const char *hostname, char family, uint16_t port,
                           const char *address);
void milter_encode_helo(struct buf *out, const char *helo);
/* MAIL/RCPT: the address (with its <>) then its ESMTP arguments. */
void milter_encode_args(struct buf *out, char cmd, const char *const *args, size_t count);
void milter_encode_header(struct buf *out, const char *name, const char *value);
/* One SMFIC_BODY packet; len must be at most MILTER_CHUNK_MAX (a bug
   otherwise: aborts). */
void milter_encode_body(struct buf *out, const void *data, size_t len);
/* A packet without data: SMFIC_EOH, SMFIC_BODYEOB, SMFIC_ABORT,
   SMFIC_QUIT, SMFIC_QUIT_NC, SMFIC_DATA. */
void milter_encode_simple(struct buf *out, char cmd);
/* Any packet: cmd and len bytes of data (for replies in tests). */
void milter_encode_packet(struct buf *out, char cmd, const void *data, size_t len);

/* ---- decoding the milter's replies ---- */

/* One reply. The strings point into the decoder and stay valid until the
   next milter_decoder_feed(). */
struct milter_reply {
	char cmd; /* SMFIR_*, or SMFIC_OPTNEG */
	/* SMFIC_OPTNEG: the milter's version, actions and protocol steps. */
	uint32_t version, actions, protocol;
	/* SMFIR_REPLYCODE: code (400-599) and the whole reply text after the
	   code ("5.7.1 go away"; may be multi-line with CRLF "550-" lines). */
	unsigned code;
	const char *text;
	/* SMFIR_INSHEADER, SMFIR_CHGHEADER: the index (CHGHEADER: 1-based
	   among fields of that name; INSHEADER: 0-based position). */
	uint32_t index;
	/* headers: name and value (CHGHEADER with "" deletes); ADDRCPT,
	   DELRCPT, CHGFROM, ADDRCPT_PAR: name is the address and value its
	   ESMTP arguments or NULL; QUARANTINE: name is the reason. */
	const char *name, *value;
	/* SMFIR_REPLBODY: a chunk of the new body. */
	const uint8_t *data;
	size_t len;
};

struct milter_decoder {
	uint8_t head[5]; /* length and command */
	size_t head_len;
	uint32_t want; /* data bytes of the packet */
	struct buf data;
};

/* A zeroed decoder is ready; milter_decoder_clear() frees it. */
void milter_decoder_clear(struct milter_decoder *d);

/* Feed up to len bytes. Returns 1 with *reply_r when a reply is complete
   (*consumed_r bytes were used; feed the rest again), 0 when every byte
   was used and more are needed, -1 with *error_r (static) for a packet
   that is not a valid reply (unknown command, bad length, missing NUL,
   a reply code out of 400-599); the decoder is then unusable. */
int milter_decoder_feed(struct milter_decoder *d, const void *data, size_t len, size_t *consumed_r,
                        struct milter_reply *reply_r, const char **error_r);

#endif
