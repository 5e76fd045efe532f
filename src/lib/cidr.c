/* Matching a peer against a list of networks: see cidr.h. */
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Is ip (family, in network byte order) inside "addr/prefix"? */
static bool cidr_match(const char *cidr, int family, const unsigned char *ip)
{
	const char *slash = strchr(cidr, '/');
	unsigned char net[16];
	char host[64];
	size_t hlen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
	int bits = family == AF_INET ? 32 : 128;
	int prefix = slash != NULL ? atoi(slash + 1) : bits;

	if (hlen >= sizeof(host) || prefix < 0 || prefix > bits)
		return false;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(family, host, net) != 1)
		return false;
	for (int i = 0; i < prefix; i++) {
		unsigned char mask = (unsigned char)(0x80 >> (i % 8));

		if ((net[i / 8] & mask) != (ip[i / 8] & mask))
			return false;
	}
	return true;
}

bool ip_in_networks(const char *ip, char *const *networks, size_t count)
{
	unsigned char addr[16];
	int family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(family, ip, addr) != 1)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (cidr_match(networks[i], family, addr))
			return true;
	}
	return false;
}
