/* Unit tests for src/directory/directory-admin.c, over the in-memory
   backend (cheap Argon2id parameters: the policy is under test, not the
   hash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "directory/password.h"
#include "directory/directory-admin.h"
#include "directory/directory-memory.h"
#include "directory/scram-keys.h"

static const struct directory_password_policy policy = {
    .min_length = 8,
    .argon2_ops = 1,
    .argon2_mem = 8192,
};

static int setup(void **state)
{
	struct directory *dir;
	const char *error;

	directory_open_memory(&dir);
	if (directory_domain_add(dir, "example.org", &error) < 0)
		return -1;
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	struct directory *dir = *state;

	directory_close(&dir);
	return 0;
}

static void test_password_check(void **state)
{
	const char *error = NULL;
	char long_pw[PASSWORD_MAX_LEN + 2];

	assert_int_equal(directory_password_check(&policy, "12345678", &error), 0);
	/* characters, not bytes: eight two-byte letters pass, seven fail */
	assert_int_equal(directory_password_check(&policy,
	                                          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                                          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	                                          &error),
	                 0);
	assert_int_equal(directory_password_check(&policy,
	                                          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                                          "\xc3\xa9\xc3\xa9\xc3\xa9",
	                                          &error),
	                 -1);
	assert_string_equal(error, "password too short (minimum 8 characters)");
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_int_equal(directory_password_check(&policy, long_pw, &error), -1);
	assert_string_equal(error, "password too long (maximum 512 bytes)");
	assert_int_equal(directory_password_check(&policy, "abcdefgh\xff", &error), -1);
	assert_string_equal(error, "password is not valid UTF-8");
	/* a policy of 0 still refuses the empty password */
	assert_int_equal(
	    directory_password_check(&(struct directory_password_policy){0}, "", &error), -1);
}

static void test_user_add(void **state)
{
	struct directory *dir = *state;
	struct directory_user *user = NULL;
	const char *error = NULL;

	assert_int_equal(directory_admin_user_add_check(dir, "a@example.org", &error), 0);
	assert_int_equal(directory_admin_user_add(dir, &policy, "A@Example.org", "long enough",
	                                          DIRECTORY_QUOTA_DEFAULT, &error),
	                 0);
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 1);
	assert_string_equal(user->address, "A@example.org");
	assert_non_null(strstr(user->password_hash, "$argon2id$v=19$m=8,t=1,p=1$"));
	assert_int_equal(password_verify("long enough", user->password_hash, &error), 1);
	directory_user_free(&user);

	assert_int_equal(directory_admin_user_add_check(dir, "a@EXAMPLE.org", &error), -1);
	assert_string_equal(error, "user A@example.org already exists");
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_EXISTS);
	assert_int_equal(directory_admin_user_add_check(dir, "b@example.com", &error), -1);
	assert_string_equal(error, "unknown domain example.com");
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
	assert_int_equal(directory_admin_user_add_check(dir, "not an address", &error), -1);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_MALFORMED);
	assert_int_equal(
	    directory_admin_user_add(dir, &policy, "b@example.org", "short", 0, &error), -1);
	assert_string_equal(error, "password too short (minimum 8 characters)");
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_INVALID);
	assert_int_equal(directory_user_lookup(dir, "b@example.org", &user, &error), 0);
}

static void test_set_password(void **state)
{
	struct directory *dir = *state;
	struct directory_user *user = NULL;
	const char *error = NULL;
	char *before;

	assert_int_equal(
	    directory_admin_set_password(dir, &policy, "x@example.org", "long enough", &error), -1);
	assert_string_equal(error, "unknown user x@example.org");
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_NOT_FOUND);
	assert_int_equal(
	    directory_admin_user_add(dir, &policy, "a@example.org", "long enough", 0, &error), 0);
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 1);
	before = strdup(user->password_hash);
	directory_user_free(&user);
	assert_int_equal(
	    directory_admin_set_password(dir, &policy, "a@example.org", "tiny", &error), -1);
	assert_int_equal(directory_error_kind(dir), DIRECTORY_ERR_INVALID);
	assert_int_equal(
	    directory_admin_set_password(dir, &policy, "a@example.org", "another one", &error), 0);
	assert_int_equal(directory_user_lookup(dir, "a@example.org", &user, &error), 1);
	assert_string_not_equal(user->password_hash, before);
	assert_int_equal(password_verify("another one", user->password_hash, &error), 1);
	assert_int_equal(password_verify("long enough", user->password_hash, &error), 0);
	directory_user_free(&user);
	free(before);
}

/* The keys stored with a password are those the password derives with
   the stored salt and count; a new password gets new ones. */
static void assert_keys_of(struct directory *dir, const char *address, const char *password,
                           char **text_r)
{
	struct directory_user *user = NULL;
	struct scram_keys stored, derived;
	const char *error;

	assert_int_equal(directory_user_lookup(dir, address, &user, &error), 1);
	assert_non_null(user->scram);
	assert_int_equal(scram_keys_parse(user->scram, &stored, &error), 0);
	assert_int_equal(stored.iterations, SCRAM_ITERATIONS_DEFAULT);
	assert_int_equal(stored.salt_len, SCRAM_SALT_LEN);
	assert_int_equal(scram_keys_derive(password, strlen(password), stored.salt, stored.salt_len,
	                                   stored.iterations, &derived, &error),
	                 0);
	assert_memory_equal(stored.stored_key, derived.stored_key, SCRAM_KEY_LEN);
	assert_memory_equal(stored.server_key, derived.server_key, SCRAM_KEY_LEN);
	assert_null(strstr(user->scram, password));
	*text_r = strdup(user->scram);
	directory_user_free(&user);
}

static void test_scram_keys(void **state)
{
	struct directory *dir = *state;
	char *first, *second;
	const char *error;

	assert_int_equal(
	    directory_admin_user_add(dir, &policy, "k@example.org", "first password", 0, &error),
	    0);
	assert_keys_of(dir, "k@example.org", "first password", &first);
	assert_int_equal(directory_scram_any(dir, &error), 1);
	assert_int_equal(
	    directory_admin_set_password(dir, &policy, "k@example.org", "second password", &error),
	    0);
	assert_keys_of(dir, "k@example.org", "second password", &second);
	assert_string_not_equal(first, second);
	free(first);
	free(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_password_check),
	    cmocka_unit_test_setup_teardown(test_user_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scram_keys, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
