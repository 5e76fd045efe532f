/* The PROXY protocol header, versions 1 and 2 (proxy.h). */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define V1_MAX 107 /* "PROXY TCP6 " + two full IPv6 + two ports + CRLF */

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";

static enum proxy_status invalid(const char **error_r, const char *why)
{
	*error_r = why;
	return PROXY_INVALID;
}

/* A port: 1 to 5 digits, at most 65535. */
static int parse_port(const char *s, uint16_t *port_r)
{
	unsigned long n = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5 || strspn(s, "0123456789") != len)
		return -1;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (unsigned long)(s[i] - '0');
	if (n > 65535)
		return -1;
	*port_r = (uint16_t)n;
	return 0;
}

static int make_addr(int family, const char *ip, const char *port, struct sockaddr_storage *ss,
                     socklen_t *len_r)
{
	uint16_t p;

	memset(ss, 0, sizeof(*ss));
	if (parse_port(port, &p) < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*len_r = sizeof(*sin);
		return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(p);
	*len_r = sizeof(*sin6);
	return inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1 ? 0 : -1;
}

/* "PROXY TCP4 src dst sport dport" (CRLF cut off) in line. */
static enum proxy_status parse_v1_line(char *line, struct proxy_header *h, const char **error_r)
{
	char *fields[6], *rest = line + strlen(v1_sig), *f;
	size_t n = 0;
	int family;

	if (strncmp(rest, "UNKNOWN", 7) == 0 && (rest[7] == '\0' || rest[7] == ' ')) {
		h->local = 1;
		return PROXY_DONE;
	}
	while (n < 6 && (f = strsep(&rest, " ")) != NULL)
		fields[n++] = f;
	if (n != 5 || rest != NULL)
		return invalid(error_r, "PROXY v1: wrong number of fields");
	if (strcmp(fields[0], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(fields[0], "TCP6") == 0)
		family = AF_INET6;
	else
		return invalid(error_r, "PROXY v1: unknown protocol");
	if (make_addr(family, fields[1], fields[3], &h->source, &h->source_len) < 0 ||
	    make_addr(family, fields[2], fields[4], &h->destination, &h->destination_len) < 0)
		return invalid(error_r, "PROXY v1: bad address or port");
	return PROXY_DONE;
}

static enum proxy_status parse_v1(const unsigned char *data, size_t len, struct proxy_header *h,
                                  const char **error_r)
{
	char line[V1_MAX + 1];
	size_t end = 0;

	/* the CR of the CRLF is at most at V1_MAX - 2 */
	for (; end < len && end < V1_MAX; end++) {
		if (data[end] == '\0' || data[end] == '\n')
			return invalid(error_r, "PROXY v1: bad byte");
		if (data[end] == '\r' && end + 1 < len) {
			if (data[end + 1] != '\n')
				return invalid(error_r, "PROXY v1: bad byte");
			break;
		}
	}
	if (end + 1 >= len || end + 2 > V1_MAX)
		return len >= V1_MAX || end + 2 > V1_MAX
		           ? invalid(error_r, "PROXY v1: line too long")
		           : PROXY_NEED_MORE;
	memcpy(line, data, end);
	line[end] = '\0';
	h->length = end + 2;
	return parse_v1_line(line, h, error_r);
}

static void v2_inet(const unsigned char *a, struct proxy_header *h)
{
	struct sockaddr_in *src = (struct sockaddr_in *)&h->source;
	struct sockaddr_in *dst = (struct sockaddr_in *)&h->destination;

	src->sin_family = dst->sin_family = AF_INET;
	memcpy(&src->sin_addr, a, 4);
	memcpy(&dst->sin_addr, a + 4, 4);
	memcpy(&src->sin_port, a + 8, 2);
	memcpy(&dst->sin_port, a + 10, 2);
	h->source_len = h->destination_len = sizeof(struct sockaddr_in);
}

static void v2_inet6(const unsigned char *a, struct proxy_header *h)
{
	struct sockaddr_in6 *src = (struct sockaddr_in6 *)&h->source;
	struct sockaddr_in6 *dst = (struct sockaddr_in6 *)&h->destination;

	src->sin6_family = dst->sin6_family = AF_INET6;
	memcpy(&src->sin6_addr, a, 16);
	memcpy(&dst->sin6_addr, a + 16, 16);
	memcpy(&src->sin6_port, a + 32, 2);
	memcpy(&dst->sin6_port, a + 34, 2);
	h->source_len = h->destination_len = sizeof(struct sockaddr_in6);
}

static enum proxy_status parse_v2(const unsigned char *data, size_t len, struct proxy_header *h,
                                  const char **error_r)
{
	size_t body;
	unsigned cmd, family, proto;

	if (len < 16)
		return PROXY_NEED_MORE;
	if ((data[12] >> 4) != 2)
		return invalid(error_r, "PROXY v2: unknown version");
	cmd = data[12] & 0x0f;
	family = data[13] >> 4;
	proto = data[13] & 0x0f;
	body = (size_t)data[14] << 8 | data[15];
	if (cmd > 1)
		return invalid(error_r, "PROXY v2: unknown command");
	if (16 + body > PROXY_HEADER_MAX)
		return invalid(error_r, "PROXY v2: header too long");
	if (len < 16 + body)
		return PROXY_NEED_MORE;
	h->length = 16 + body;
	if (cmd == 0 || proto != 1 || (family != 1 && family != 2)) {
		h->local = 1; /* LOCAL, or nothing we can use: the connection's own */
		return PROXY_DONE;
	}
	if (body < (family == 1 ? 12u : 36u))
		return invalid(error_r, "PROXY v2: addresses cut short");
	if (family == 1)
		v2_inet(data + 16, h);
	else
		v2_inet6(data + 16, h);
	return PROXY_DONE;
}

enum proxy_status proxy_parse(const unsigned char *data, size_t len, struct proxy_header *h,
                              const char **error_r)
{
	size_t v1n = strlen(v1_sig);

	memset(h, 0, sizeof(*h));
	if (memcmp(data, v2_sig, len < sizeof(v2_sig) ? len : sizeof(v2_sig)) == 0)
		return len < sizeof(v2_sig) ? PROXY_NEED_MORE : parse_v2(data, len, h, error_r);
	if (memcmp(data, v1_sig, len < v1n ? len : v1n) == 0)
		return len < v1n ? PROXY_NEED_MORE : parse_v1(data, len, h, error_r);
	return invalid(error_r, "not a PROXY header");
}
