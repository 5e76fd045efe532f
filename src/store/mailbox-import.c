/* Taking over a folder Dovecot used (mailbox-private.h): its
   dovecot-uidlist gives the UIDVALIDITY and the UIDs, once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/mailbox-private.h"

#define UIDLIST_FILE    "dovecot-uidlist"
#define UIDLIST_MAX     (256u << 20)
#define IMPORTED_MARKER "tern-uidlist-imported"

int mailbox_import_load(const struct mailbox *box, struct dovecot_uidlist *list)
{
	char *path, *data = NULL;
	const char *error;
	size_t len;
	int ret = -1;

	memset(list, 0, sizeof(*list));
	path = xasprintf("%s/" IMPORTED_MARKER, box->path);
	if (access(path, F_OK) == 0) {
		free(path);
		return -1; /* taken over already: an index built again starts afresh */
	}
	free(path);
	path = xasprintf("%s/" UIDLIST_FILE, box->path);
	if (read_file(path, UIDLIST_MAX, &data, &len) == 0) {
		ret = dovecot_uidlist_parse(data, len, list, &error);
		if (ret < 0)
			log_warn(NULL, "event=store.uidlist_ignored path=%s reason=\"%s\"", path,
			         error);
		free(data);
	}
	free(path);
	return ret;
}

void mailbox_import_done(const struct mailbox *box, size_t imported)
{
	char *path = xasprintf("%s/" IMPORTED_MARKER, box->path);
	char text[32];

	snprintf(text, sizeof(text), "%zu\n", imported);
	if (write_file_atomic(path, text, strlen(text), 0600) < 0)
		log_warn(NULL, "event=store.uidlist_marker_failed path=%s errno=%d", path, errno);
	log_info(NULL, "event=store.uidlist_imported mailbox=%s uidvalidity=%u messages=%zu",
	         box->name, box->ibox.uidvalidity, imported);
	free(path);
}
