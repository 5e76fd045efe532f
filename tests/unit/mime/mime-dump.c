/* mime-dump FILE: print the parse of one message in a line format for the
   differential tests (tests/e2e/test_mime_python.py, test_mime_dovecot.py). Not a unit test.
   Values that may hold any byte are hex-encoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mime/mime-imap.h"
#include "mime/mime-parser.h"

static void hex(const char *s)
{
	if (s == NULL) {
		fputs(" -", stdout);
		return;
	}
	fputs(" x", stdout);
	for (; *s != '\0'; s++)
		printf("%02x", (unsigned char)*s);
}

static void part_line(const struct mime_part *part, const char *path)
{
	static const char *const kinds[] = {"leaf", "multipart", "message"};

	printf("part %s %s", path, kinds[part->kind]);
	hex(part->type);
	hex(part->subtype);
	printf(" %llu %llu %llu %llu %llu", (unsigned long long)part->hdr.start,
	       (unsigned long long)part->hdr.size, (unsigned long long)part->body.start,
	       (unsigned long long)part->body.size, (unsigned long long)part->body.lines);
	hex(part->encoding);
	hex(part->id);
	hex(part->description);
	hex(part->disposition);
	hex(part->language);
	hex(part->location);
	hex(part->md5);
	putchar('\n');
	for (size_t i = 0; i < part->param_count; i++) {
		printf("param %s", path);
		hex(part->params[i].name);
		hex(part->params[i].value);
		putchar('\n');
	}
	for (size_t i = 0; i < part->disp_param_count; i++) {
		printf("dparam %s", path);
		hex(part->disp_params[i].name);
		hex(part->disp_params[i].value);
		putchar('\n');
	}
}

static void walk_message(const struct mime_part *msg, const char *prefix);

/* RFC 3501 section 6.4.5 numbering */
static void walk_children(const struct mime_part *mp, const char *prefix)
{
	int n = 1;

	for (const struct mime_part *c = mp->children; c != NULL; c = c->next, n++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s%d", prefix, n);
		part_line(c, path);
		strncat(path, ".", sizeof(path) - strlen(path) - 1);
		if (c->kind == MIME_PART_MULTIPART)
			walk_children(c, path);
		else if (c->kind == MIME_PART_MESSAGE)
			walk_message(c->children, path);
	}
}

static void walk_message(const struct mime_part *msg, const char *prefix)
{
	struct buf b = BUF_INIT;

	mime_imap_envelope(msg, &b);
	printf("envelope %s", *prefix == '\0' ? "-" : prefix);
	hex(buf_cstr(&b));
	putchar('\n');
	buf_free(&b);
	if (msg->kind == MIME_PART_MULTIPART)
		walk_children(msg, prefix);
}

int main(int argc, char **argv)
{
	struct mime_part *root;
	struct buf b = BUF_INIT;
	char *data;
	size_t len;

	if (argc != 2 || read_file(argv[1], 256 * 1024 * 1024, &data, &len) < 0) {
		fprintf(stderr, "usage: mime-dump FILE\n");
		return 2;
	}
	root = mime_parse(data, len, NULL);
	part_line(root, "-");
	walk_message(root, "");
	mime_imap_bodystructure(root, true, &b);
	fputs("bodystructure", stdout);
	hex(buf_cstr(&b));
	putchar('\n');
	buf_clear(&b);
	mime_imap_bodystructure(root, false, &b);
	fputs("body", stdout);
	hex(buf_cstr(&b));
	putchar('\n');
	buf_free(&b);
	mime_part_free(&root);
	free(data);
	return 0;
}
