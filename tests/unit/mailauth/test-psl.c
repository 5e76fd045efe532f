/* Unit tests for src/mailauth/psl.c: rule kinds, Punycode of IDN rules,
   and the list's own vectors (../shared/conformance/dmarc/psl/test_psl.txt)
   against Debian's list, one cmocka test per vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "mailauth/psl.h"

static struct psl *small_list(void)
{
	static const char *const rules[] = {
	    "// comment",    "",     "com",     "uk.com",  "jp", "ac.jp", "*.kobe.jp",
	    "!city.kobe.jp", "*.ck", "!www.ck", "公司.cn", "cn", "中国",  "example.org extra text",
	};
	struct psl *psl = psl_new();
	const char *error;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		assert_int_equal(psl_add_rule(psl, rules[i], strlen(rules[i]), &error), 0);
	return psl;
}

/* org domain of domain, or NULL. */
static const char *org(const struct psl *psl, const char *domain)
{
	const char *o;

	return psl_org_domain(psl, domain, &o) == 1 ? o : NULL;
}

static void test_rules(void **state)
{
	struct psl *psl = small_list();

	assert_string_equal(org(psl, "a.b.example.com"), "example.com");
	assert_string_equal(org(psl, "x.example.uk.com"), "example.uk.com");
	assert_null(org(psl, "uk.com"));
	assert_null(org(psl, "com"));
	assert_string_equal(org(psl, "www.test.ac.jp"), "test.ac.jp");
	assert_null(org(psl, "c.kobe.jp"));
	assert_string_equal(org(psl, "a.b.c.kobe.jp"), "b.c.kobe.jp");
	assert_string_equal(org(psl, "www.city.kobe.jp"), "city.kobe.jp");
	assert_string_equal(org(psl, "www.www.ck"), "www.ck");
	assert_null(org(psl, "test.ck"));
	/* Unlisted TLD: the implicit "*" rule. */
	assert_string_equal(org(psl, "b.example.example"), "example.example");
	assert_string_equal(org(psl, "WWW.Example.COM"), "Example.COM");
	/* The rule text after whitespace is ignored. */
	assert_null(org(psl, "example.org"));
	psl_free(&psl);
	assert_null(psl);
	psl_free(&psl);
}

static void test_invalid(void **state)
{
	struct psl *psl = small_list();
	const char *error, *s;
	char big[PSL_MAX_NAME + 10];

	assert_null(org(psl, ""));
	assert_null(org(psl, ".example.com"));
	assert_null(org(psl, "example.com."));
	assert_null(org(psl, "a..example.com"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(org(psl, big));
	assert_int_equal(psl_add_rule(psl, "a..b", 4, &error), -1);
	assert_int_equal(psl_add_rule(psl, "*.*.b", 5, &error), -1);
	assert_int_equal(psl_add_rule(psl, big, strlen(big), &error), -1);
	assert_int_equal(psl_public_suffix(psl, "x.y.example.uk.com", &s), 1);
	assert_string_equal(s, "uk.com");
	psl_free(&psl);
}

static void test_idn(void **state)
{
	struct psl *psl = small_list();

	/* RFC 3492 A-labels of the list's IDN test names. */
	assert_string_equal(org(psl, "www.xn--85x722f.xn--55qx5d.cn"), "xn--85x722f.xn--55qx5d.cn");
	assert_null(org(psl, "xn--55qx5d.cn"));
	assert_null(org(psl, "xn--fiqs8s"));
	assert_string_equal(org(psl, "shishi.xn--fiqs8s"), "shishi.xn--fiqs8s");
	assert_string_equal(org(psl, "www.食狮.公司.cn"), "食狮.公司.cn");
	assert_null(org(psl, "公司.cn"));
	/* Mixed forms match too. */
	assert_string_equal(org(psl, "a.b.公司.cn"), "b.公司.cn");
	assert_int_equal(psl_count(psl), 14);
	psl_free(&psl);
}

static void test_load_errors(void **state)
{
	struct psl *psl = NULL;
	char *error = NULL;
	char path[] = "/tmp/test-psl-XXXXXX";
	int fd = mkstemp(path);

	assert_int_equal(psl_load("/nonexistent/psl.dat", &psl, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/psl.dat"));
	free(error);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "com\n// x\n\na..b\n", 15), 15);
	close(fd);
	assert_int_equal(psl_load(path, &psl, &error), -1);
	assert_non_null(strstr(error, ":4: invalid rule"));
	assert_null(psl);
	free(error);
	unlink(path);
}

/* --- the list's vectors --- */

struct vector {
	char *input, *expect; /* expect NULL: no org domain */
};

static struct psl *full_list;

static void run_vector(void **state)
{
	const struct vector *v = *state;
	const char *o = NULL;

	if (full_list == NULL)
		skip();
	if (psl_org_domain(full_list, v->input, &o) == 1) {
		assert_non_null(v->expect);
		assert_int_equal(strcasecmp(o, v->expect), 0);
	} else {
		assert_null(v->expect);
	}
}

/* 'text' or null from a checkPublicSuffix() argument; advances *p. */
static int js_arg(const char **p, char **out)
{
	const char *s = *p + strspn(*p, " ,(");
	const char *end;

	if (strncmp(s, "null", 4) == 0) {
		*out = NULL;
		*p = s + 4;
		return 0;
	}
	if (*s != '\'' || (end = strchr(s + 1, '\'')) == NULL)
		return -1;
	*out = xstrndup(s + 1, (size_t)(end - s - 1));
	*p = end + 1;
	return 0;
}

static size_t read_vectors(struct vector **vectors_r)
{
	const char *src = getenv("TERN_SRCDIR");
	char *path = xasprintf("%s/../shared/conformance/dmarc/psl/test_psl.txt", src ? src : ".");
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t count = 0;

	free(path);
	*vectors_r = NULL;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "checkPublicSuffix(");
		struct vector v;

		if (p == NULL || strncmp(line, "//", 2) == 0)
			continue;
		p += strlen("checkPublicSuffix");
		if (js_arg(&p, &v.input) < 0 || js_arg(&p, &v.expect) < 0 || v.input == NULL) {
			free(v.input);
			continue;
		}
		*vectors_r = xreallocarray(*vectors_r, count + 1, sizeof(**vectors_r));
		(*vectors_r)[count++] = v;
	}
	if (f != NULL)
		fclose(f);
	return count;
}

int main(void)
{
	const struct CMUnitTest basic[] = {
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_idn),
	    cmocka_unit_test(test_load_errors),
	};
	struct vector *vectors;
	size_t count = read_vectors(&vectors);
	struct CMUnitTest *tests = xcalloc(count + 1, sizeof(*tests));
	char *error = NULL;
	int failed;

	if (psl_load(PSL_DEFAULT_PATH, &full_list, &error) < 0) {
		print_message("skipping list vectors: %s\n", error);
		free(error);
	}
	for (size_t i = 0; i < count; i++) {
		tests[i].name = vectors[i].input;
		tests[i].test_func = run_vector;
		tests[i].initial_state = &vectors[i];
	}
	failed = cmocka_run_group_tests_name("mailauth-psl", basic, NULL, NULL);
	failed += _cmocka_run_group_tests("mailauth-psl-vectors", tests, count, NULL, NULL);
	for (size_t i = 0; i < count; i++) {
		free(vectors[i].input);
		free(vectors[i].expect);
	}
	free(vectors);
	free(tests);
	psl_free(&full_list);
	return failed;
}
