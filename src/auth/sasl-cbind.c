/* Channel binding data of a TLS connection (sasl-cbind.h). */
#include "auth/sasl-cbind.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#define EXPORTER_LABEL "EXPORTER-Channel-Binding"

/* RFC 5929 section 4.1: the certificate's signature hash, SHA-256 in place
   of MD5 and SHA-1. */
static const EVP_MD *end_point_md(X509 *cert)
{
	int md_nid = NID_undef, pk_nid;

	if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid) ||
	    md_nid == NID_undef)
		return NULL;
	if (md_nid == NID_md5 || md_nid == NID_sha1)
		return EVP_sha256();
	return EVP_get_digestbynid(md_nid);
}

static void end_point(SSL *ssl, struct sasl_channel_binding *cb)
{
	X509 *cert = SSL_get_certificate(ssl);
	const EVP_MD *md = cert != NULL ? end_point_md(cert) : NULL;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (md == NULL || X509_digest(cert, md, hash, &len) != 1 || len > SASL_CB_END_POINT_MAX)
		return;
	memcpy(cb->end_point, hash, len);
	cb->end_point_len = len;
}

void sasl_channel_binding_from_ssl(SSL *ssl, struct sasl_channel_binding *cb)
{
	memset(cb, 0, sizeof(*cb));
	if (ssl == NULL)
		return;
	cb->tls = true;
	if (SSL_version(ssl) >= TLS1_3_VERSION &&
	    SSL_export_keying_material(ssl, cb->exporter, SASL_CB_EXPORTER_LEN, EXPORTER_LABEL,
	                               strlen(EXPORTER_LABEL), NULL, 0, 0) == 1)
		cb->has_exporter = true;
	end_point(ssl, cb);
}
