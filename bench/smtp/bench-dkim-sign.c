/* bench-dkim-sign: CPU cost of DKIM-signing one message (src/mailauth),
 * to set against the server's CPU per message that bench/smtp/run prints
 * (DESIGN.md section 7: signing may add at most 10%).
 *
 *   bench-dkim-sign [--size BYTES] [--count N] [--seconds S] [--chunk BYTES]
 *                   [--only rsa|ed25519] [--rounds R] [--openssl]
 *                   [--ref-rsa MS] [--ref-ed25519 MS]
 *
 * Builds one plain message of --size bytes (default 10240, the size
 * bench/smtp/run sends), then for an RSA-2048 and an Ed25519 key made in
 * memory signs it again and again (new, feed in --chunk pieces, finish,
 * free) until --count signatures (default 2000) or --seconds (default 10)
 * per key, and prints the process CPU per signature.
 *
 * Beside it, in the same process and alternating with it (--rounds times,
 * default 3, the median taken: the machine is shared and noisy), it times
 * the bare signature alone with the same key: EVP_DigestSign of a 32-byte
 * digest for Ed25519 and of 32 bytes with SHA-256 for RSA, what `openssl
 * speed` measures. --openssl also runs `openssl speed -seconds 3 rsa2048
 * ed25519` once and --ref-* take its figures (ms per signature) instead;
 * the ratio to each is printed (issue 8: at most 1.3). Not a test.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "lib/buf.h"
#include "mailauth/dkim-keystore.h"
#include "mailauth/dkim-sign.h"

#define MAX_ROUNDS 15

struct opts {
	size_t size;
	unsigned long count;
	double seconds;
	size_t chunk;
	unsigned rounds;
	const char *only;
	bool openssl;
	double ref_rsa, ref_ed25519; /* ms per signature, 0: not given */
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

/* CPU ms per whole signature of msg, or -1 with *error_r. */
static double measure_sign(EVP_PKEY *key, const struct buf *msg, const struct opts *o,
                           const char **error_r)
{
	struct dkim_sign_params p = {.domain = "example.test", .selector = "bench", .key = key};
	double cpu0 = cpu_seconds(), deadline = wall_seconds() + o->seconds / o->rounds;
	unsigned long n = 0;

	while (n < o->count && wall_seconds() < deadline) {
		if (sign_once(&p, msg, o->chunk, error_r) < 0)
			return -1;
		n++;
	}
	return (cpu_seconds() - cpu0) * 1000 / (double)n;
}

/* CPU ms per bare signature, timed as `openssl speed` does: one context
   set up before the loop, then only the signing call (Ed25519 over a
   32-byte digest; RSA PKCS#1 v1.5 of a SHA-256 digest). -1 on failure. */
static double measure_bare(EVP_PKEY *key, bool ed25519, const struct opts *o)
{
	static const uint8_t data[32] = {1, 2, 3};
	EVP_MD_CTX *md = ed25519 ? EVP_MD_CTX_new() : NULL;
	EVP_PKEY_CTX *pk = ed25519 ? NULL : EVP_PKEY_CTX_new(key, NULL);
	uint8_t sig[512];
	size_t sig_len;
	unsigned long n = 0;
	int ok;

	if (ed25519)
		ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1;
	else
		ok = pk != NULL && EVP_PKEY_sign_init(pk) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(pk, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(pk, EVP_sha256()) == 1;
	double cpu0 = cpu_seconds(), deadline = wall_seconds() + o->seconds / o->rounds;

	while (ok && n < o->count && wall_seconds() < deadline) {
		sig_len = sizeof(sig);
		ok = ed25519 ? EVP_DigestSign(md, sig, &sig_len, data, sizeof(data)) == 1
		             : EVP_PKEY_sign(pk, sig, &sig_len, data, sizeof(data)) == 1;
		n++;
	}
	double cpu = cpu_seconds() - cpu0;

	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pk);
	return ok ? cpu * 1000 / (double)n : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Alternate whole and bare signatures --rounds times; print the medians
   and the ratios. */
static void run_key(const char *name, EVP_PKEY *key, bool ed25519, double ref,
                    const struct buf *msg, const struct opts *o)
{
	double sign[MAX_ROUNDS], bare[MAX_ROUNDS], s, b;
	const char *error;

	for (unsigned r = 0; r < o->rounds; r++) {
		sign[r] = measure_sign(key, msg, o, &error);
		bare[r] = measure_bare(key, ed25519, o);
		if (sign[r] < 0 || bare[r] < 0) {
			printf("%-8s sign failed: %s\n", name,
			       sign[r] < 0 ? error : "bare signature");
			return;
		}
	}
	s = median(sign, o->rounds);
	b = median(bare, o->rounds);
	printf("%-8s message of %zu bytes: %.4f ms CPU per DKIM signature; bare signature "
	       "%.4f ms: ratio %.2f",
	       name, msg->len, s, b, s / b);
	if (ref > 0)
		printf("; openssl speed %.4f ms: ratio %.2f", ref, s / ref);
	printf(" (median of %u rounds)\n", o->rounds);
}

/* One sign/s figure of `openssl speed` output, as ms per signature. */
static void parse_speed_line(const char *line, struct opts *o)
{
	const char *ed = strstr(line, "(Ed25519)");
	double t1, t2, per_s;

	if (strncmp(line, "rsa 2048 bits", 13) == 0 &&
	    sscanf(line + 13, "%lfs %lfs %lf", &t1, &t2, &per_s) == 3 && per_s > 0)
		o->ref_rsa = 1000 / per_s;
	else if (ed != NULL && sscanf(ed + 9, "%lfs %lfs %lf", &t1, &t2, &per_s) == 3 && per_s > 0)
		o->ref_ed25519 = 1000 / per_s;
}

/* Run `openssl speed` once (about 12 s) for the reference figures. */
static void run_openssl_speed(struct opts *o)
{
	FILE *f = popen("openssl speed -seconds 3 rsa2048 ed25519 2>/dev/null", "r");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		parse_speed_line(line, o);
	pclose(f);
	printf("openssl speed: rsa-2048 %.4f ms, ed25519 %.4f ms per signature\n", o->ref_rsa,
	       o->ref_ed25519);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--openssl") == 0) {
			o->openssl = true;
			continue;
		}
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
		else if (strcmp(argv[i], "--rounds") == 0)
			o->rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--only") == 0)
			o->only = argv[++i];
		else if (strcmp(argv[i], "--ref-rsa") == 0)
			o->ref_rsa = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--ref-ed25519") == 0)
			o->ref_ed25519 = strtod(argv[++i], NULL);
		else
			return -1;
	}
	/* Bounded whatever is asked: at most 64 MB, 1e6 signatures, 10 min. */
	if (o->size < 300 || o->size > 64 << 20 || o->count == 0 || o->count > 1000000 ||
	    !(o->seconds > 0 && o->seconds <= 600) || o->chunk == 0 || o->rounds == 0 ||
	    o->rounds > MAX_ROUNDS)
		return -1;
	if (o->only != NULL && strcmp(o->only, "rsa") != 0 && strcmp(o->only, "ed25519") != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.size = 10240, .count = 2000, .seconds = 30, .chunk = 65536, .rounds = 5};
	struct buf msg = BUF_INIT;
	EVP_PKEY *rsa = NULL, *ed = NULL;
	const char *error;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-dkim-sign [--size BYTES] [--count N] [--seconds S] "
		                "[--chunk BYTES] [--only rsa|ed25519] [--rounds R] [--openssl] "
		                "[--ref-rsa MS] [--ref-ed25519 MS]\n");
		return 2;
	}
	make_message(&msg, o.size);
	if (dkim_key_generate(DKIM_KEY_RSA, 2048, &rsa, &error) < 0 ||
	    dkim_key_generate(DKIM_KEY_ED25519, 0, &ed, &error) < 0) {
		fprintf(stderr, "bench-dkim-sign: %s\n", error);
		return 1;
	}
	if (o.openssl)
		run_openssl_speed(&o);
	if (o.only == NULL || strcmp(o.only, "rsa") == 0)
		run_key("rsa-2048", rsa, false, o.ref_rsa, &msg, &o);
	if (o.only == NULL || strcmp(o.only, "ed25519") == 0)
		run_key("ed25519", ed, true, o.ref_ed25519, &msg, &o);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	buf_free(&msg);
	return 0;
}
