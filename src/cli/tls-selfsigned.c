/* Self-signed certificates with OpenSSL 3's non-deprecated API. */
#include "cli/tls-selfsigned.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"

#define VALID_SECONDS (10L * 365 * 24 * 3600)

/* A random 127-bit positive serial number, as RFC 5280 4.1.2.2 wants it
   unique and at most 20 octets. */
static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
	         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int add_extensions(X509 *x, const char *hostname)
{
	char *san = xasprintf("DNS:%s", hostname);
	int ret = 0;

	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_subject_alt_name, san) < 0)
		ret = -1;
	free(san);
	return ret;
}

static X509 *make_cert(EVP_PKEY *pkey, const char *hostname)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), VALID_SECONDS) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname,
	                               -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1 ||
	    add_extensions(x, hostname) < 0 || X509_sign(x, pkey, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write what a PEM writer put in a memory BIO to path. */
static int write_bio(BIO *bio, const char *path, mode_t mode)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return -1;
	return write_file_atomic(path, data, (size_t)len, mode);
}

static int write_pems(EVP_PKEY *pkey, X509 *x, const char *cert_path, const char *key_path,
                      const char **error_r)
{
	BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
	int ret = -1;

	if (kbio == NULL || cbio == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cbio, x) != 1)
		*error_r = "cannot encode the certificate";
	else if (write_bio(kbio, key_path, 0600) < 0)
		*error_r = "cannot write the TLS key";
	else if (write_bio(cbio, cert_path, 0644) < 0)
		*error_r = "cannot write the TLS certificate";
	else
		ret = 0;
	BIO_free(kbio);
	BIO_free(cbio);
	return ret;
}

int tls_selfsigned_write(const char *hostname, const char *cert_path, const char *key_path,
                         const char **error_r)
{
	EVP_PKEY *pkey;
	X509 *x;
	int ret;

	if (hostname[0] == '\0' ||
	    strspn(hostname, "abcdefghijklmnopqrstuvwxyz"
	                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(hostname)) {
		*error_r = "the certificate's hostname is not a DNS name";
		return -1;
	}
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey == NULL) {
		*error_r = "cannot generate the TLS key";
		return -1;
	}
	x = make_cert(pkey, hostname);
	if (x == NULL) {
		*error_r = "cannot build the TLS certificate";
		EVP_PKEY_free(pkey);
		return -1;
	}
	ret = write_pems(pkey, x, cert_path, key_path, error_r);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}
