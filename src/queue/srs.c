/* The Sender Rewriting Scheme (srs.h, docs/queue.md "SRS"). */
#include "queue/srs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define SECRET_MIN      16
#define SECRET_NEW      32
#define SECRET_FILE_MAX 4096
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets with its brackets. */
#define ADDRESS_MAX 254
#define DAY_SECONDS 86400
#define DAY_MOD     1024 /* two base32 characters */

struct srs {
	unsigned char *secret;
	size_t len;
};

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct srs *srs_new(const void *secret, size_t len)
{
	struct srs *srs = xcalloc(1, sizeof(*srs));

	if (len < SECRET_MIN)
		abort(); /* a caller's bug: the secret files always hold more */
	srs->secret = xmalloc(len);
	memcpy(srs->secret, secret, len);
	srs->len = len;
	return srs;
}

void srs_free(struct srs **srsp)
{
	struct srs *srs = *srsp;

	if (srs == NULL)
		return;
	OPENSSL_cleanse(srs->secret, srs->len);
	free(srs->secret);
	free(srs);
	*srsp = NULL;
}

char *srs_secret_path(const char *data_dir)
{
	return xasprintf("%s/srs.secret", data_dir);
}

/* ---- the secret file ---- */

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytes of a line of hex (surrounding white space ignored). */
static int parse_secret(const char *text, size_t len, struct srs **srs_r)
{
	unsigned char bytes[SECRET_FILE_MAX / 2];
	size_t n = 0, i = 0;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	while (i + 1 < len && hex_value(text[i]) >= 0 && hex_value(text[i + 1]) >= 0) {
		bytes[n++] = (unsigned char)(hex_value(text[i]) << 4 | hex_value(text[i + 1]));
		i += 2;
	}
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i != len || n < SECRET_MIN)
		return -1;
	*srs_r = srs_new(bytes, n);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return 0;
}

/* Write a new secret to a temporary file and link it to path: link()
   fails if another process was first, and then its secret is the one. */
static int create_secret(const char *path)
{
	unsigned char rnd[SECRET_NEW];
	char hex[SECRET_NEW * 2 + 2];
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd, ret = -1;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	hex[SECRET_NEW * 2] = '\n';
	hex[SECRET_NEW * 2 + 1] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write_full(fd, hex, SECRET_NEW * 2 + 1) == 0 && fsync(fd) == 0 &&
		    (link(tmp, path) == 0 || errno == EEXIST))
			ret = 0;
		close(fd);
		unlink(tmp);
		if (ret == 0)
			fsync_parent(path);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	free(tmp);
	return ret;
}

int srs_open(const char *path, struct srs **srs_r, const char **error_r)
{
	char *data = NULL;
	size_t len;
	int ret;

	ret = read_file(path, SECRET_FILE_MAX, &data, &len);
	if (ret < 0 && errno == ENOENT) {
		if (create_secret(path) < 0) {
			log_warn(NULL, "event=srs.secret_create_failed path=%s error=\"%s\"", path,
			         strerror(errno));
			*error_r = "cannot create the SRS secret";
			return -1;
		}
		ret = read_file(path, SECRET_FILE_MAX, &data, &len);
	}
	if (ret < 0) {
		log_warn(NULL, "event=srs.secret_read_failed path=%s error=\"%s\"", path,
		         strerror(errno));
		*error_r = "cannot read the SRS secret";
		return -1;
	}
	ret = parse_secret(data, len, srs_r);
	OPENSSL_cleanse(data, len);
	free(data);
	if (ret < 0) {
		log_warn(NULL, "event=srs.secret_malformed path=%s", path);
		*error_r = "the SRS secret is not a line of at least 32 hex digits";
	}
	return ret;
}

/* ---- hash and timestamp ---- */

/* The SRS_HASH_LEN base64 characters of HMAC-SHA1 over the parts,
   lowercased (so a folded address still verifies). */
static void make_hash(const struct srs *srs, const char *const *parts, size_t n,
                      char out[SRS_HASH_LEN + 1])
{
	struct buf b = BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	for (size_t i = 0; i < n; i++)
		buf_append_str(&b, parts[i]);
	for (size_t i = 0; i < b.len; i++)
		b.data[i] = (char)tolower((unsigned char)b.data[i]);
	HMAC(EVP_sha1(), srs->secret, (int)srs->len, (const unsigned char *)buf_cstr(&b), b.len,
	     mac, &mac_len);
	buf_free(&b);
	/* 4 characters = the first 3 bytes */
	out[0] = base64[mac[0] >> 2];
	out[1] = base64[(mac[0] & 3) << 4 | mac[1] >> 4];
	out[2] = base64[(mac[1] & 15) << 2 | mac[2] >> 6];
	out[3] = base64[mac[2] & 63];
	out[4] = '\0';
}

/* Whether hash (len bytes) is the expected one, ASCII case ignored, in
   time independent of where they differ. */
static bool hash_ok(const char *hash, size_t len, const char *expected)
{
	unsigned diff = 0;

	if (len != SRS_HASH_LEN)
		return false;
	for (size_t i = 0; i < SRS_HASH_LEN; i++)
		diff |= (unsigned)(tolower((unsigned char)hash[i]) ^
		                   tolower((unsigned char)expected[i]));
	return diff == 0;
}

static unsigned today(time_t now)
{
	return (unsigned)((now / DAY_SECONDS) % DAY_MOD);
}

static void make_stamp(time_t now, char out[3])
{
	unsigned day = today(now);

	out[0] = base32[(day >> 5) & 31];
	out[1] = base32[day & 31];
	out[2] = '\0';
}

static int base32_value(int c)
{
	const char *p = c != '\0' ? strchr(base32, toupper(c)) : NULL;

	return p != NULL ? (int)(p - base32) : -1;
}

/* 0 if the two-character stamp is at most SRS_MAX_AGE_DAYS old. */
static int stamp_ok(const char *tt, size_t len, time_t now)
{
	int hi, lo;
	unsigned day, age;

	if (len != 2 || (hi = base32_value(tt[0])) < 0 || (lo = base32_value(tt[1])) < 0)
		return -1;
	day = (unsigned)(hi << 5 | lo);
	age = (today(now) + DAY_MOD - day) % DAY_MOD;
	return age <= SRS_MAX_AGE_DAYS ? 0 : -1;
}

/* ---- forward ---- */

static bool is_sep(char c)
{
	return c == '=' || c == '+' || c == '-';
}

/* Whether local (len bytes) starts with "SRS<digit>" and a separator. */
static bool srs_prefix(const char *local, size_t len, char digit)
{
	return len > 5 && strncasecmp(local, "SRS", 3) == 0 && local[3] == digit &&
	       is_sep(local[4]);
}

bool srs_is_srs(const char *address)
{
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);

	return srs_prefix(address, len, '0') || srs_prefix(address, len, '1');
}

/* Split "local@domain" at its last @ into two malloc'ed strings. */
static int split(const char *address, char **local_r, char **domain_r)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || at == address || at[1] == '\0')
		return -1;
	*local_r = xstrndup(address, (size_t)(at - address));
	*domain_r = xstrdup(at + 1);
	return 0;
}

/* SRS1=HHHH=host=<user>@fwd, user starting with a separator. */
static char *make_srs1(const struct srs *srs, const char *host, const char *user, const char *fwd)
{
	const char *parts[] = {host, user};
	char hash[SRS_HASH_LEN + 1];

	make_hash(srs, parts, 2, hash);
	return xasprintf("SRS1=%s=%s=%s@%s", hash, host, user, fwd);
}

/* The SRS1 of an SRS1 address: keep its first forwarder and SRS0 part. */
static char *forward_srs1(const struct srs *srs, const char *local, const char *fwd)
{
	const char *hash_end = strchr(local + 5, '=');
	const char *host_end = hash_end != NULL ? strchr(hash_end + 1, '=') : NULL;
	char *host, *out;

	if (host_end == NULL || host_end == hash_end + 1 || !is_sep(host_end[1]))
		return NULL;
	host = xstrndup(hash_end + 1, (size_t)(host_end - hash_end - 1));
	out = make_srs1(srs, host, host_end + 1, fwd);
	free(host);
	return out;
}

static char *forward_srs0(const struct srs *srs, const char *local, const char *domain,
                          const char *fwd, time_t now)
{
	char tt[3], hash[SRS_HASH_LEN + 1];
	const char *parts[3];

	make_stamp(now, tt);
	parts[0] = tt;
	parts[1] = domain;
	parts[2] = local;
	make_hash(srs, parts, 3, hash);
	return xasprintf("SRS0=%s=%s=%s=%s@%s", hash, tt, domain, local, fwd);
}

int srs_forward(const struct srs *srs, const char *sender, const char *forwarder_domain, time_t now,
                char **out_r, const char **error_r)
{
	char *local, *domain, *out;
	size_t len;

	if (forwarder_domain[0] == '\0' || split(sender, &local, &domain) < 0) {
		*error_r = "not an address";
		return -1;
	}
	len = strlen(local);
	if (strpbrk(local, "\"\\ @") != NULL) {
		/* a quoted local part would end up inside an atom */
		free(local);
		free(domain);
		*error_r = "a quoted local part";
		return -1;
	}
	if (srs_prefix(local, len, '1'))
		out = forward_srs1(srs, local, forwarder_domain);
	else if (srs_prefix(local, len, '0'))
		/* the SRS0 part after "SRS0", separator included */
		out = make_srs1(srs, domain, local + 4, forwarder_domain);
	else
		out = forward_srs0(srs, local, domain, forwarder_domain, now);
	free(local);
	free(domain);
	if (out == NULL || strlen(out) > ADDRESS_MAX) {
		free(out);
		*error_r = out == NULL ? "a malformed SRS1 address" : "the SRS address is too long";
		return -1;
	}
	*out_r = out;
	return 0;
}

/* ---- reverse ---- */

/* The next field of s up to '=' (or the end when last): *field_r and
 *len_r; returns the rest after the '=' or NULL. */
static const char *field(const char *s, const char **field_r, size_t *len_r)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s)
		return NULL;
	*field_r = s;
	*len_r = (size_t)(eq - s);
	return eq + 1;
}

static int reverse_fail(enum srs_error *kind_r, enum srs_error kind)
{
	*kind_r = kind;
	return -1;
}

/* HHHH=TT=domain=local (after "SRS0="). */
static int reverse_srs0(const struct srs *srs, const char *rest, time_t now, char **out_r,
                        enum srs_error *kind_r)
{
	const char *hash, *tt, *domain, *user, *parts[3];
	size_t hash_len, tt_len, domain_len;
	char *tt_s, *domain_s, expected[SRS_HASH_LEN + 1];

	if ((rest = field(rest, &hash, &hash_len)) == NULL ||
	    (rest = field(rest, &tt, &tt_len)) == NULL ||
	    (user = field(rest, &domain, &domain_len)) == NULL || user[0] == '\0')
		return reverse_fail(kind_r, SRS_ERROR_MALFORMED);
	tt_s = xstrndup(tt, tt_len);
	domain_s = xstrndup(domain, domain_len);
	parts[0] = tt_s;
	parts[1] = domain_s;
	parts[2] = user;
	make_hash(srs, parts, 3, expected);
	free(tt_s);
	if (!hash_ok(hash, hash_len, expected)) {
		free(domain_s);
		return reverse_fail(kind_r, SRS_ERROR_BAD_HASH);
	}
	if (stamp_ok(tt, tt_len, now) < 0) {
		free(domain_s);
		return reverse_fail(kind_r, SRS_ERROR_EXPIRED);
	}
	*out_r = xasprintf("%s@%s", user, domain_s);
	free(domain_s);
	return 0;
}

/* HHHH=host=<sep>SRS0-part (after "SRS1="). */
static int reverse_srs1(const struct srs *srs, const char *rest, char **out_r,
                        enum srs_error *kind_r)
{
	const char *hash, *host, *user, *parts[2];
	size_t hash_len, host_len;
	char *host_s, expected[SRS_HASH_LEN + 1];

	if ((rest = field(rest, &hash, &hash_len)) == NULL ||
	    (user = field(rest, &host, &host_len)) == NULL || !is_sep(user[0]) || user[1] == '\0')
		return reverse_fail(kind_r, SRS_ERROR_MALFORMED);
	host_s = xstrndup(host, host_len);
	parts[0] = host_s;
	parts[1] = user;
	make_hash(srs, parts, 2, expected);
	if (!hash_ok(hash, hash_len, expected)) {
		free(host_s);
		return reverse_fail(kind_r, SRS_ERROR_BAD_HASH);
	}
	*out_r = xasprintf("SRS0%s@%s", user, host_s);
	free(host_s);
	return 0;
}

int srs_reverse(const struct srs *srs, const char *address, time_t now, char **out_r,
                enum srs_error *kind_r)
{
	char *local, *domain;
	size_t len;
	int ret;

	if (split(address, &local, &domain) < 0) {
		*kind_r = SRS_ERROR_NOT_SRS;
		return -1;
	}
	len = strlen(local);
	if (srs_prefix(local, len, '0'))
		ret = reverse_srs0(srs, local + 5, now, out_r, kind_r);
	else if (srs_prefix(local, len, '1'))
		ret = reverse_srs1(srs, local + 5, out_r, kind_r);
	else
		ret = reverse_fail(kind_r, SRS_ERROR_NOT_SRS);
	free(local);
	free(domain);
	return ret;
}
