/* SCRAM-SHA-256 stored keys (scram-keys.h). */
#include "directory/scram-keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "lib/xalloc.h"

#define PREFIX "SCRAM-SHA-256$"

int scram_keys_derive(const char *password, size_t password_len, const unsigned char *salt,
                      size_t salt_len, unsigned iterations, struct scram_keys *keys_r,
                      const char **error_r)
{
	struct scram_keys k = {.iterations = iterations};
	unsigned char salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	unsigned int len = SCRAM_KEY_LEN;

	if (iterations < 1 || iterations > SCRAM_ITERATIONS_MAX) {
		*error_r = "SCRAM iteration count out of range";
		return -1;
	}
	if (salt == NULL) {
		k.salt_len = SCRAM_SALT_LEN;
		if (RAND_bytes(k.salt, SCRAM_SALT_LEN) != 1) {
			*error_r = "no random bytes for a SCRAM salt";
			return -1;
		}
	} else if (salt_len < 1 || salt_len > SCRAM_SALT_MAX) {
		*error_r = "SCRAM salt length out of range";
		return -1;
	} else {
		memcpy(k.salt, salt, salt_len);
		k.salt_len = salt_len;
	}
	if (PKCS5_PBKDF2_HMAC(password, (int)password_len, k.salt, (int)k.salt_len, (int)iterations,
	                      EVP_sha256(), SCRAM_KEY_LEN, salted) != 1 ||
	    HMAC(EVP_sha256(), salted, SCRAM_KEY_LEN, (const unsigned char *)"Client Key", 10,
	         client_key, &len) == NULL ||
	    HMAC(EVP_sha256(), salted, SCRAM_KEY_LEN, (const unsigned char *)"Server Key", 10,
	         k.server_key, &len) == NULL) {
		OPENSSL_cleanse(salted, sizeof(salted));
		*error_r = "SCRAM key derivation failed";
		return -1;
	}
	SHA256(client_key, SCRAM_KEY_LEN, k.stored_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	*keys_r = k;
	return 0;
}

static void b64(char *out, const unsigned char *in, size_t len)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

char *scram_keys_format(const struct scram_keys *k)
{
	/* base64 of n bytes is 4 * ceil(n / 3) characters plus a NUL */
	char salt[4 * ((SCRAM_SALT_MAX + 2) / 3) + 1];
	char stored[4 * ((SCRAM_KEY_LEN + 2) / 3) + 1], server[sizeof(stored)];

	b64(salt, k->salt, k->salt_len);
	b64(stored, k->stored_key, SCRAM_KEY_LEN);
	b64(server, k->server_key, SCRAM_KEY_LEN);
	return xasprintf(PREFIX "%u:%s$%s:%s", k->iterations, salt, stored, server);
}

/* Decode the base64 text [s, end) into exactly want bytes (want 0: 1 to
   max bytes, the length in *len_r). */
static int unb64(const char *s, const char *end, unsigned char *out, size_t max, size_t want,
                 size_t *len_r)
{
	size_t n = (size_t)(end - s), pad = 0;
	unsigned char tmp[3 * ((4 * ((SCRAM_SALT_MAX + 2) / 3)) / 4)];
	int got;

	if (n == 0 || n % 4 != 0 || n > 4 * ((max + 2) / 3))
		return -1;
	got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (got < 0)
		return -1;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	got -= (int)pad;
	if (got < 1 || (size_t)got > max || (want != 0 && (size_t)got != want))
		return -1;
	memcpy(out, tmp, (size_t)got);
	*len_r = (size_t)got;
	return 0;
}

int scram_keys_parse(const char *text, struct scram_keys *keys_r, const char **error_r)
{
	struct scram_keys k = {0};
	const char *p, *colon, *dollar, *colon2;
	char *end;
	unsigned long iter;
	size_t len;

	*error_r = "malformed SCRAM keys";
	if (strncmp(text, PREFIX, strlen(PREFIX)) != 0)
		return -1;
	p = text + strlen(PREFIX);
	if (*p < '1' || *p > '9')
		return -1;
	iter = strtoul(p, &end, 10);
	if (*end != ':' || iter > SCRAM_ITERATIONS_MAX)
		return -1;
	colon = end;
	dollar = strchr(colon, '$');
	if (dollar == NULL)
		return -1;
	colon2 = strchr(dollar, ':');
	if (colon2 == NULL)
		return -1;
	if (unb64(colon + 1, dollar, k.salt, SCRAM_SALT_MAX, 0, &k.salt_len) < 0 ||
	    unb64(dollar + 1, colon2, k.stored_key, SCRAM_KEY_LEN, SCRAM_KEY_LEN, &len) < 0 ||
	    unb64(colon2 + 1, colon2 + 1 + strlen(colon2 + 1), k.server_key, SCRAM_KEY_LEN,
	          SCRAM_KEY_LEN, &len) < 0)
		return -1;
	k.iterations = (unsigned)iter;
	*keys_r = k;
	return 0;
}
