/* Unit tests for src/directory/password.c against real Dovecot hashes
   (fixtures/dovecot-hashes.txt, made by fixtures/gen-dovecot-hashes.sh). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "directory/password.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

struct vector {
	char *scheme;
	char *password;
	char *hash;
};

static struct vector vectors[64];
static size_t vector_count;
static char *fixture_data;

static int load_vectors(void **state)
{
	const char *srcdir = getenv("TERN_SRCDIR");
	char *path = xasprintf("%s/tests/unit/directory/fixtures/dovecot-hashes.txt",
	                       srcdir != NULL ? srcdir : ".");
	size_t len;
	char *save = NULL;

	if (read_file(path, 1 << 20, &fixture_data, &len) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		free(path);
		return -1;
	}
	free(path);
	for (char *line = strtok_r(fixture_data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;

		if (line[0] == '#' || tab2 == NULL || vector_count == 64)
			continue;
		*tab1 = *tab2 = '\0';
		vectors[vector_count++] = (struct vector){line, tab1 + 1, tab2 + 1};
	}
	return vector_count >= 25 ? 0 : -1;
}

static int free_vectors(void **state)
{
	free(fixture_data);
	return 0;
}

/* A password that differs in its first byte, so it is wrong even for
   bcrypt, which only looks at the first 72 bytes. */
static char *wrong_password(const char *pw)
{
	char *w = xstrdup(pw);

	w[0] = w[0] == 'A' ? 'B' : 'A';
	return w;
}

static void test_dovecot_vectors(void **state)
{
	const char *error;

	for (size_t i = 0; i < vector_count; i++) {
		const struct vector *v = &vectors[i];
		char *prefix = xasprintf("{%s}", v->scheme);
		char *wrong = wrong_password(v->password);
		const char *bare = v->hash + strlen(prefix);

		assert_memory_equal(v->hash, prefix, strlen(prefix));
		assert_int_equal(password_verify(v->password, v->hash, &error), 1);
		assert_int_equal(password_verify(v->password, bare, &error), 1);
		assert_int_equal(password_verify(wrong, v->hash, &error), 0);
		assert_int_equal(password_verify(wrong, bare, &error), 0);
		assert_int_equal(password_verify("", v->hash, &error), 0);
		free(wrong);
		free(prefix);
	}
}

static void test_dovecot_vector_schemes_covered(void **state)
{
	static const char *const names[] = {"BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID",
	                                    "ARGON2I"};

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		size_t found = 0;

		for (size_t i = 0; i < vector_count; i++)
			found += strcmp(vectors[i].scheme, names[n]) == 0;
		assert_true(found >= 5);
	}
}

static void test_scheme_name_case_insensitive(void **state)
{
	const char *error;
	/* first BLF-CRYPT vector, with the scheme name lower-cased */
	char *lower = xasprintf("{blf-crypt}%s", vectors[0].hash + strlen("{BLF-CRYPT}"));

	assert_string_equal(vectors[0].scheme, "BLF-CRYPT");
	assert_int_equal(password_verify(vectors[0].password, lower, &error), 1);
	free(lower);
}

static void test_hash_roundtrip(void **state)
{
	char *h1, *h2;
	const char *error;

	assert_int_equal(password_hash("correct horse battery staple", &h1, &error), 0);
	assert_int_equal(password_hash("correct horse battery staple", &h2, &error), 0);
	assert_true(strncmp(h1, "{ARGON2ID}$argon2id$v=19$", 25) == 0);
	assert_string_not_equal(h1, h2); /* a fresh salt each time */
	assert_int_equal(password_verify("correct horse battery staple", h1, &error), 1);
	assert_int_equal(password_verify("correct horse battery staple", h2, &error), 1);
	assert_int_equal(password_verify("correct horse battery stapl", h1, &error), 0);
	assert_int_equal(password_verify("", h1, &error), 0);
	free(h1);
	free(h2);
}

static void test_long_passwords(void **state)
{
	char pw[PASSWORD_MAX_LEN + 2];
	char *hash;
	const char *error;

	memset(pw, 'a', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	assert_int_equal(password_hash(pw, &hash, &error), -1);
	assert_string_equal(error, "password too long");
	pw[PASSWORD_MAX_LEN] = '\0';
	assert_int_equal(password_hash(pw, &hash, &error), 0);
	assert_int_equal(password_verify(pw, hash, &error), 1);
	pw[PASSWORD_MAX_LEN] = 'a';
	assert_int_equal(password_verify(pw, hash, &error), 0);
	free(hash);
}

static void test_refused_and_corrupt(void **state)
{
	static const char *const bad[] = {
	    "",
	    "secret",
	    "{PLAIN}secret",
	    "{CLEARTEXT}secret",
	    "{CRYPT}abJnggxhB/yWI",
	    "{MD5-CRYPT}$1$abcdefgh$XxJ3JY0ffz2GCx5s6QvXe/",
	    "$1$abcdefgh$XxJ3JY0ffz2GCx5s6QvXe/",
	    "{SSHA512}aGVsbG8=",
	    "{BLF-CRYPT",
	    "{}$6$salt$hash",
	    "{SHA512-CRYPT}$5$rounds=5000$salt$x",
	    "{ARGON2ID}$argon2i$v=19$m=32768,t=4,p=1$c2FsdHNhbHQ$aGFzaA",
	    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ",
	    "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFz!aA",
	    "$argon2id$v=19$m=65536$c2FsdHNhbHQ$aGFzaA",
	    "{BLF-CRYPT}$2y$05$tooshort",
	    "$2y$99$I2ZB5zZJ9ZVZ1JZRTl3KEOsTzhGlnZsHZKALsjyujZfoEQXDwiE/u",
	    "$6$",
	};
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (password_verify("secret", bad[i], &error) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(error);
	}
}

static void test_truncated_vectors_are_corrupt(void **state)
{
	const char *error;

	for (size_t i = 0; i < vector_count; i++) {
		char *cut = xstrndup(vectors[i].hash, strlen(vectors[i].hash) - 3);

		assert_int_equal(password_verify(vectors[i].password, cut, &error) == 1, 0);
		free(cut);
	}
}

static void *verify_thread(void *arg)
{
	const char *error;
	intptr_t ok = 1;

	for (size_t i = 0; i < vector_count; i++) {
		if (strstr(vectors[i].scheme, "CRYPT") != NULL &&
		    password_verify(vectors[i].password, vectors[i].hash, &error) != 1)
			ok = 0;
	}
	return (void *)ok;
}

/* The crypt schemes run concurrently on worker threads in the server. */
static void test_threads(void **state)
{
	pthread_t th[4];
	void *ret;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, verify_thread, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_true((intptr_t)ret == 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dovecot_vectors),
	    cmocka_unit_test(test_dovecot_vector_schemes_covered),
	    cmocka_unit_test(test_scheme_name_case_insensitive),
	    cmocka_unit_test(test_hash_roundtrip),
	    cmocka_unit_test(test_long_passwords),
	    cmocka_unit_test(test_refused_and_corrupt),
	    cmocka_unit_test(test_truncated_vectors_are_corrupt),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
