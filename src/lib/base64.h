#ifndef TERN_LIB_BASE64_H
#define TERN_LIB_BASE64_H

/*
 * The base64 alphabet of RFC 4648 section 4, shared by the decoders that
 * differ in how strict they are (SASL: strict; MIME: tolerant, streaming;
 * DKIM tags: whitespace allowed).
 */

/* The 64 characters in value order. */
extern const char base64_alphabet[65];

/* The 6-bit value of c, or -1 if c is not in the alphabet ('=' included). */
int base64_value(unsigned char c);

#endif
