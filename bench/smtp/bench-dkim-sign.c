/* bench-dkim-sign: CPU cost of DKIM-signing one message (src/mailauth),
 * to set against the server's CPU per message that bench/smtp/run prints
 * (DESIGN.md section 7: signing may add at most 10%).
 *
 *   bench-dkim-sign [--size BYTES] [--count N] [--seconds S] [--chunk BYTES]
 *
 * Builds one plain message of --size bytes (default 10240, the size
 * bench/smtp/run sends), then for an RSA-2048 and an Ed25519 key made in
 * memory signs it again and again (new, feed in --chunk pieces, finish,
 * free) until --count signatures (default 2000) or --seconds (default 10)
 * per key, and prints the process CPU per signature. Not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"

struct opts {
	size_t size;
	unsigned long count;
	double seconds;
	size_t chunk;
};

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same shape as bench/smtp/run's message: a few fields, text lines. */
static void make_message(struct buf *b, size_t size)
{
	static const char line[] =
	    "The quick brown fox jumps over the lazy dog, again and again 0123456789.\r\n";

	buf_append_str(b, "From: Sender <sender@example.test>\r\n"
	                  "To: <bench@example.test>\r\nSubject: benchmark message\r\n"
	                  "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
	                  "Message-ID: <1.bench@example.test>\r\nMIME-Version: 1.0\r\n"
	                  "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	while (b->len + sizeof(line) - 1 <= size)
		buf_append_str(b, line);
}

/* Sign msg once; returns 0, or -1 with *error_r. */
static int sign_once(const struct dkim_sign_params *p, const struct buf *msg, size_t chunk,
                     const char **error_r)
{
	struct dkim_signer *signer;
	char *field = NULL;
	int ret = 0;

	if (dkim_signer_new(p, &signer, error_r) < 0)
		return -1;
	for (size_t off = 0; off < msg->len && ret == 0; off += chunk) {
		size_t n = msg->len - off < chunk ? msg->len - off : chunk;

		ret = dkim_signer_feed(signer, msg->data + off, n, error_r);
	}
	if (ret == 0)
		ret = dkim_signer_finish(signer, &field, error_r);
	free(field);
	dkim_signer_free(&signer);
	return ret;
}

static void run_key(const char *name, EVP_PKEY *key, const struct buf *msg, const struct opts *o)
{
	struct dkim_sign_params p = {.domain = "example.test", .selector = "bench", .key = key};
	double cpu0 = cpu_seconds(), wall0 = wall_seconds(), deadline = wall0 + o->seconds;
	const char *error;
	unsigned long n = 0;

	while (n < o->count && wall_seconds() < deadline) {
		if (sign_once(&p, msg, o->chunk, &error) < 0) {
			printf("%-8s sign failed: %s\n", name, error);
			return;
		}
		n++;
	}
	double cpu = cpu_seconds() - cpu0, wall = wall_seconds() - wall0;

	printf("%-8s %lu signatures of %zu bytes: %.3f ms CPU each (%.0f signatures/s wall)\n",
	       name, n, msg->len, n ? cpu * 1000 / (double)n : 0, wall > 0 ? (double)n / wall : 0);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--size") == 0)
			o->size = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			o->count = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			o->seconds = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--chunk") == 0)
			o->chunk = strtoul(argv[++i], NULL, 10);
		else
			return -1;
	}
	/* Bounded whatever is asked: at most 64 MB, 1e6 signatures, 10 min. */
	if (o->size < 300 || o->size > 64 << 20 || o->count == 0 || o->count > 1000000 ||
	    !(o->seconds > 0 && o->seconds <= 600) || o->chunk == 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.size = 10240, .count = 2000, .seconds = 10, .chunk = 65536};
	struct buf msg = BUF_INIT;
	EVP_PKEY *rsa = NULL, *ed = NULL;
	const char *error;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-dkim-sign [--size BYTES] [--count N] [--seconds S] "
		                "[--chunk BYTES]\n");
		return 2;
	}
	make_message(&msg, o.size);
	if (dkim_key_generate(DKIM_KEY_RSA, 2048, &rsa, &error) < 0 ||
	    dkim_key_generate(DKIM_KEY_ED25519, 0, &ed, &error) < 0) {
		fprintf(stderr, "bench-dkim-sign: %s\n", error);
		return 1;
	}
	run_key("rsa-2048", rsa, &msg, &o);
	run_key("ed25519", ed, &msg, &o);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	buf_free(&msg);
	return 0;
}
