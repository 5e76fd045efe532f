/* Admin operations with a policy (directory-admin.h). */
#include "directory/directory-admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "directory/password.h"
#include "directory/scram-keys.h"
#include "lib/utf8.h"
#include "directory/directory-private.h"
#include "lib/address.h"

/* The number of characters (UTF-8 code points) of a password. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int directory_password_check(const struct directory_password_policy *policy, const char *password,
                             const char **error_r)
{
	static __thread char msg[96];
	unsigned min = policy->min_length > 0 ? policy->min_length : 1;

	if (utf8_length(password) < min) {
		snprintf(msg, sizeof(msg), "password too short (minimum %u characters)", min);
		*error_r = msg;
		return -1;
	}
	if (strlen(password) > PASSWORD_MAX_LEN) {
		snprintf(msg, sizeof(msg), "password too long (maximum %d bytes)",
		         PASSWORD_MAX_LEN);
		*error_r = msg;
		return -1;
	}
	if (!utf8_valid((const unsigned char *)password, strlen(password))) {
		*error_r = "password is not valid UTF-8";
		return -1;
	}
	return 0;
}

/* Check and hash password; the hash is the caller's to wipe and free. */
static int policy_hash(struct directory *dir, const struct directory_password_policy *policy,
                       const char *password, char **hash_r, const char **error_r)
{
	const char *why;

	if (directory_password_check(policy, password, &why) < 0 ||
	    password_hash_params(password, policy->argon2_ops, policy->argon2_mem, hash_r, &why) <
	        0) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "%s", why);
		*error_r = directory_last_message(dir);
		return -1;
	}
	return 0;
}

static void hash_free(char **hash)
{
	sodium_memzero(*hash, strlen(*hash));
	free(*hash);
	*hash = NULL;
}

/* Derive and store the SCRAM keys of password for address. */
static int store_scram(struct directory *dir, const struct directory_password_policy *policy,
                       const char *address, const char *password, const char **error_r)
{
	unsigned iter =
	    policy->scram_iterations > 0 ? policy->scram_iterations : SCRAM_ITERATIONS_DEFAULT;
	struct scram_keys keys;
	const char *why;
	char *text;
	int ret;

	if (scram_keys_derive(password, strlen(password), NULL, 0, iter, &keys, &why) < 0) {
		directory_fail(dir, DIRECTORY_ERR_INVALID, "%s", why);
		*error_r = directory_last_message(dir);
		return -1;
	}
	text = scram_keys_format(&keys);
	sodium_memzero(&keys, sizeof(keys));
	ret = directory_user_set_scram(dir, address, text, error_r);
	free(text);
	return ret;
}

int directory_admin_user_add_check(struct directory *dir, const char *address, const char **error_r)
{
	struct directory_user *user = NULL;
	struct address addr;
	const char *reason;
	int ret;

	if (address_parse_mailbox(address, strlen(address), &addr, &reason) < 0) {
		directory_fail(dir, DIRECTORY_ERR_MALFORMED, "malformed address \"%.300s\": %s",
		               address, reason);
		*error_r = directory_last_message(dir);
		return -1;
	}
	ret = directory_domain_exists(dir, addr.domain, error_r);
	if (ret == 0)
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown domain %s", addr.domain);
	address_free(&addr);
	if (ret == 1)
		ret = directory_user_lookup(dir, address, &user, error_r);
	else if (ret == 0)
		ret = -1;
	if (ret == 1)
		directory_fail(dir, DIRECTORY_ERR_EXISTS, "user %s already exists", user->address);
	directory_user_free(&user);
	if (ret != 0) {
		*error_r = directory_last_message(dir);
		return -1;
	}
	return 0;
}

int directory_admin_user_add(struct directory *dir, const struct directory_password_policy *policy,
                             const char *address, const char *password, uint64_t quota_bytes,
                             const char **error_r)
{
	char *hash;
	int ret;

	if (directory_admin_user_add_check(dir, address, error_r) < 0 ||
	    policy_hash(dir, policy, password, &hash, error_r) < 0)
		return -1;
	ret = directory_user_add(dir, address, hash, quota_bytes, error_r);
	hash_free(&hash);
	if (ret == 0)
		ret = store_scram(dir, policy, address, password, error_r);
	return ret;
}

int directory_admin_passwd_check(struct directory *dir, const char *address, const char **error_r)
{
	struct directory_user *user = NULL;
	int ret = directory_user_lookup(dir, address, &user, error_r);

	directory_user_free(&user);
	if (ret == 0) {
		directory_fail(dir, DIRECTORY_ERR_NOT_FOUND, "unknown user %s", address);
		*error_r = directory_last_message(dir);
	}
	return ret == 1 ? 0 : -1;
}

int directory_admin_set_password(struct directory *dir,
                                 const struct directory_password_policy *policy,
                                 const char *address, const char *password, const char **error_r)
{
	char *hash;
	int ret;

	if (directory_admin_passwd_check(dir, address, error_r) < 0 ||
	    policy_hash(dir, policy, password, &hash, error_r) < 0)
		return -1;
	ret = directory_user_set_password(dir, address, hash, error_r);
	hash_free(&hash);
	if (ret == 0)
		ret = store_scram(dir, policy, address, password, error_r);
	return ret;
}
