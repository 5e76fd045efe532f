#ifndef TERN_DIRECTORY_DIRECTORY_PRIVATE_H
#define TERN_DIRECTORY_DIRECTORY_PRIVATE_H

/*
 * The seam between the directory's rules (directory.c: normalisation,
 * checks, alias expansion and its limits; directory-admin.c: password
 * policy) and its storage: a backend is a table of primitives over
 * normalised names. directory-sqlite.c is the real one; directory-memory.c
 * keeps everything in memory for the unit tests, which run the rules
 * against both. A PostgreSQL backend is one more file with this table.
 *
 * Every primitive gets names already validated and normalised by the rules
 * (domains lower-cased, addresses as address_normalize() makes them) and
 * compares them without regard to ASCII case. A primitive that fails
 * returns -1 after directory_fail() (kind DIRECTORY_ERR_DATABASE, or
 * DIRECTORY_ERR_EXISTS for a duplicate, whose message the rules replace).
 */

#include <stdarg.h>

#include "directory/directory.h"

enum directory_user_field {
	DIRECTORY_FIELD_PASSWORD,       /* text */
	DIRECTORY_FIELD_ENABLED,        /* num: 0 or 1 */
	DIRECTORY_FIELD_QUOTA,          /* num: bytes, 0 = unlimited */
	DIRECTORY_FIELD_SCRAM,          /* text: SCRAM keys; "" removes them */
	DIRECTORY_FIELD_QUOTA_MESSAGES, /* num: messages, 0 = unlimited */
};

struct directory_backend_ops {
	const char *name;
	/* Free the backend's state (dir->be). */
	void (*close)(struct directory *dir);

	/* 1 if domain is ours, 0 if not, -1. */
	int (*domain_exists)(struct directory *dir, const char *domain);
	/* 0, or -1 (EXISTS for a duplicate). */
	int (*domain_add)(struct directory *dir, const char *domain);
	/* The number of users plus aliases of domain, in *count_r. 0 or -1. */
	int (*domain_usage)(struct directory *dir, const char *domain, uint64_t *count_r);
	/* Delete domain with its users and aliases: 1, 0 if not there, -1. */
	int (*domain_del)(struct directory *dir, const char *domain);
	/* A domain's default quota: 1 with *bytes_r, 0 none set, -1. Set it
	   (clear: remove it): 1 done, 0 no such domain, -1. Both optional
	   (NULL: the backend has no domain defaults). */
	int (*domain_quota_get)(struct directory *dir, const char *domain, uint64_t *bytes_r);
	int (*domain_quota_set)(struct directory *dir, const char *domain, uint64_t bytes,
	                        bool clear);
	/* Every domain sorted (ASCII case folded), malloc'ed; 0 or -1. */
	int (*domain_list)(struct directory *dir, char ***names_r, size_t *count_r);

	/* 1 with *user_r filled (malloc'ed fields) when user_r is not NULL, 0
	   if there is no such user, -1. */
	int (*user_get)(struct directory *dir, const char *address, struct directory_user *user_r);
	/* Add an enabled user to domain (which exists): 0, or -1 (EXISTS). */
	int (*user_add)(struct directory *dir, const char *domain, const char *address,
	                const char *password_hash, uint64_t quota_bytes);
	/* 1 deleted, 0 no such user, -1. */
	int (*user_del)(struct directory *dir, const char *address);
	/* Setting PASSWORD also removes the SCRAM keys. Set one field: 1 done, 0 no such user, -1.
	 */
	int (*user_update)(struct directory *dir, const char *address,
	                   enum directory_user_field field, const char *text, uint64_t num);
	/* 1 if some user has SCRAM keys, 0 if none, -1. */
	int (*scram_any)(struct directory *dir);
	/* The users of domain (all when NULL), sorted by address: 0 or -1. */
	int (*user_list)(struct directory *dir, const char *domain, struct directory_user **users_r,
	                 size_t *count_r);

	/* Add source -> destination, source in domain: 0, or -1 (EXISTS). */
	int (*alias_add)(struct directory *dir, const char *domain, const char *source,
	                 const char *destination);
	/* Delete source -> destination (every alias of source when NULL):
	   the number deleted (0: none), or -1. */
	int (*alias_del)(struct directory *dir, const char *source, const char *destination);
	/* The destinations of source in the order they were added (an empty
	   list is NULL, 0): 0 or -1. */
	int (*alias_destinations)(struct directory *dir, const char *source, char ***dests_r,
	                          size_t *count_r);
	/* The aliases of domain (all when NULL), sorted by source then
	   destination: 0 or -1. */
	int (*alias_list)(struct directory *dir, const char *domain,
	                  struct directory_alias **aliases_r, size_t *count_r);

	/* Senders a user may use besides its own address (directory-sender.c):
	   entry is "a@example.org" or "@example.org". Add: 0, or -1 (EXISTS;
	   the user exists). Del: the number deleted (0: none), or -1. List: the
	   entries of user sorted (NULL, 0 when none): 0 or -1. Deleting the
	   user deletes its entries. */
	int (*sender_add)(struct directory *dir, const char *user, const char *entry);
	int (*sender_del)(struct directory *dir, const char *user, const char *entry);
	int (*sender_list)(struct directory *dir, const char *user, char ***entries_r,
	                   size_t *count_r);
};

struct directory {
	const struct directory_backend_ops *ops;
	void *be;    /* the backend's state */
	char *error; /* the last error message, owned here */
	enum directory_error kind;
};

/* A directory over a backend whose state is be (taken over: ops->close
   frees it). Never returns NULL. */
struct directory *directory_new(const struct directory_backend_ops *ops, void *be);

/* Record an error of kind with a formatted message on dir; returns -1. */
int directory_fail(struct directory *dir, enum directory_error kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last message recorded on dir. */
const char *directory_last_message(const struct directory *dir);

/* Free a user's fields (not the struct). */
void directory_user_clear(struct directory_user *user);

#endif
