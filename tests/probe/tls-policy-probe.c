/*
 * A test program for the TLS policy (src/queue/tls-policy.h), used by
 * tests/e2e/test_dane.py and test_mta_sts.py until the queue role calls it:
 * look up the MX of a domain through the resolver (its DNSSEC status is
 * mx_secure), decide the TLS policy of the first MX, then speak SMTP to
 * 127.0.0.1:PORT: EHLO, STARTTLS if offered, the handshake prepared by
 * tls_policy_apply, tls_policy_check, QUIT. Prints one line per step:
 *
 *   decision tls=dane tempfail=no required=yes why="..."
 *   check result=ok|tempfail verified=yes|no tls=... why="..."
 *   requiretls allowed=yes|no
 *
 * Exit status: 0 delivery could go on, 75 temporary failure, 2 usage or
 * setup error.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns/dns-resolver.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "net/tls.h"
#include "queue/tls-policy.h"

struct probe {
	struct event_base *base;
	struct tls_policy *tp;
	const char *domain;
	int port;
	const char *mx_ca; /* ca file of the client context */
	struct tls_decision *decision;
	struct tls_policy_query *query;
	bool mx_secure;
	char mx[256];
	bool done;
};

/* Read one SMTP reply (all its lines); returns its code or -1. */
static int smtp_reply(int fd, char *text, size_t size)
{
	size_t used = 0;

	text[0] = '\0';
	for (int lines = 0; lines < 100; lines++) {
		char line[1024];
		size_t n = 0;

		while (n + 1 < sizeof(line)) {
			ssize_t r = read(fd, &line[n], 1);

			if (r != 1)
				return -1;
			if (line[n++] == '\n')
				break;
		}
		line[n] = '\0';
		if (used + n < size) {
			memcpy(text + used, line, n + 1);
			used += n;
		}
		if (n < 4)
			return -1;
		if (line[3] == ' ')
			return atoi(line);
	}
	return -1;
}

static int smtp_cmd(int fd, const char *cmd, char *text, size_t size)
{
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	return smtp_reply(fd, text, size);
}

static int tcp_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* STARTTLS and the handshake; returns the SSL, or NULL when STARTTLS was
   not offered. Exits on a setup failure. */
static SSL *starttls(struct probe *p, int fd, SSL_CTX *ctx)
{
	char text[4096];
	const char *error;
	SSL *ssl;

	if (smtp_reply(fd, text, sizeof(text)) != 220 ||
	    smtp_cmd(fd, "EHLO probe.test\r\n", text, sizeof(text)) != 250) {
		printf("smtp error=\"no greeting or EHLO refused\"\n");
		exit(2);
	}
	if (strstr(text, "STARTTLS") == NULL || p->decision->mode == TLS_POLICY_NONE)
		return NULL;
	if (smtp_cmd(fd, "STARTTLS\r\n", text, sizeof(text)) != 220)
		return NULL;
	ssl = SSL_new(ctx);
	SSL_set_tlsext_host_name(ssl, p->mx);
	if (tls_policy_apply(p->decision, ssl, &error) < 0) {
		printf("apply error=\"%s\"\n", error);
		exit(75);
	}
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		printf("handshake error=\"%s\"\n", tls_last_error());
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static int deliver(struct probe *p)
{
	SSL_CTX *ctx = NULL;
	char *error = NULL;
	const char *why;
	bool verified;
	int fd, ret;
	SSL *ssl;

	if (tls_client_ctx_new(p->mx_ca, &ctx, &error) < 0) {
		printf("setup error=\"%s\"\n", error);
		return 2;
	}
	fd = tcp_connect(p->port);
	if (fd < 0) {
		printf("connect error=refused\n");
		return 75;
	}
	ssl = starttls(p, fd, ctx);
	ret = tls_policy_check(p->decision, ssl, &verified, &why);
	printf("check result=%s verified=%s tls=%s why=\"%s\"\n", ret == 0 ? "ok" : "tempfail",
	       verified ? "yes" : "no", tls_policy_describe(p->decision, ssl != NULL),
	       ret == 0 ? "" : why);
	printf("requiretls allowed=%s\n",
	       tls_policy_allows_requiretls(p->decision, verified) ? "yes" : "no");
	if (ssl != NULL) {
		SSL_write(ssl, "QUIT\r\n", 6);
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	SSL_CTX_free(ctx);
	return ret == 0 ? 0 : 75;
}

static void decided(struct tls_decision *d, void *arg)
{
	struct probe *p = arg;

	p->query = NULL;
	p->decision = d;
	printf("decision tls=%s tempfail=%s required=%s mx_secure=%s why=\"%s\"\n",
	       tls_policy_mode_name(d->mode), d->tempfail ? "yes" : "no",
	       d->tls_required ? "yes" : "no", p->mx_secure ? "yes" : "no", d->why);
	p->done = true;
	event_base_loopbreak(p->base);
}

static void mx_answer(const struct dns_answer *a, void *arg)
{
	struct probe *p = arg;

	if (a->status != DNS_STATUS_OK) {
		printf("mx status=%d\n", (int)a->status);
		p->done = true;
		event_base_loopbreak(p->base);
		return;
	}
	snprintf(p->mx, sizeof(p->mx), "%s", a->rrs.items[0].u.mx.exchange);
	p->mx_secure = a->dnssec == DNS_DNSSEC_SECURE;
	p->query = tls_policy_lookup(p->tp, p->domain, p->mx, p->mx_secure, decided, p);
}

static void usage(void)
{
	fprintf(stderr, "usage: tls-policy-probe --domain D --port N [--zone F | --forwarder IP@P "
	                "--trust-anchor F] [--cache DIR] [--sts-ca F] [--sts-resolve H:P:A] "
	                "[--sts-port N] [--mx-ca F]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"domain", 1, NULL, 'd'},
	    {"port", 1, NULL, 'p'},
	    {"zone", 1, NULL, 'z'},
	    {"forwarder", 1, NULL, 'f'},
	    {"trust-anchor", 1, NULL, 't'},
	    {"cache", 1, NULL, 'c'},
	    {"sts-ca", 1, NULL, 's'},
	    {"sts-resolve", 1, NULL, 'r'},
	    {"sts-port", 1, NULL, 'P'},
	    {"mx-ca", 1, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	struct probe p = {.port = 25};
	struct dns_resolver_settings ds = {.timeout_msecs = 5000};
	struct tls_policy_settings ts = {.dane = true, .mta_sts = true};
	const char *forwarder = NULL, *resolve = NULL;
	struct dns_resolver *resolver;
	struct workpool *pool;
	struct timeval limit = {20, 0};
	const char *error;
	char *merror = NULL;
	int c, ret = 75;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			p.domain = optarg;
			break;
		case 'p':
			p.port = atoi(optarg);
			break;
		case 'z':
			ds.zone_file = optarg;
			break;
		case 'f':
			forwarder = optarg;
			break;
		case 't':
			ds.trust_anchor_file = optarg;
			break;
		case 'c':
			ts.sts.cache_dir = optarg;
			break;
		case 's':
			ts.sts.ca_file = optarg;
			break;
		case 'r':
			resolve = optarg;
			break;
		case 'P':
			ts.sts.port = (unsigned)atoi(optarg);
			break;
		case 'm':
			ts.mx_ca_file = p.mx_ca = optarg;
			break;
		default:
			usage();
		}
	}
	if (p.domain == NULL)
		usage();
	if (forwarder != NULL) {
		ds.forwarders = &forwarder;
		ds.forwarder_count = 1;
	}
	if (resolve != NULL) {
		ts.sts.resolve = &resolve;
		ts.sts.resolve_count = 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("probe", LOG_INFO);
	p.base = event_base_new();
	if (dns_resolver_new(p.base, &ds, &resolver, &merror) < 0) {
		printf("setup error=\"%s\"\n", merror);
		return 2;
	}
	pool = workpool_new(p.base, 1);
	if (tls_policy_new(p.base, resolver, pool, &ts, &p.tp, &error) < 0) {
		printf("setup error=\"%s\"\n", error);
		return 2;
	}
	dns_lookup(resolver, p.domain, DNS_TYPE_MX, mx_answer, &p);
	event_base_loopexit(p.base, &limit);
	event_base_dispatch(p.base);
	if (p.decision != NULL && !p.decision->tempfail)
		ret = deliver(&p);
	else if (p.decision == NULL)
		printf("decision none (timeout)\n");
	tls_decision_free(&p.decision);
	tls_policy_query_cancel(&p.query);
	workpool_free(&pool);
	tls_policy_free(&p.tp);
	dns_resolver_free(&resolver);
	event_base_free(p.base);
	return ret;
}
