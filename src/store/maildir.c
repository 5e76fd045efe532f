#include "store/maildir.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

#define LOCALPART_MAX 64
#define DOMAIN_MAX    253

/* The flag letters in ASCII order, as the Maildir spec requires. */
static const struct {
	char letter;
	unsigned flag;
} flag_letters[] = {
    {'D', MAIL_DRAFT}, {'F', MAIL_FLAGGED}, {'R', MAIL_ANSWERED},
    {'S', MAIL_SEEN},  {'T', MAIL_DELETED},
};

/* Backslashes are refused in addresses but allowed in file names, where
   they escape '/' and ':' of host names ("\057"). */
static bool path_part_valid(const char *s, size_t len, size_t max, bool backslash)
{
	if (len == 0 || len > max || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == '/' || (c == '\\' && !backslash))
			return false;
	}
	return true;
}

static char *lower_dup(const char *s, size_t len)
{
	char *p = xstrndup(s, len);

	for (size_t i = 0; i < len; i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	return p;
}

int maildir_user_path(const char *mail_dir, const char *address, char **path_r,
                      const char **error_r)
{
	const char *at = strrchr(address, '@');
	char *local, *domain;

	if (at == NULL || memchr(address, '@', (size_t)(at - address)) != NULL) {
		*error_r = "address needs exactly one @";
		return -1;
	}
	if (!path_part_valid(address, (size_t)(at - address), LOCALPART_MAX, false) ||
	    !path_part_valid(at + 1, strlen(at + 1), DOMAIN_MAX, false)) {
		*error_r = "address cannot name a Maildir";
		return -1;
	}
	local = lower_dup(address, (size_t)(at - address));
	domain = lower_dup(at + 1, strlen(at + 1));
	*path_r = xasprintf("%s/%s/%s", mail_dir, domain, local);
	free(local);
	free(domain);
	return 0;
}

bool maildir_name_valid(const char *name)
{
	return path_part_valid(name, strnlen(name, MAILDIR_NAME_MAX + 1), MAILDIR_NAME_MAX, true);
}

size_t maildir_name_base(const char *name, const char **info_r)
{
	const char *colon = strstr(name, ":2,");

	if (colon == NULL) {
		*info_r = "";
		return strlen(name);
	}
	*info_r = colon + 3;
	return (size_t)(colon - name);
}

bool maildir_name_size(const char *name, size_t base_len, uint64_t *size_r)
{
	uint64_t size = 0;
	size_t i;

	/* ",S=<n>" is one of the comma-separated fields after the unique
	   part; take the last one and require only digits after it. */
	for (i = base_len; i >= 3; i--) {
		if (name[i - 3] == ',' && name[i - 2] == 'S' && name[i - 1] == '=')
			break;
	}
	if (i < 3 || i == base_len)
		return false;
	for (; i < base_len && name[i] != ','; i++) {
		if (name[i] < '0' || name[i] > '9' || size > UINT64_MAX / 10 - 1)
			return false;
		size = size * 10 + (uint64_t)(name[i] - '0');
	}
	*size_r = size;
	return true;
}

unsigned maildir_info_flags(const char *info)
{
	unsigned flags = 0;

	for (; *info != '\0'; info++) {
		for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++) {
			if (*info == flag_letters[i].letter)
				flags |= flag_letters[i].flag;
		}
	}
	return flags;
}

static bool is_flag_letter(char c)
{
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++) {
		if (c == flag_letters[i].letter)
			return true;
	}
	return false;
}

void maildir_info_build(struct buf *out, const char *old_info, unsigned flags)
{
	bool want[128] = {false};

	for (const char *p = old_info; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		/* Keep letters we do not manage (P passed, keywords a-z). */
		if (c < 128 && isalpha(c) && !is_flag_letter((char)c))
			want[c] = true;
	}
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++) {
		if ((flags & flag_letters[i].flag) != 0)
			want[(unsigned char)flag_letters[i].letter] = true;
	}
	for (int c = 0; c < 128; c++) {
		if (want[c])
			buf_append_char(out, (char)c);
	}
}

uint32_t maildir_info_keywords(const char *info)
{
	uint32_t letters = 0;

	for (; *info != '\0'; info++) {
		if (*info >= 'a' && *info <= 'z')
			letters |= 1u << (*info - 'a');
	}
	return letters;
}

void maildir_info_build_keywords(struct buf *out, const char *old_info, unsigned flags,
                                 uint32_t letters)
{
	bool want[128] = {false};

	for (const char *p = old_info; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		/* Keep the upper-case letters we do not manage (P passed). */
		if (c >= 'A' && c <= 'Z' && !is_flag_letter((char)c))
			want[c] = true;
	}
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++) {
		if ((flags & flag_letters[i].flag) != 0)
			want[(unsigned char)flag_letters[i].letter] = true;
	}
	for (int i = 0; i < MAILDIR_KEYWORD_LETTERS; i++) {
		if ((letters & (1u << i)) != 0)
			want['a' + i] = true;
	}
	for (int c = 0; c < 128; c++) {
		if (want[c])
			buf_append_char(out, (char)c);
	}
}

/* The host name with '/' and ':' escaped as the Maildir convention asks;
   computed once per process. */
static const char *unique_hostname(void)
{
	static char host[4 * 64];
	char raw[64];

	if (host[0] != '\0')
		return host;
	if (gethostname(raw, sizeof(raw)) < 0 || raw[0] == '\0')
		strcpy(raw, "localhost");
	raw[sizeof(raw) - 1] = '\0';
	char *o = host;
	for (const char *p = raw; *p != '\0'; p++) {
		if (*p == '/')
			o = stpcpy(o, "\\057");
		else if (*p == ':')
			o = stpcpy(o, "\\072");
		else if (*p == ',' || (unsigned char)*p <= ' ')
			*o++ = '_';
		else
			*o++ = *p;
	}
	*o = '\0';
	return host;
}

void maildir_unique_name(struct buf *out)
{
	static unsigned long counter;
	struct timeval tv;
	uint64_t rnd = 0;

	gettimeofday(&tv, NULL);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd ^= (uint64_t)tv.tv_usec * 0x9e3779b97f4a7c15ull;
	buf_printf(out, "%lld.M%ldP%ldQ%luR%016llx.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	           (long)getpid(), ++counter, (unsigned long long)rnd, unique_hostname());
}

static bool folder_char_valid(unsigned char c)
{
	return c >= ' ' && c != 0x7f && c != '/' && c != '\\';
}

int maildir_folder_to_imap(const char *dirname, char **name_r)
{
	size_t len = strnlen(dirname, MAILDIR_NAME_MAX + 1);
	char *name;

	if (len < 2 || len > MAILDIR_NAME_MAX || dirname[0] != '.' || dirname[len - 1] == '.')
		return -1;
	name = xstrndup(dirname + 1, len - 1);
	for (size_t i = 0; name[i] != '\0'; i++) {
		if (!folder_char_valid((unsigned char)name[i]) ||
		    (name[i] == '.' && (i == 0 || dirname[i] == '.'))) {
			free(name);
			return -1;
		}
		if (name[i] == '.')
			name[i] = '/';
	}
	*name_r = name;
	return 0;
}

int maildir_imap_to_folder(const char *name, char **dirname_r, const char **error_r)
{
	size_t len = strnlen(name, MAILDIR_MAILBOX_NAME_MAX + 1);
	char *dir;

	if (len == 0 || len > MAILDIR_MAILBOX_NAME_MAX || name[0] == '/' || name[len - 1] == '/' ||
	    name[0] == '~') {
		*error_r = "invalid mailbox name";
		return -1;
	}
	dir = xmalloc(len + 2);
	dir[0] = '.';
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];
		if (c != '\0' && (c == '.' || (c == '/' && name[i + 1] == '/') ||
		                  (c != '/' && !folder_char_valid((unsigned char)c)))) {
			free(dir);
			*error_r =
			    "mailbox names cannot hold '.', '\\', '//' or control characters";
			return -1;
		}
		dir[i + 1] = c == '/' ? '.' : c;
	}
	*dirname_r = dir;
	return 0;
}

bool maildir_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

int maildir_mkdir_durable(const char *path)
{
	if (mkdir(path, 0700) == 0)
		return fsync_parent(path);
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;

	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return -1;
	char *parent = xstrndup(path, (size_t)(slash - path));
	int ret = maildir_mkdir_durable(parent);
	free(parent);
	if (ret < 0)
		return -1;
	if (mkdir(path, 0700) < 0)
		return errno == EEXIST ? 0 : -1;
	return fsync_parent(path);
}

int maildir_create(const char *path)
{
	static const char *const subdirs[] = {"cur", "new", "tmp"};
	bool created = false;

	if (maildir_mkdir_durable(path) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		char *sub = xasprintf("%s/%s", path, subdirs[i]);
		int ret = mkdir(sub, 0700);
		int err = errno;
		free(sub);
		if (ret < 0 && err != EEXIST) {
			errno = err;
			return -1;
		}
		created |= ret == 0;
	}
	return created ? fsync_dir(path) : 0;
}
