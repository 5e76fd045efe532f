#ifndef TERN_QUEUE_QUEUE_SETTINGS_H
#define TERN_QUEUE_QUEUE_SETTINGS_H

/* The queue { } section of tern.conf: how the queue role delivers
   (docs/queue.md, "Delivery"). */

#include <stdbool.h>
#include <stdint.h>

#include "lib/settings.h"
#include "queue/tls-policy.h"

struct queue_settings {
	unsigned port; /* the port of MX hosts; default 25 */
	/* "domain host[:port]" lines, "*" for every other domain (a
	   smarthost); unset: MX for every domain (queue-transport.h) */
	char *transport_file;
	/* "host user password" lines (password: the rest of the line; mode 0600,
	   readable by the role account): AUTH PLAIN/LOGIN, only over
	   TLS, to the transport map's routes with that host; unset: none */
	char *auth_file;
	bool deliver;              /* no: keep the queue, attempt nothing (held); default yes */
	bool prefer_ipv6;          /* try AAAA addresses before A; default no */
	unsigned retry_first;      /* seconds before the first retry; default 5m */
	unsigned retry_max;        /* ceiling of the doubling; default 4000s */
	unsigned give_up;          /* seconds after arrival when a recipient expires; default 5d */
	unsigned connect_timeout;  /* default 30s */
	unsigned greeting_timeout; /* default 5m (RFC 5321 4.5.3.2.1) */
	unsigned command_timeout;  /* MAIL, RCPT, ...: default 5m */
	unsigned data_timeout;     /* the reply to the final dot: default 10m */
	unsigned max_connections;  /* outgoing connections at once; default 20 */
	unsigned max_per_destination; /* to one destination at once; default 4 */
	/* messages one reused connection carries before a new one (peers
	   limit a session: Tern's smtp, Postfix both 100); default 50 */
	unsigned max_messages_per_connection;
	unsigned scan_interval; /* fallback scan of queue/; default 5m */
	unsigned delay_warning; /* a delay warning after this long deferred; 0: none; default 4h */
	char *helo_name;        /* our EHLO name; unset: the server's hostname */
	/* The TLS policy (docs/queue.md, "TLS policy"); all default yes. */
	bool tls;     /* no: never STARTTLS (TLS_POLICY_NONE) */
	bool dane;    /* RFC 7672: TLSA lookups for DNSSEC-secure MX hosts */
	bool mta_sts; /* RFC 8461: policies fetched over HTTPS */
	/* CAs an MTA-STS MX certificate must chain to; unset: the system's */
	char *mta_sts_ca_file;
	char *mta_sts_cache_dir; /* unset: <data_dir>/queue/mta-sts */
	/* CAs of the policy host (https://mta-sts.<domain>); unset: the system's */
	char *mta_sts_fetch_ca_file;
	unsigned mta_sts_fetch_port; /* the policy host's port; 0: 443 */
	/* "host:port:address": where the fetch connects instead of DNS (curl
	   CURLOPT_RESOLVE, for tests); unset: none */
	char *mta_sts_fetch_resolve;
	unsigned mta_sts_fetch_timeout; /* the whole fetch; default 20s */
};

/* The tls_policy_new() settings of set: *cache_dir_r (malloc'ed, the
   caller frees it after tls_policy_new) is queue.mta_sts_cache_dir or
   <data_dir>/queue/mta-sts. Pointers into set stay set's. */
void queue_tls_policy_settings(const struct queue_settings *set, const char *data_dir,
                               struct tls_policy_settings *out, char **cache_dir_r);

/* The EHLO name of the queue's client: queue.helo_name, else hostname. */
const char *queue_helo_name(const struct queue_settings *set, const char *hostname);

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section queue_settings_section;

/* The queue section of settings (loaded with a schema that holds it). */
const struct queue_settings *queue_settings(const struct tern_settings *settings);

#endif
