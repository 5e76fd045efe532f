#ifndef TERN_DNS_DNS_SETTINGS_H
#define TERN_DNS_DNS_SETTINGS_H

/* The dns { } section of tern.conf (docs/config.md, docs/dns.md). */

#include <stddef.h>

#include "lib/settings.h"

struct dns_settings {
	char *zone_file;   /* answer every lookup from this file; NULL: network */
	char **forwarders; /* resolvers' IPs ("192.0.2.53", "::1@5353"); none:
	                      recursive */
	size_t forwarder_count;
	unsigned timeout; /* seconds per query; default 5 */
	/* DNSSEC trust anchors (DS or DNSKEY lines); NULL: the system's root
	   key (/usr/share/dns/root.key) */
	char *trust_anchor_file;
};

/* For the schema (cli/cli-settings.c). */
extern const struct settings_section dns_settings_section;

/* The dns section of settings (loaded with a schema that holds it). */
const struct dns_settings *dns_settings(const struct tern_settings *settings);

#endif
