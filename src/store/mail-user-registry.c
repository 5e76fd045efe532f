/* The users open in a process, shared by their sessions (mailbox.h). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/index.h"
#include "store/mailbox-private.h"

/* Buckets of the user table: a chain stays short up to ~10,000 users. */
#define REGISTRY_BUCKETS 1024

struct mail_user_registry {
	char *mail_dir;
	struct mail_user *buckets[REGISTRY_BUCKETS];
	size_t count;
	bool trim; /* a connection was released since the last trim */
	struct buf error;
};

static time_t monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t path_bucket(const char *path)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return (h ^ (h >> 16)) % REGISTRY_BUCKETS;
}

struct mail_user_registry *mail_user_registry_new(const char *mail_dir)
{
	struct mail_user_registry *reg = xcalloc(1, sizeof(*reg));

	mail_index_process_init();

	reg->mail_dir = xstrdup(mail_dir);
	return reg;
}

void mail_user_registry_free(struct mail_user_registry **regp)
{
	struct mail_user_registry *reg = *regp;

	if (reg == NULL)
		return;
	/* Users still held (sessions not freed yet) live on alone. */
	for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
		for (struct mail_user *u = reg->buckets[i], *next; u != NULL; u = next) {
			next = u->next;
			u->next = NULL;
			u->registry = NULL;
		}
	}
	buf_free(&reg->error);
	free(reg->mail_dir);
	free(reg);
	*regp = NULL;
}

static int registry_fail(struct mail_user_registry *reg, const char *error, const char **error_r)
{
	buf_clear(&reg->error);
	buf_append_str(&reg->error, error);
	*error_r = buf_cstr(&reg->error);
	return -1;
}

/* The open user whose Maildir is address's, or NULL; *bucket_r its bucket.
   -1 if address has no Maildir path. */
static int registry_find(struct mail_user_registry *reg, const char *address,
                         struct mail_user **user_r, size_t *bucket_r, const char **error_r)
{
	struct mail_user *user;
	char *path;

	/* The key is the Maildir path: the address normalised as the store
	   maps it (lower case), so "Bob@X" and "bob@x" share one user. */
	if (maildir_user_path(reg->mail_dir, address, &path, error_r) < 0)
		return -1;
	*bucket_r = path_bucket(path);
	for (user = reg->buckets[*bucket_r]; user != NULL && strcmp(user->path, path) != 0;
	     user = user->next)
		;
	free(path);
	*user_r = user;
	return 0;
}

int mail_user_acquire(struct mail_user_registry *reg, const char *address,
                      struct mail_user **user_r, const char **error_r)
{
	struct mail_user *user;
	size_t b;

	if (registry_find(reg, address, &user, &b, error_r) < 0)
		return -1;
	if (user != NULL) {
		user->refs++;
		*user_r = user;
		return 0;
	}
	if (mail_user_open(reg->mail_dir, address, &user, error_r) < 0)
		return registry_fail(reg, *error_r, error_r);
	user->registry = reg;
	user->index_used = monotonic_now();
	user->refs = 1;
	user->next = reg->buckets[b];
	reg->buckets[b] = user;
	reg->count++;
	*user_r = user;
	return 0;
}

static void registry_remove(struct mail_user_registry *reg, struct mail_user *user)
{
	struct mail_user **pp = &reg->buckets[path_bucket(user->path)];

	while (*pp != NULL && *pp != user)
		pp = &(*pp)->next;
	if (*pp == NULL)
		log_panic("mail_user %s not in its registry", user->path);
	*pp = user->next;
	reg->count--;
}

void mail_user_release(struct mail_user **userp)
{
	struct mail_user *user = *userp;

	if (user == NULL)
		return;
	*userp = NULL;
	if (user->refs == 0)
		log_panic("mail_user_release of an unshared user");
	if (--user->refs > 0)
		return;
	if (user->registry != NULL)
		registry_remove(user->registry, user);
	user->registry = NULL;
	mail_user_close(&user);
}

void mail_user_registry_notify(struct mail_user_registry *reg, const char *address)
{
	struct mail_user *user;
	const char *error;
	size_t b;

	if (registry_find(reg, address, &user, &b, &error) == 0 && user != NULL)
		user->changes++;
}

size_t mail_user_registry_count(const struct mail_user_registry *reg)
{
	return reg->count;
}

int mail_user_index(struct mail_user *user, struct mail_index **index_r, const char **error_r)
{
	user->index_used = monotonic_now();
	if (user->index == NULL) {
		char *path = xasprintf("%s/" INDEX_FILE, user->path);
		int ret = mail_index_open(path, &user->index, error_r);

		free(path);
		if (ret < 0) {
			buf_clear(&user->error);
			buf_append_str(&user->error, *error_r);
			*error_r = buf_cstr(&user->error);
			return -1;
		}
		user->index_opens++;
	}
	*index_r = user->index;
	return 0;
}

bool mail_user_index_release(struct mail_user *user)
{
	if (user->index == NULL || mail_index_in_transaction(user->index))
		return false;
	mail_index_close(&user->index);
	if (user->registry != NULL)
		user->registry->trim = true;
	return true;
}

size_t mail_user_registry_close_idle(struct mail_user_registry *reg, unsigned idle_seconds)
{
	time_t now = monotonic_now();
	size_t closed = 0;

	for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
		for (struct mail_user *u = reg->buckets[i]; u != NULL; u = u->next) {
			if (u->index == NULL || now - u->index_used < (time_t)idle_seconds ||
			    mail_index_in_transaction(u->index))
				continue;
			mail_index_close(&u->index);
			closed++;
		}
	}
	/* glibc keeps freed pages inside its heap resident; hand the pages
	   the connections left back to the system. */
	if (closed > 0 || reg->trim)
		(void)malloc_trim(0);
	reg->trim = false;
	return closed;
}
