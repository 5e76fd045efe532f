/* DKIM private keys on disk. */

#include "mailauth/dkim-keystore.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

const char *dkim_default_selector(time_t now, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(buf, size, "tern%04d%02d", tm.tm_year + 1900, tm.tm_mon + 1);
	return buf;
}

int dkim_key_generate(enum dkim_key_type type, unsigned bits, EVP_PKEY **pkey_r,
                      const char **error_r)
{
	if (type == DKIM_KEY_RSA && (bits < 1024 || bits > 8192)) {
		*error_r = "RSA key size must be 1024 to 8192 bits";
		return -1;
	}
	*pkey_r = type == DKIM_KEY_RSA ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)
	                               : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (*pkey_r == NULL) {
		*error_r = "key generation failed";
		return -1;
	}
	return 0;
}

static char *pem_of(EVP_PKEY *pkey, size_t *len_r)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		copy = xstrndup(data, (size_t)len);
		*len_r = (size_t)len;
	}
	BIO_free(bio);
	return copy;
}

/* Run as root (tern dkim keygen), give the key to the owner of data_dir:
   the unprivileged roles that sign must read it. */
static int give_to_data_owner(const char *data_dir, const char *dir, const char *path)
{
	char *top = xasprintf("%s/dkim", data_dir);
	struct stat st;
	int ret = 0;

	if (geteuid() == 0 && stat(data_dir, &st) == 0 && st.st_uid != 0)
		ret = chown(top, st.st_uid, st.st_gid) | chown(dir, st.st_uid, st.st_gid) |
		      chown(path, st.st_uid, st.st_gid);
	free(top);
	return ret < 0 ? -1 : 0;
}

static char *key_dir(const char *data_dir, const char *domain)
{
	return xasprintf("%s/dkim/%s", data_dir, domain);
}

int dkim_key_store(const char *data_dir, const char *domain, const char *selector, EVP_PKEY *pkey,
                   char **path_r, const char **error_r)
{
	char *dir, *path, *pem;
	size_t len = 0;
	struct stat st;
	int ret = -1;

	if (!dkim_name_valid(domain) || !dkim_name_valid(selector)) {
		*error_r = "bad domain or selector";
		return -1;
	}
	dir = key_dir(data_dir, domain);
	path = xasprintf("%s/%s.key", dir, selector);
	pem = pem_of(pkey, &len);
	if (stat(path, &st) == 0)
		*error_r = "a key with this selector exists";
	else if (pem == NULL)
		*error_r = "cannot encode the key";
	else if (mkdir_p(dir, 0700) < 0 || chmod(dir, 0700) < 0)
		*error_r = "cannot create the key directory";
	else if (write_file_atomic(path, pem, len, 0600) < 0)
		*error_r = "cannot write the key file";
	else if (give_to_data_owner(data_dir, dir, path) < 0)
		*error_r = "cannot give the key to the owner of the data directory";
	else
		ret = 0;
	if (pem != NULL)
		OPENSSL_cleanse(pem, len); /* private key material */
	free(pem);
	free(dir);
	if (ret == 0)
		*path_r = path;
	else
		free(path);
	return ret;
}

int dkim_key_load(const char *path, EVP_PKEY **pkey_r, const char **error_r)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		*error_r = errno == ENOENT ? "no such key" : "cannot open the key file";
		return -1;
	}
	*pkey_r = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*pkey_r == NULL) {
		*error_r = "the key file holds no private key";
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dkim_key_selectors(const char *data_dir, const char *domain, char ***selectors_r,
                       size_t *count_r)
{
	char *dir = key_dir(data_dir, domain);
	ARRAY(char *) sel = ARRAY_INIT;
	DIR *d = dkim_name_valid(domain) ? opendir(dir) : NULL;
	struct dirent *e;

	free(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= 4 || strcmp(e->d_name + len - 4, ".key") != 0 || e->d_name[0] == '.')
			continue;
		array_append(&sel, xstrndup(e->d_name, len - 4));
	}
	if (d != NULL)
		closedir(d);
	if (sel.count > 0)
		qsort(sel.items, sel.count, sizeof(char *), cmp_str);
	*selectors_r = array_steal(&sel, count_r);
	return 0;
}

void dkim_selectors_free(char **selectors, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(selectors[i]);
	free(selectors);
}

int dkim_key_find(const char *data_dir, const char *domain, const char *selector, EVP_PKEY **pkey_r,
                  char **selector_r, const char **error_r)
{
	char **sel, *path;
	size_t count;
	int ret;

	if (!dkim_name_valid(domain) || (selector != NULL && !dkim_name_valid(selector))) {
		*error_r = "bad domain or selector";
		return -1;
	}
	if (selector == NULL) {
		dkim_key_selectors(data_dir, domain, &sel, &count);
		if (count == 0) {
			*error_r = "no DKIM key for this domain";
			return -1;
		}
		*selector_r = xstrdup(sel[count - 1]);
		dkim_selectors_free(sel, count);
	} else
		*selector_r = xstrdup(selector);
	path = xasprintf("%s/dkim/%s/%s.key", data_dir, domain, *selector_r);
	ret = dkim_key_load(path, pkey_r, error_r);
	free(path);
	if (ret < 0) {
		free(*selector_r);
		*selector_r = NULL;
	}
	return ret;
}

char *dkim_txt_zone_line(const char *domain, const char *selector, const char *txt)
{
	struct buf b = BUF_INIT;
	size_t len = strlen(txt);

	buf_printf(&b, "%s._domainkey.%s. IN TXT", selector, domain);
	for (size_t i = 0; i < len; i += 255)
		buf_printf(&b, " \"%.*s\"", (int)(len - i < 255 ? len - i : 255), txt + i);
	return buf_steal(&b);
}
