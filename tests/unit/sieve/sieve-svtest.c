/* sieve-svtest FILE...: run Pigeonhole-style .svtest files (the
   vnd.dovecot.testsuite commands test, test_set, test_fail) through Tern's
   Sieve library; prints "ok NAME" or "FAIL NAME: why" per test and exits
   1 if any test failed or a file did not compile. Not a unit test. */
#include "svtest-run.h"

int main(int argc, char **argv)
{
	unsigned all = 0, bad = 0;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		unsigned tests, failed;
		if (svtest_run_file(argv[i], stdout, &tests, &failed) < 0) {
			status = 1;
			continue;
		}
		all += tests;
		bad += failed;
	}
	printf("%u tests, %u failed\n", all, bad);
	return status || bad ? 1 : 0;
}
