#ifndef TERN_LIB_ADDRESS_H
#define TERN_LIB_ADDRESS_H

/*
 * Mail addresses as SMTP carries them (RFC 5321 section 4.1.2):
 *
 *   Path    = "<" [ A-d-l ":" ] Mailbox ">"     (source route accepted, ignored)
 *   Mailbox = Local-part "@" ( Domain / address-literal )
 *
 * The local part is a Dot-string or a Quoted-string; the domain is dotted
 * labels (letters, digits, hyphens inside) or an address literal
 * "[192.0.2.1]" / "[IPv6:2001:db8::1]". Limits: local part <= 64 octets,
 * domain <= 255, label <= 63, path <= 256 (RFC 5321 section 4.5.3.1).
 *
 * 8-bit text (RFC 6531) is accepted in the local part and in domain labels
 * only when it is valid UTF-8 (no overlong forms, no surrogates), and a
 * domain holding it only when it is a valid IDN (libidn2, IDNA2008 with the
 * UTS 46 mapping). The parsed address keeps it as received; the normalised
 * form writes such a domain as its A-label ("bücher.example" and
 * "xn--bcher-kva.example" are one domain). A local part is never
 * converted or Unicode-normalised. Control characters are never accepted.
 *
 * These parsers are the one place where address text from the network is
 * validated; nothing else in Tern re-parses addresses.
 */

#include <stdbool.h>
#include <stddef.h>

#define ADDRESS_LOCAL_MAX  64
#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_LABEL_MAX  63
#define ADDRESS_PATH_MAX   256

struct address {
	/* The local part with quoting removed: "\"john doe\"" is stored as
	   "john doe", "\"a\\\"b\"" as "a\"b". Case is kept (local parts are
	   case-sensitive on the wire). "" for the null path. */
	char *local;
	/* The domain as received ("Example.COM", "[192.0.2.1]"); "" for the
	   null path and for the bare "Postmaster" recipient. */
	char *domain;
};

enum address_flags {
	/* Accept the null reverse-path "<>" (MAIL FROM). */
	ADDRESS_ALLOW_NULL = 1 << 0,
	/* Accept "<Postmaster>" without a domain (RCPT TO, RFC 5321 section
	   4.5.1); stored as local "Postmaster", domain "". */
	ADDRESS_ALLOW_POSTMASTER = 1 << 1,
};

/* Parse a bare mailbox "local@domain": all len bytes of s must be the
   mailbox. Returns 0 and fills *addr_r (the caller frees it with
   address_free()), or -1 with a static reason in *error_r and *addr_r
   zeroed. s need not be NUL-terminated; a NUL byte is an error. */
int address_parse_mailbox(const char *s, size_t len, struct address *addr_r, const char **error_r);

/* Parse a path "<...>" at the start of s (len bytes). flags is a set of
   enum address_flags. Returns 0 with *addr_r filled (free with
   address_free()) and *consumed_r set to the number of bytes of s taken,
   up to and including the closing ">". If consumed_r is NULL, the path must
   be exactly all len bytes. Returns -1 with a static reason in *error_r and
   *addr_r zeroed on a syntax or length error. */
int address_parse_path(const char *s, size_t len, unsigned flags, struct address *addr_r,
                       size_t *consumed_r, const char **error_r);

/* True for the null path "<>" (an empty local part). */
bool address_is_null(const struct address *addr);

/* The address as "local@domain" with the domain lower-cased (ASCII letters
   only; a domain with U-labels becomes its A-label, lower case) and the
   local part kept as is, re-quoted per RFC 5321 section
   4.1.2 when it is not a valid Dot-string ("\"john doe\"@example.com").
   "" for the null path; "Postmaster" for a domainless Postmaster.
   Returns a malloc'ed string; the caller frees it. */
char *address_normalize(const struct address *addr);

/* Copy src into *dst_r (deep copy; free with address_free()). */
void address_copy(struct address *dst_r, const struct address *src);

/* Free the strings of addr and zero it. A zeroed address is fine. */
void address_free(struct address *addr);

/* Length of the valid UTF-8 sequence at the start of p (2..4), or 0 if the
   bytes there (at most len) are not one valid non-ASCII UTF-8 character.
   Shared with the SMTP parsers. */
size_t utf8_char_len(const unsigned char *p, size_t len);

#endif
