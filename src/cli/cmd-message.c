/* tern message show [FILE]: how Tern parses a message (FILE, or standard
   input): the IMAP ENVELOPE and BODYSTRUCTURE, every section with its byte
   ranges, and the text the search index would get. For debugging. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"
#include "mime/mime-section.h"
#include "mime/mime-text.h"

/* Limits: the biggest message it reads, and the text it prints. */
#define MESSAGE_MAX_SIZE (256u * 1024 * 1024)
#define MESSAGE_MAX_TEXT (1024u * 1024)

static void usage(FILE *out)
{
	fputs("usage: tern message show [FILE]\n\n"
	      "Parses the message in FILE (standard input when FILE is absent or \"-\")\n"
	      "as Tern does and prints its IMAP ENVELOPE and BODYSTRUCTURE, every section\n"
	      "(IMAP part number, content type, header and body byte ranges, octets and\n"
	      "lines) and the extracted text. Messages up to 256 MiB.\n",
	      out);
}

/* Standard input, whole, up to MESSAGE_MAX_SIZE bytes. */
static int read_stdin(struct buf *out, const char **error_r)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			return -1;
		}
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > MESSAGE_MAX_SIZE) {
			*error_r = "message larger than 256 MiB";
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
}

static int read_message(const char *path, struct buf *out, const char **error_r)
{
	char *data;
	size_t len;

	struct stat st;

	if (path == NULL || strcmp(path, "-") == 0)
		return read_stdin(out, error_r);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		*error_r = strerror(EISDIR);
		return -1;
	}
	if (read_file(path, MESSAGE_MAX_SIZE, &data, &len) < 0) {
		*error_r = errno == EFBIG ? "message larger than 256 MiB" : strerror(errno);
		return -1;
	}
	buf_append(out, data, len);
	free(data);
	return 0;
}

static void print_flags(unsigned int flags)
{
	static const char *const names[] = {"no-blank-line", "unterminated", "capped",
	                                    "fields-dropped", "8bit-header"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((flags & (1u << i)) != 0)
			printf(" %s", names[i]);
	}
}

/* One section line: part number, type, ranges; what is after "body" is
   what BODYSTRUCTURE reports (octets, and lines). */
static void section_line(const struct mime_part *part, const char *number)
{
	printf("  %-12s %s/%s header %llu+%llu body %llu+%llu octets %llu lines %llu", number,
	       part->type, part->subtype, (unsigned long long)part->hdr.start,
	       (unsigned long long)part->hdr.size, (unsigned long long)part->body.start,
	       (unsigned long long)part->body.size, (unsigned long long)part->body.size,
	       (unsigned long long)part->body.lines);
	print_flags(part->flags);
	putchar('\n');
}

static void walk_message(const struct mime_part *msg, const char *prefix);

/* RFC 3501 section 6.4.5 numbering: children of a multipart are
   prefix.1, prefix.2, ... */
static void walk_children(const struct mime_part *mp, const char *prefix)
{
	unsigned int n = 1;

	for (const struct mime_part *c = mp->children; c != NULL; c = c->next, n++) {
		char number[MIME_SECTION_MAX_PATH * 11];

		snprintf(number, sizeof(number), "%s%s%u", prefix, *prefix == '\0' ? "" : ".", n);
		section_line(c, number);
		if (c->kind == MIME_PART_MULTIPART)
			walk_children(c, number);
		else if (c->kind == MIME_PART_MESSAGE)
			walk_message(c->children, number);
	}
}

/* A message (the root, or inside a message/rfc822 part numbered prefix):
   a multipart one is shown as prefix.TEXT (its header range is
   prefix.HEADER) before its parts; a non-multipart body is part prefix.1
   (RFC 3501 section 6.4.5). */
static void walk_message(const struct mime_part *msg, const char *prefix)
{
	char number[MIME_SECTION_MAX_PATH * 11];
	const char *dot = *prefix == '\0' ? "" : ".";

	snprintf(number, sizeof(number), "%s%s%s", prefix, dot,
	         msg->kind == MIME_PART_MULTIPART ? "TEXT" : "1");
	section_line(msg, number);
	if (msg->kind == MIME_PART_MULTIPART)
		walk_children(msg, prefix);
}

static void print_text(const struct mime_part *root, const struct buf *msg)
{
	struct mime_source src = {.mem = (const unsigned char *)msg->data, .mem_len = msg->len};
	struct buf text = BUF_INIT;
	const char *error;
	int ret = mime_text_extract(root, &src, MESSAGE_MAX_TEXT, &text, &error);

	fputs("TEXT\n", stdout);
	if (text.len > 0) {
		fwrite(buf_cstr(&text), 1, text.len, stdout);
		if (text.data[text.len - 1] != '\n')
			putchar('\n');
	}
	if (ret > 0)
		puts("(text cut at 1 MiB)");
	else if (ret < 0)
		printf("(text extraction failed: %s)\n", error);
	buf_free(&text);
}

static void show(const struct buf *msg)
{
	struct mime_part *root = mime_parse(msg->data, msg->len, NULL);
	struct buf b = BUF_INIT;

	mime_imap_envelope(root, &b);
	printf("ENVELOPE %s\n", buf_cstr(&b));
	buf_clear(&b);
	mime_imap_bodystructure(root, true, &b);
	printf("BODYSTRUCTURE %s\n", buf_cstr(&b));
	buf_free(&b);
	printf("SECTIONS (%zu octets; number type header start+size body start+size)\n", msg->len);
	walk_message(root, "");
	print_text(root, msg);
	mime_part_free(&root);
}

int cmd_message(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct buf msg = BUF_INIT;
	const char *error;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || argc > 3 || strcmp(argv[1], "show") != 0) {
		usage(stderr);
		return 2;
	}
	if (read_message(argc == 3 ? argv[2] : NULL, &msg, &error) < 0) {
		cli_error("message: %s: %s", argc == 3 ? argv[2] : "standard input", error);
		buf_free(&msg);
		return 1;
	}
	show(&msg);
	buf_free(&msg);
	return 0;
}
