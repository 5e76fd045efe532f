#ifndef TERN_QUEUE_MTA_STS_FETCH_H
#define TERN_QUEUE_MTA_STS_FETCH_H

/*
 * MTA-STS policies as the queue gets them (RFC 8461 3.3, 5.1): fetched
 * over HTTPS with libcurl and kept in an on-disk cache that survives
 * restarts (<data_dir>/queue/mta-sts/<domain>). Blocking: call it on a
 * worker thread (tls-policy.c submits it to the worker pool).
 *
 * Cache rules (RFC 8461 5.1): a cached policy is used while its max_age
 * has not passed and the TXT record's id is the one it was fetched under;
 * a new id, an expired policy or no cache entry means a fetch. A fetch
 * that fails leaves the cached policy in force until it expires (so an
 * attacker blocking HTTPS cannot turn enforce off), and so does a domain
 * whose TXT record went away.
 */

#include <stddef.h>
#include <time.h>

#include "queue/mta-sts.h"

struct mta_sts_fetch_settings {
	const char *cache_dir; /* existing directory; NULL: no cache */
	const char *ca_file;   /* CAs the policy host's certificate must chain
	                          to; NULL: the system store */
	/* curl CURLOPT_RESOLVE entries ("mta-sts.example.test:8443:127.0.0.1")
	   so tests reach a local server; count 0: none. */
	const char *const *resolve;
	size_t resolve_count;
	unsigned port;         /* 0: 443; tests use another */
	unsigned timeout_secs; /* whole fetch; 0: MTA_STS_FETCH_TIMEOUT */
};

#define MTA_STS_FETCH_TIMEOUT 20

/* Call once from the main thread before any worker fetches (curl's global
   initialisation is not thread-safe). */
void mta_sts_fetch_global_init(void);

/* The policy in force for domain (a validated host name) at time now,
   given the id of its TXT record (NULL: no valid record). Returns 1 with a
   new policy in *policy_r (free with mta_sts_policy_free), or 0 when there
   is none; *info_r says where it came from or why there is none
   ("cached", "fetched", "fetch failed: HTTP 404", ...; static text). */
int mta_sts_policy_get(const struct mta_sts_fetch_settings *settings, const char *domain,
                       const char *txt_id, time_t now, struct mta_sts_policy **policy_r,
                       const char **info_r);

/* Fetch the policy body of domain into a malloc'ed buffer (*len_r bytes,
   NUL-terminated): HTTPS only, certificate and host name verified, no
   redirects (RFC 8461 3.3), at most MTA_STS_MAX_POLICY bytes, HTTP 200
   only. Returns 0, or -1 with a static reason in *error_r. */
int mta_sts_fetch(const struct mta_sts_fetch_settings *settings, const char *domain, char **body_r,
                  size_t *len_r, const char **error_r);

#endif
