/* bench-mime: parsing speed and memory of the MIME parser (src/mime).
 *
 *   bench-mime [--size MB] [--rounds N] [--chunk BYTES] [FILE...]
 *
 * Without FILEs it generates a corpus of real-looking mail (default 20 MB,
 * fixed seed: short notes, replies with quoted text, newsletters in
 * multipart/alternative, mail with base64 attachments, forwarded
 * message/rfc822, a few big attachments); with FILEs it uses those
 * messages. Every message is fed to the streaming parser in chunks (as if
 * read from the Maildir file), N rounds, and it prints:
 *   - parse MB/s (wall and CPU), messages/s;
 *   - parse + ENVELOPE + BODYSTRUCTURE MB/s;
 *   - heap bytes per message: the peak held while parsing (parser and
 *     tree, just before finish) and what the finished tree keeps, from
 *     mallinfo2() in an untimed pass.
 * Figures for this machine are in bench/README.md. Not a test.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"

struct corpus {
	struct buf *msgs;
	size_t count, cap;
	uint64_t bytes;
};

struct opts {
	size_t size_mb;
	unsigned int rounds;
	size_t chunk;
};

/* xorshift64*: deterministic, so every run parses the same corpus */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

static const char *const words[] = {
    "the",    "meeting", "tomorrow", "project", "report", "please", "review", "attached",
    "thanks", "budget",  "server",   "update",  "about",  "with",   "will",   "from",
    "have",   "this",    "that",     "regards", "team",   "mail",   "second", "quarter",
    "we",     "should",  "deadline", "friday",  "draft",  "notes",  "call",   "agenda"};

static void text_lines(struct buf *b, size_t bytes, const char *quote)
{
	size_t start = b->len;

	while (b->len - start < bytes) {
		size_t line = b->len;

		buf_append_str(b, quote);
		while (b->len - line < 60 + rnd(14))
			buf_printf(b, "%s ", words[rnd(sizeof(words) / sizeof(words[0]))]);
		buf_append_str(b, rnd(8) == 0 ? "\r\n\r\n" : "\r\n");
	}
}

static void html_lines(struct buf *b, size_t bytes)
{
	size_t start = b->len;

	buf_append_str(b, "<html><head><style>p{margin:0}</style></head><body>\r\n");
	while (b->len - start < bytes) {
		buf_append_str(b, "<p style=3D\"font-family:Arial\">");
		text_lines(b, 70, "");
		buf_append_str(b, "</p>\r\n");
	}
	buf_append_str(b, "</body></html>\r\n");
}

static void base64_lines(struct buf *b, size_t bytes)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t done = 0; done < bytes; done += 78) {
		for (int i = 0; i < 76; i++)
			buf_append_char(b, alphabet[rnd(64)]);
		buf_append_str(b, "\r\n");
	}
}

static void trace_headers(struct buf *b, unsigned int id)
{
	for (unsigned int hop = 0; hop < 2 + rnd(4); hop++)
		buf_printf(b,
		           "Received: from mx%u.example.net (mx%u.example.net [192.0.2.%u])\r\n"
		           "\tby mail.example.org (Tern) with ESMTPS id %08x\r\n"
		           "\tfor <user%u@example.org>; Mon, 16 Nov 2026 10:%02u:%02u +0000\r\n",
		           hop, hop, rnd(250), rnd(1u << 31), id % 50, rnd(60), rnd(60));
	buf_append_str(b,
	               "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net;\r\n"
	               "\ts=sel1; h=from:to:subject:date:message-id;\r\n"
	               "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	               "\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\r\n");
}

static void main_headers(struct buf *b, unsigned int id, const char *subject)
{
	trace_headers(b, id);
	buf_printf(b,
	           "From: \"Sender %u\" <sender%u@example.net>\r\n"
	           "To: User <user%u@example.org>, =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n"
	           "Subject: %s %u\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n"
	           "Message-ID: <%u.%08x@example.net>\r\nMIME-Version: 1.0\r\n",
	           id % 97, id % 97, id % 50, subject, id, id, rnd(1u << 31));
}

static void plain_msg(struct buf *b, unsigned int id, size_t bytes)
{
	main_headers(b, id, "Re: notes");
	buf_append_str(b, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
	                  "Content-Transfer-Encoding: 8bit\r\n\r\n");
	text_lines(b, bytes / 2, "");
	buf_append_str(b, "\r\nOn Friday, someone wrote:\r\n");
	text_lines(b, bytes / 2, "> ");
}

static void alternative(struct buf *b, const char *boundary, size_t bytes)
{
	buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
	buf_printf(b,
	           "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	           boundary);
	text_lines(b, bytes / 3, "");
	buf_printf(b,
	           "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
	           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	           boundary);
	html_lines(b, bytes * 2 / 3);
	buf_printf(b, "\r\n--%s--\r\n", boundary);
}

static void newsletter_msg(struct buf *b, unsigned int id, size_t bytes)
{
	main_headers(b, id, "Newsletter");
	buf_append_str(b, "List-Unsubscribe: <mailto:unsub@example.net>\r\n");
	alternative(b, "=_alt_1", bytes);
}

static void attachment(struct buf *b, const char *boundary, size_t bytes)
{
	buf_printf(b,
	           "--%s\r\nContent-Type: application/pdf; name=\"report %u.pdf\"\r\n"
	           "Content-Transfer-Encoding: base64\r\n"
	           "Content-Disposition: attachment; filename=\"report %u.pdf\"\r\n\r\n",
	           boundary, rnd(100), rnd(100));
	base64_lines(b, bytes);
}

static void attachment_msg(struct buf *b, unsigned int id, size_t bytes)
{
	main_headers(b, id, "Report attached");
	buf_append_str(b, "Content-Type: multipart/mixed; boundary=\"=_mixed_1\"\r\n\r\n"
	                  "This is a multi-part message in MIME format.\r\n--=_mixed_1\r\n");
	alternative(b, "=_alt_2", 2000 + rnd(4000));
	for (unsigned int n = 1 + rnd(3), i = 0; i < n; i++)
		attachment(b, "=_mixed_1", bytes / n);
	buf_append_str(b, "--=_mixed_1--\r\n");
}

static void forward_msg(struct buf *b, unsigned int id, size_t bytes)
{
	main_headers(b, id, "Fwd: report");
	buf_append_str(b, "Content-Type: multipart/mixed; boundary=\"=_fwd_1\"\r\n\r\n"
	                  "--=_fwd_1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	                  "See below.\r\n--=_fwd_1\r\nContent-Type: message/rfc822\r\n\r\n");
	attachment_msg(b, id + 1, bytes);
	buf_append_str(b, "\r\n--=_fwd_1--\r\n");
}

/* One message of a mix close to a mailbox: mostly small mail, a fifth
   with attachments, a few big ones. */
static void gen_message(struct buf *b, unsigned int id)
{
	uint32_t kind = rnd(100);

	if (kind < 40)
		plain_msg(b, id, 500 + rnd(6000));
	else if (kind < 70)
		newsletter_msg(b, id, 10000 + rnd(50000));
	else if (kind < 90)
		attachment_msg(b, id, 20000 + rnd(300000));
	else if (kind < 98)
		forward_msg(b, id, 10000 + rnd(100000));
	else
		attachment_msg(b, id, 1000000 + rnd(3000000));
}

static struct buf *corpus_add(struct corpus *c)
{
	if (c->count == c->cap) {
		c->cap = c->cap == 0 ? 256 : c->cap * 2;
		c->msgs = realloc(c->msgs, c->cap * sizeof(*c->msgs));
		if (c->msgs == NULL) {
			perror("bench-mime");
			exit(1);
		}
	}
	memset(&c->msgs[c->count], 0, sizeof(c->msgs[0]));
	return &c->msgs[c->count++];
}

static void corpus_generate(struct corpus *c, size_t size_mb)
{
	for (unsigned int id = 1; c->bytes < (uint64_t)size_mb * 1000000; id++) {
		struct buf *b = corpus_add(c);

		gen_message(b, id);
		c->bytes += b->len;
	}
}

static void corpus_load(struct corpus *c, char **files, int count)
{
	for (int i = 0; i < count; i++) {
		struct buf *b = corpus_add(c);
		char *data;
		size_t len;

		if (read_file(files[i], 1024u * 1024 * 1024, &data, &len) < 0) {
			perror(files[i]);
			exit(1);
		}
		buf_append(b, data, len);
		free(data);
		c->bytes += len;
	}
}

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Feed the message in chunks, as a reader of the Maildir file would. */
static struct mime_parser *feed_all(const struct buf *msg, size_t chunk)
{
	struct mime_parser *p = mime_parser_new(NULL);

	for (size_t off = 0; off < msg->len; off += chunk)
		mime_parser_feed(p, msg->data + off,
		                 msg->len - off < chunk ? msg->len - off : chunk);
	return p;
}

/* One pass over the corpus; render adds ENVELOPE and BODYSTRUCTURE. */
static void parse_pass(const struct corpus *c, size_t chunk, bool render)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < c->count; i++) {
		struct mime_parser *p = feed_all(&c->msgs[i], chunk);
		struct mime_part *root;

		(void)mime_parser_finish(p, &root);
		mime_parser_free(&p);
		if (render) {
			buf_clear(&out);
			mime_imap_envelope(root, &out);
			mime_imap_bodystructure(root, true, &out);
		}
		mime_part_free(&root);
	}
	buf_free(&out);
}

static void timed(const struct corpus *c, const struct opts *o, bool render, const char *what)
{
	double wall = now(CLOCK_MONOTONIC), cpu = now(CLOCK_PROCESS_CPUTIME_ID);
	double mb = (double)c->bytes * o->rounds / 1e6;

	for (unsigned int r = 0; r < o->rounds; r++)
		parse_pass(c, o->chunk, render);
	wall = now(CLOCK_MONOTONIC) - wall;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	printf("%-28s %8.1f MB/s wall %8.1f MB/s cpu %9.0f msgs/s (%.2f s)\n", what, mb / wall,
	       mb / cpu, (double)c->count * o->rounds / wall, wall);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	/* small blocks plus mmap()ed ones */
	return mi.uordblks + mi.hblkhd;
}

/* Untimed: heap held per message, at the end of feeding (parser + tree)
   and by the finished tree alone. */
static void memory_pass(const struct corpus *c, size_t chunk)
{
	size_t peak_sum = 0, tree_sum = 0, peak_max = 0, parts_max_msg = 0;

	for (size_t i = 0; i < c->count; i++) {
		size_t base = heap_in_use();
		struct mime_parser *p = feed_all(&c->msgs[i], chunk);
		size_t peak = heap_in_use() - base;
		struct mime_part *root;

		(void)mime_parser_finish(p, &root);
		mime_parser_free(&p);
		tree_sum += heap_in_use() - base;
		peak_sum += peak;
		if (peak > peak_max) {
			peak_max = peak;
			parts_max_msg = i;
		}
		mime_part_free(&root);
	}
	if (peak_max == 0) {
		puts("heap per message: not measurable here (mallinfo2() sees no allocations, as "
		     "under ASan)");
		return;
	}
	printf("heap per message: %.0f bytes while parsing (parser + tree), %.0f bytes kept "
	       "by the tree; largest %zu bytes (message %zu, %zu bytes)\n",
	       (double)peak_sum / c->count, (double)tree_sum / c->count, peak_max, parts_max_msg,
	       c->msgs[parts_max_msg].len);
}

static int parse_opts(int argc, char **argv, struct opts *o, int *first_file_r)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		long v = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 0;

		if (v <= 0 || v > 100000)
			return -1;
		if (strcmp(argv[i], "--size") == 0)
			o->size_mb = (size_t)v;
		else if (strcmp(argv[i], "--rounds") == 0)
			o->rounds = (unsigned int)v;
		else if (strcmp(argv[i], "--chunk") == 0)
			o->chunk = (size_t)v;
		else
			return -1;
	}
	*first_file_r = i;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.size_mb = 20, .rounds = 20, .chunk = 65536};
	struct corpus c = {0};
	int first;

	if (parse_opts(argc, argv, &o, &first) < 0) {
		fputs("usage: bench-mime [--size MB] [--rounds N] [--chunk BYTES] [FILE...]\n",
		      stderr);
		return 2;
	}
	if (first < argc)
		corpus_load(&c, argv + first, argc - first);
	else
		corpus_generate(&c, o.size_mb);
	printf("corpus: %zu messages, %.1f MB (%s), %u rounds, %zu-byte chunks\n", c.count,
	       (double)c.bytes / 1e6, first < argc ? "files" : "generated", o.rounds, o.chunk);
	parse_pass(&c, o.chunk, true); /* warm up */
	timed(&c, &o, false, "parse");
	timed(&c, &o, true, "parse + ENVELOPE/BODYSTRUCTURE");
	memory_pass(&c, o.chunk);
	for (size_t i = 0; i < c.count; i++)
		buf_free(&c.msgs[i]);
	free(c.msgs);
	return 0;
}
