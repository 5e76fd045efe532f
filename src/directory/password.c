#include "directory/password.h"

#include <crypt.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "lib/xalloc.h"

#define ARGON2ID_PREFIX "{ARGON2ID}"

enum password_scheme {
	SCHEME_ARGON2ID,
	SCHEME_ARGON2I,
	SCHEME_BLF_CRYPT,
	SCHEME_SHA512_CRYPT,
	SCHEME_SHA256_CRYPT,
};

struct scheme_def {
	const char *name; /* Dovecot's scheme name, between braces */
	enum password_scheme scheme;
	const char *magic[3]; /* accepted starts of the hash itself */
};

static const struct scheme_def schemes[] = {
    {"ARGON2ID", SCHEME_ARGON2ID, {"$argon2id$", NULL, NULL}},
    {"ARGON2I", SCHEME_ARGON2I, {"$argon2i$", NULL, NULL}},
    {"BLF-CRYPT", SCHEME_BLF_CRYPT, {"$2y$", "$2b$", "$2a$"}},
    {"SHA512-CRYPT", SCHEME_SHA512_CRYPT, {"$6$", NULL, NULL}},
    {"SHA256-CRYPT", SCHEME_SHA256_CRYPT, {"$5$", NULL, NULL}},
};

#define SCHEME_COUNT (sizeof(schemes) / sizeof(schemes[0]))

static int init_sodium(const char **error_r)
{
	/* sodium_init() is idempotent and thread-safe; < 0 means no usable
	   randomness source. */
	if (sodium_init() < 0) {
		*error_r = "libsodium initialisation failed";
		return -1;
	}
	return 0;
}

int password_hash(const char *password, char **hash_r, const char **error_r)
{
	return password_hash_params(password, PASSWORD_ARGON2_OPS_DEFAULT,
	                            PASSWORD_ARGON2_MEM_DEFAULT, hash_r, error_r);
}

int password_hash_params(const char *password, unsigned long long ops, size_t mem, char **hash_r,
                         const char **error_r)
{
	char out[crypto_pwhash_STRBYTES];
	size_t len = strlen(password);

	if (init_sodium(error_r) < 0)
		return -1;
	if (len > PASSWORD_MAX_LEN) {
		*error_r = "password too long";
		return -1;
	}
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    mem < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
		*error_r = "argon2id parameters below the minimum";
		return -1;
	}
	if (crypto_pwhash_str_alg(out, password, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) !=
	    0) {
		*error_r = "argon2id hashing failed (out of memory)";
		return -1;
	}
	*hash_r = xasprintf(ARGON2ID_PREFIX "%s", out);
	sodium_memzero(out, sizeof(out));
	return 0;
}

static bool has_magic(const struct scheme_def *def, const char *hash)
{
	for (size_t i = 0; i < 3 && def->magic[i] != NULL; i++) {
		if (strncmp(hash, def->magic[i], strlen(def->magic[i])) == 0)
			return true;
	}
	return false;
}

/* Find the scheme of stored, with or without its "{SCHEME}" prefix, and
   point *hash_r past the prefix. */
static int scheme_find(const char *stored, const struct scheme_def **def_r, const char **hash_r,
                       const char **error_r)
{
	const char *hash = stored;
	size_t name_len = 0;

	if (stored[0] == '{') {
		const char *end = strchr(stored, '}');

		if (end == NULL) {
			*error_r = "corrupt password hash (unterminated scheme)";
			return -1;
		}
		name_len = (size_t)(end - stored - 1);
		hash = end + 1;
	}
	for (size_t i = 0; i < SCHEME_COUNT; i++) {
		const struct scheme_def *def = &schemes[i];

		if (name_len > 0 && (strlen(def->name) != name_len ||
		                     strncasecmp(stored + 1, def->name, name_len) != 0))
			continue;
		if (!has_magic(def, hash)) {
			if (name_len == 0)
				continue;
			*error_r = "corrupt password hash (does not match its scheme)";
			return -1;
		}
		*def_r = def;
		*hash_r = hash;
		return 0;
	}
	*error_r = "unknown or refused password scheme";
	return -1;
}

/* A structural check of "$argon2X$v=19$m=M,t=T,p=P$salt$hash", so a corrupt
   hash is reported as such instead of as a wrong password (libsodium's
   verify returns -1 for both). */
static bool argon2_well_formed(const char *hash)
{
	const char *p = strchr(hash + 1, '$');
	unsigned long v, m, t, par;
	int n = 0;

	if (p == NULL || sscanf(p, "$v=%lu$m=%lu,t=%lu,p=%lu$%n", &v, &m, &t, &par, &n) != 4 ||
	    n == 0)
		return false;
	p += n;
	/* salt and hash: non-empty runs of unpadded base64, separated by '$' */
	for (int part = 0; part < 2; part++) {
		size_t run = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                       "0123456789+/");
		if (run == 0)
			return false;
		p += run;
		if (part == 0 && *p++ != '$')
			return false;
	}
	return *p == '\0';
}

static int verify_argon2(const char *password, const char *hash, const char **error_r)
{
	if (init_sodium(error_r) < 0)
		return -1;
	if (strlen(hash) >= crypto_pwhash_STRBYTES || !argon2_well_formed(hash)) {
		*error_r = "corrupt argon2 password hash";
		return -1;
	}
	/* crypto_pwhash_str_verify() dispatches on the prefix and handles both
	   $argon2id$ and $argon2i$ (libsodium >= 1.0.15). */
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? 1 : 0;
}

static int verify_crypt(const char *password, const char *hash, const char **error_r)
{
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *out = crypt_rn(password, hash, data, (int)sizeof(*data));
	int ret;

	if (out == NULL || out[0] == '*' || strlen(out) != strlen(hash)) {
		/* A valid setting always yields output of the stored length,
		   so anything else means the stored hash is damaged. */
		*error_r = "corrupt crypt password hash";
		ret = -1;
	} else {
		ret = sodium_memcmp(out, hash, strlen(hash)) == 0 ? 1 : 0;
	}
	/* the buffer holds key material derived from the password */
	sodium_memzero(data, sizeof(*data));
	free(data);
	return ret;
}

int password_verify(const char *password, const char *stored, const char **error_r)
{
	const struct scheme_def *def;
	const char *hash;

	if (scheme_find(stored, &def, &hash, error_r) < 0)
		return -1;
	if (strlen(password) > PASSWORD_MAX_LEN)
		return 0;
	switch (def->scheme) {
	case SCHEME_ARGON2ID:
	case SCHEME_ARGON2I:
		return verify_argon2(password, hash, error_r);
	case SCHEME_BLF_CRYPT:
	case SCHEME_SHA512_CRYPT:
	case SCHEME_SHA256_CRYPT:
		return verify_crypt(password, hash, error_r);
	}
	*error_r = "unknown password scheme";
	return -1;
}
