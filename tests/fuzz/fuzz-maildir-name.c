/* Fuzz the Maildir name functions with names as read from disk: validity,
   base/info split, ",S=" size, flags, and the folder <-> IMAP name
   mapping, which must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/maildir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_folder(const char *name)
{
	char *imap, *dir;
	const char *error;

	if (maildir_folder_to_imap(name, &imap) < 0)
		return;
	/* every folder we show must be openable under the same directory */
	if (maildir_imap_to_folder(imap, &dir, &error) == 0) {
		if (strcmp(dir, name) != 0)
			abort();
		free(dir);
	}
	free(imap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = xstrndup((const char *)data, size);
	const char *info;
	uint64_t msize;
	struct buf b = BUF_INIT;
	char *path;
	const char *error;

	(void)maildir_name_valid(name);
	size_t base_len = maildir_name_base(name, &info);
	if (base_len > strlen(name))
		abort();
	(void)maildir_name_size(name, base_len, &msize);
	maildir_info_build(&b, info, maildir_info_flags(info));
	if (maildir_info_flags(buf_cstr(&b)) != maildir_info_flags(info))
		abort();
	check_folder(name);
	if (maildir_user_path("/m", name, &path, &error) == 0) {
		if (strstr(path, "/.") != NULL)
			abort();
		free(path);
	}
	buf_free(&b);
	free(name);
	return 0;
}
