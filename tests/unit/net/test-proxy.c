/* Unit tests for src/net/proxy.c: PROXY v1 and v2 headers whole and byte
   at a time, the bytes after the header left alone, and bad headers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/proxy.h"

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* Every proper prefix needs more; the whole gives DONE of that length. */
static struct proxy_header parse_all_ways(const unsigned char *data, size_t len, size_t header_len)
{
	struct proxy_header h;
	const char *error = NULL;

	for (size_t i = 0; i < header_len; i++) {
		if (proxy_parse(data, i, &h, &error) != PROXY_NEED_MORE)
			fail_msg("prefix of %zu bytes: not NEED_MORE (%s)", i, error);
	}
	assert_int_equal(proxy_parse(data, len, &h, &error), PROXY_DONE);
	assert_int_equal(h.length, header_len);
	return h;
}

static void assert_v4(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char text[INET_ADDRSTRLEN];

	assert_int_equal(sin->sin_family, AF_INET);
	inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
	assert_string_equal(text, ip);
	assert_int_equal(ntohs(sin->sin_port), port);
}

static void assert_v6(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(sin6->sin6_family, AF_INET6);
	inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	assert_string_equal(text, ip);
	assert_int_equal(ntohs(sin6->sin6_port), port);
}

static void test_v1(void **state)
{
	static const char tcp4[] = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\nEHLO x\r\n";
	static const char tcp6[] = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 993\r\n\x16\x03";
	static const char unknown[] = "PROXY UNKNOWN ffff::1 ::1 1 2\r\n";
	struct proxy_header h;

	(void)state;
	h = parse_all_ways((const unsigned char *)tcp4, sizeof(tcp4) - 1,
	                   strstr(tcp4, "EHLO") - tcp4);
	assert_false(h.local);
	assert_v4(&h.source, "192.0.2.10", 56324);
	assert_v4(&h.destination, "198.51.100.1", 25);
	assert_int_equal(h.source_len, sizeof(struct sockaddr_in));
	h = parse_all_ways((const unsigned char *)tcp6, sizeof(tcp6) - 1, sizeof(tcp6) - 3);
	assert_v6(&h.source, "2001:db8::7", 65535);
	assert_v6(&h.destination, "2001:db8::1", 993);
	h = parse_all_ways((const unsigned char *)unknown, sizeof(unknown) - 1,
	                   sizeof(unknown) - 1);
	assert_true(h.local);
	h = parse_all_ways((const unsigned char *)"PROXY UNKNOWN\r\n", 15, 15);
	assert_true(h.local);
}

static size_t v2_header(unsigned char *out, unsigned char cmd, unsigned char fam,
                        const unsigned char *body, size_t body_len)
{
	memcpy(out, sig, 12);
	out[12] = cmd;
	out[13] = fam;
	out[14] = (unsigned char)(body_len >> 8);
	out[15] = (unsigned char)body_len;
	memcpy(out + 16, body, body_len);
	return 16 + body_len;
}

static void test_v2(void **state)
{
	unsigned char buf[256], body[64] = {0};
	struct proxy_header h;
	size_t n;

	(void)state;
	/* IPv4 with a TLV after the addresses, then the client's bytes */
	memcpy(body, "\xc0\x00\x02\x0a\xc6\x33\x64\x01\xdc\x04\x00\x19", 12);
	memcpy(body + 12, "\x04\x00\x01X", 4); /* a NOOP TLV */
	n = v2_header(buf, 0x21, 0x11, body, 16);
	memcpy(buf + n, "\x16\x03\x01", 3);
	h = parse_all_ways(buf, n + 3, n);
	assert_false(h.local);
	assert_v4(&h.source, "192.0.2.10", 56324);
	assert_v4(&h.destination, "198.51.100.1", 25);
	/* IPv6 */
	memset(body, 0, sizeof(body));
	body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 7;
	body[16] = 0x20, body[17] = 0x01, body[18] = 0x0d, body[19] = 0xb8, body[31] = 1;
	body[32] = 0x12, body[33] = 0x34, body[34] = 0x00, body[35] = 0x8f;
	n = v2_header(buf, 0x21, 0x21, body, 36);
	h = parse_all_ways(buf, n, n);
	assert_v6(&h.source, "2001:db8::7", 0x1234);
	assert_v6(&h.destination, "2001:db8::1", 143);
	/* LOCAL (a health check), UNSPEC, UNIX, DGRAM: the connection's own */
	static const unsigned char cases[][2] = {
	    {0x20, 0x00}, {0x21, 0x00}, {0x21, 0x31}, {0x21, 0x12}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = v2_header(buf, cases[i][0], cases[i][1], body, 36);
		h = parse_all_ways(buf, n, n);
		assert_true(h.local);
	}
}

static void test_invalid(void **state)
{
	static const char *const v1[] = {
	    "GET / HTTP/1.0\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.1 1 2 3\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.1 1\r\n",
	    "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",
	    "PROXY TCP6 192.0.2.1 ::1 1 2\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.1 65536 2\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.1 -1 2\r\n",
	    "PROXY TCP4 192.0.2.1  198.51.100.1 1 2\r\n",
	    "PROXY UDP4 192.0.2.1 198.51.100.1 1 2\r\n",
	    "PROXY TCP4 192.0.2.1 198.51.100.1 1 2\n",
	    "PROXY UNKNOWNX\r\n",
	};
	unsigned char buf[2048], body[1100] = {0};
	struct proxy_header h;
	const char *error;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		error = NULL;
		if (proxy_parse((const unsigned char *)v1[i], strlen(v1[i]), &h, &error) !=
		    PROXY_INVALID)
			fail_msg("accepted %s", v1[i]);
		assert_non_null(error);
	}
	/* a v1 line that never ends */
	memcpy(buf, "PROXY TCP4 ", 11);
	memset(buf + 11, '1', 200);
	/* (the CR can be at 105 at the latest: 107 bytes with the CRLF) */
	assert_int_equal(proxy_parse(buf, 105, &h, &error), PROXY_NEED_MORE);
	assert_int_equal(proxy_parse(buf, 106, &h, &error), PROXY_INVALID);
	/* v2: version, command, length, addresses cut short */
	n = v2_header(buf, 0x11, 0x11, body, 12);
	assert_int_equal(proxy_parse(buf, n, &h, &error), PROXY_INVALID);
	n = v2_header(buf, 0x22, 0x11, body, 12);
	assert_int_equal(proxy_parse(buf, n, &h, &error), PROXY_INVALID);
	n = v2_header(buf, 0x21, 0x11, body, 8);
	assert_int_equal(proxy_parse(buf, n, &h, &error), PROXY_INVALID);
	n = v2_header(buf, 0x21, 0x21, body, 20);
	assert_int_equal(proxy_parse(buf, n, &h, &error), PROXY_INVALID);
	n = v2_header(buf, 0x21, 0x11, body, PROXY_HEADER_MAX - 15);
	assert_int_equal(proxy_parse(buf, 16, &h, &error), PROXY_INVALID);
	/* nothing yet is a prefix of both */
	assert_int_equal(proxy_parse(buf, 0, &h, &error), PROXY_NEED_MORE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1),
	    cmocka_unit_test(test_v2),
	    cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
