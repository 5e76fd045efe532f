/* DNS wire-format response parser (RFC 1035 4.1, 3.3; RFC 3596; RFC 6698). */
#include "dns/dns-packet.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define HEADER_LEN   12
#define MAX_POINTERS 32

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read a possibly compressed name at *pos (RFC 1035 4.1.4). Advances *pos
   past the name as stored there. out may be NULL to only skip it. */
static int read_name(const uint8_t *pkt, size_t len, size_t *pos, struct buf *out)
{
	size_t p = *pos, total = 0;
	bool jumped = false;
	int pointers = 0;

	for (;;) {
		if (p >= len)
			return -1;
		uint8_t l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++pointers > MAX_POINTERS)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = (size_t)(l & 0x3f) << 8 | pkt[p + 1];
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;
		if (l == 0) {
			if (!jumped)
				*pos = p + 1;
			return 0;
		}
		if (p + 1 + l > len || (total += l + 1) > 255)
			return -1;
		if (out != NULL) {
			if (out->len > 0)
				buf_append_char(out, '.');
			buf_append(out, pkt + p + 1, l);
		}
		p += 1 + (size_t)l;
	}
}

static int read_target(const uint8_t *pkt, size_t len, size_t pos, size_t end, char **name_r)
{
	struct buf name = BUF_INIT;

	if (read_name(pkt, len, &pos, &name) < 0 || pos != end) {
		buf_free(&name);
		return -1;
	}
	*name_r = buf_steal(&name);
	return 0;
}

static int parse_txt(const uint8_t *rd, size_t rdlen, struct dns_rr *rr)
{
	struct buf text = BUF_INIT;

	for (size_t i = 0; i < rdlen;) {
		size_t l = rd[i];
		if (i + 1 + l > rdlen) {
			buf_free(&text);
			return -1;
		}
		buf_append(&text, rd + i + 1, l);
		i += 1 + l;
	}
	rr->u.txt.len = text.len;
	rr->u.txt.data = buf_steal(&text);
	return 0;
}

static int parse_rdata(const uint8_t *pkt, size_t len, size_t pos, size_t rdlen, struct dns_rr *rr)
{
	const uint8_t *rd = pkt + pos;

	switch (rr->type) {
	case DNS_TYPE_A:
		if (rdlen != 4)
			return -1;
		memcpy(rr->u.a, rd, 4);
		return 0;
	case DNS_TYPE_AAAA:
		if (rdlen != 16)
			return -1;
		memcpy(rr->u.aaaa, rd, 16);
		return 0;
	case DNS_TYPE_MX:
		if (rdlen < 3)
			return -1;
		rr->u.mx.preference = get16(rd);
		return read_target(pkt, len, pos + 2, pos + rdlen, &rr->u.mx.exchange);
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
		return read_target(pkt, len, pos, pos + rdlen, &rr->u.name);
	case DNS_TYPE_TXT:
		return parse_txt(rd, rdlen, rr);
	case DNS_TYPE_TLSA:
		if (rdlen < 3)
			return -1;
		rr->u.tlsa.usage = rd[0];
		rr->u.tlsa.selector = rd[1];
		rr->u.tlsa.matching = rd[2];
		rr->u.tlsa.len = rdlen - 3;
		rr->u.tlsa.data = xmalloc(rdlen - 3 + 1);
		memcpy(rr->u.tlsa.data, rd + 3, rdlen - 3);
		return 0;
	}
	return -1;
}

/* Parse one resource record at *pos; adds it to answer if of type. */
static int parse_rr(const uint8_t *pkt, size_t len, size_t *pos, enum dns_type type,
                    struct dns_answer *answer)
{
	struct dns_rr rr;

	if (read_name(pkt, len, pos, NULL) < 0 || *pos + 10 > len)
		return -1;
	uint16_t rtype = get16(pkt + *pos), rclass = get16(pkt + *pos + 2);
	size_t rdlen = get16(pkt + *pos + 8);
	size_t rdpos = *pos + 10;
	if (rdpos + rdlen > len)
		return -1;
	*pos = rdpos + rdlen;
	if (rtype != (uint16_t)type || rclass != 1)
		return 0;
	memset(&rr, 0, sizeof(rr));
	rr.type = type;
	rr.ttl = get32(pkt + rdpos - 6);
	if (parse_rdata(pkt, len, rdpos, rdlen, &rr) < 0) {
		dns_rr_clear(&rr);
		return -1;
	}
	array_append(&answer->rrs, rr);
	return 0;
}

int dns_packet_parse(const uint8_t *pkt, size_t len, enum dns_type type,
                     struct dns_answer **answer_r, const char **error_r)
{
	struct dns_answer *answer;
	size_t pos = HEADER_LEN;

	if (len < HEADER_LEN) {
		*error_r = "short DNS message";
		return -1;
	}
	unsigned rcode = pkt[3] & 0x0f, qd = get16(pkt + 4), an = get16(pkt + 6);
	if (rcode != 0) {
		*answer_r = dns_answer_new(rcode == 3 ? DNS_STATUS_NXDOMAIN : DNS_STATUS_TEMPFAIL);
		return 0;
	}
	for (unsigned i = 0; i < qd; i++) {
		if (read_name(pkt, len, &pos, NULL) < 0 || (pos += 4) > len) {
			*error_r = "bad question section";
			return -1;
		}
	}
	answer = dns_answer_new(DNS_STATUS_NODATA);
	for (unsigned i = 0; i < an; i++) {
		if (parse_rr(pkt, len, &pos, type, answer) < 0) {
			dns_answer_free(&answer);
			*error_r = "bad answer record";
			return -1;
		}
	}
	if (answer->rrs.count > 0)
		answer->status = DNS_STATUS_OK;
	*answer_r = answer;
	return 0;
}

int dns_packet_build_query(const char *name, enum dns_type type, uint16_t id, uint8_t *out,
                           size_t out_size)
{
	size_t pos = HEADER_LEN, namelen = strlen(name);

	if (out_size < HEADER_LEN + namelen + 6 || namelen > 253)
		return -1;
	memset(out, 0, HEADER_LEN);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x01; /* RD */
	out[5] = 1;    /* QDCOUNT */
	for (const char *p = name; *p != '\0';) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63)
			return -1;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, p, l);
		pos += l;
		p += l + (dot != NULL ? 1 : 0);
	}
	out[pos++] = 0;
	out[pos++] = (uint8_t)(type >> 8);
	out[pos++] = (uint8_t)type;
	out[pos++] = 0;
	out[pos++] = 1;
	return (int)pos;
}
