/* Fuzz target for the client-controlled argument parsers of the second IMAP
   slice: FETCH items (src/imap/imap-fetch.c, through the command parser as
   "a FETCH 1 <input>"), the dates of APPEND and SEARCH (imap-date.c), and a
   resolved section read from a small fixed message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap-date.h"
#include "imap/imap-fetch.h"
#include "imap/imap-parser.h"
#include "mime/mime-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char message[] = "From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
                              "--x\r\nContent-Type: text/plain\r\n\r\none\r\n--x\r\n"
                              "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n"
                              "--x--\r\n";

static void check_dates(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t v;

	memcpy(s, data, size);
	s[size] = '\0';
	(void)imap_parse_datetime(s, &v);
	(void)imap_parse_date(s, &v);
	(void)imap_parse_header_date(s, &v);
	free(s);
}

/* Read every body of req from the fixed message. */
static void read_bodies(const struct fetch_request *req, const struct mime_part *root)
{
	struct mime_source src = {NULL, NULL, (const unsigned char *)message, sizeof(message) - 1};

	for (size_t i = 0; i < req->bodies.count; i++) {
		struct mime_extent *ext;
		size_t count;
		uint64_t total, start, len;
		struct buf out = BUF_INIT;
		const char *error;

		if (mime_section_resolve(root, req->bodies.items[i].sec, &ext, &count, &total,
		                         &error) < 0)
			continue;
		imap_fetch_clip(&req->bodies.items[i], total, &start, &len);
		if (mime_extents_read(&src, ext, count, start, len, &out, &error) == 0 &&
		    out.len != len)
			abort();
		buf_free(&out);
		free(ext);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits limits = {4096, 4096, 4096, 200, 8};
	struct imap_parser *p = imap_parser_new(&limits);
	struct fetch_request req;
	struct mime_part *root;
	char *line = malloc(size + 16);
	size_t consumed, len;
	const char *error;

	check_dates(data, size);
	memcpy(line, "a FETCH 1 ", 10);
	memcpy(line + 10, data, size);
	memcpy(line + 10 + size, "\r\n", 2);
	len = size + 12;
	if (imap_parser_feed(p, line, len, &consumed) == IMAP_PARSE_COMMAND &&
	    imap_parser_command(p)->count == 2 &&
	    imap_fetch_parse(&imap_parser_command(p)->args[1], false, &req, &error) == 0) {
		root = mime_parse(message, sizeof(message) - 1, NULL);
		(void)imap_fetch_needs_tree(&req);
		(void)imap_fetch_needs_header(&req);
		read_bodies(&req, root);
		mime_part_free(&root);
		imap_fetch_request_free(&req);
	}
	imap_parser_free(&p);
	free(line);
	return 0;
}
