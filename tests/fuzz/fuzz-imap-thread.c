/* libFuzzer target for src/imap/imap-thread.c and the base subject of
   imap-sort.c: the input is messages, one a line, fields split by tabs
   (Message-ID, References, In-Reply-To, Subject, a date byte). Both
   algorithms must write every message exactly once, in balanced
   parentheses, and never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap-sort.h"
#include "imap/imap-thread.h"
#include "lib/buf.h"

#define MAX_MSGS 512

/* Each id 1..count once, parentheses balanced, no empty list. */
static void check_output(const struct buf *b, size_t count)
{
	unsigned char *seen = calloc(count + 1, 1);
	int depth = 0;
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (c == '(') {
			depth++;
			if (i + 1 < b->len && b->data[i + 1] == ')')
				abort();
		} else if (c == ')') {
			if (--depth < 0)
				abort();
		} else if (c >= '0' && c <= '9') {
			unsigned long id = strtoul(b->data + i, NULL, 10);

			while (i + 1 < b->len && b->data[i + 1] >= '0' && b->data[i + 1] <= '9')
				i++;
			if (id == 0 || id > count || seen[id]++)
				abort();
			n++;
		} else if (c != ' ') {
			abort();
		}
	}
	if (depth != 0 || n != count)
		abort();
	free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct imap_thread_msg *msgs = calloc(MAX_MSGS, sizeof(*msgs));
	size_t count = 0;
	char *line, *save = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL && count < MAX_MSGS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct imap_thread_msg *m = &msgs[count];
		const char **fields[] = {&m->message_id, &m->references, &m->in_reply_to,
		                         &m->subject};
		char *p = line;

		for (size_t f = 0; f < 4 && p != NULL; f++) {
			char *tab = strchr(p, '\t');

			if (tab != NULL)
				*tab = '\0';
			*fields[f] = *p == '\0' ? NULL : p;
			p = tab == NULL ? NULL : tab + 1;
		}
		m->date = p != NULL ? (unsigned char)*p % 8 : 0;
		m->id = (uint32_t)++count;
	}
	for (int alg = 0; alg < 2; alg++) {
		struct buf b = BUF_INIT;

		imap_thread(alg == 0 ? IMAP_THREAD_ORDEREDSUBJECT : IMAP_THREAD_REFERENCES, msgs,
		            count, &b);
		check_output(&b, count);
		buf_free(&b);
	}
	free(msgs);
	free(text);
	return 0;
}
