/* Fetching MTA-STS policies over HTTPS and caching them on disk (RFC 8461
   3.3, 5.1). Runs on worker threads. */

#include "queue/mta-sts-fetch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

void mta_sts_fetch_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb; /* curl guarantees size == 1 */

	if (b->len + n > MTA_STS_MAX_POLICY) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void fetch_setup(CURL *curl, const struct mta_sts_fetch_settings *s, const char *url,
                        struct curl_slist *resolve, struct body *b)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* 3.3: no redirects */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT,
	                 (long)(s->timeout_secs != 0 ? s->timeout_secs : MTA_STS_FETCH_TIMEOUT));
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MTA_STS_MAX_POLICY);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "tern-mta-sts");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
	if (s->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
	if (resolve != NULL)
		curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
}

static int fetch_result(CURL *curl, CURLcode rc, const struct body *b, const char **error_r)
{
	long status = 0;
	char *type = NULL;

	if (b->too_big) {
		*error_r = "policy larger than 64 KiB";
		return -1;
	}
	if (rc != CURLE_OK) {
		*error_r = curl_easy_strerror(rc);
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		/* 3.3: a redirect or any other status is a failed fetch. */
		*error_r = "HTTP status is not 200";
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
	if (type != NULL && strncasecmp(type, "text/plain", 10) != 0) {
		*error_r = "policy is not text/plain";
		return -1;
	}
	return 0;
}

int mta_sts_fetch(const struct mta_sts_fetch_settings *settings, const char *domain, char **body_r,
                  size_t *len_r, const char **error_r)
{
	struct body b = {.data = xstrdup("")};
	struct curl_slist *resolve = NULL;
	char *url =
	    settings->port != 0 && settings->port != 443
	        ? xasprintf("https://mta-sts.%s:%u/.well-known/mta-sts.txt", domain, settings->port)
	        : xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", domain);
	CURL *curl = curl_easy_init();
	int ret = -1;

	for (size_t i = 0; i < settings->resolve_count; i++)
		resolve = curl_slist_append(resolve, settings->resolve[i]);
	if (curl == NULL) {
		*error_r = "curl cannot start";
	} else {
		fetch_setup(curl, settings, url, resolve, &b);
		ret = fetch_result(curl, curl_easy_perform(curl), &b, error_r);
		curl_easy_cleanup(curl);
	}
	curl_slist_free_all(resolve);
	free(url);
	if (ret < 0) {
		free(b.data);
		return -1;
	}
	*body_r = b.data;
	*len_r = b.len;
	return 0;
}

/* The cache file: "id <id>\nexpires <unix time>\n" then the policy body. */
static char *cache_path(const struct mta_sts_fetch_settings *s, const char *domain)
{
	return xasprintf("%s/%s", s->cache_dir, domain);
}

struct cached {
	char id[MTA_STS_MAX_ID + 1];
	long long expires;
	struct mta_sts_policy *policy;
};

static int cache_read(const struct mta_sts_fetch_settings *s, const char *domain, struct cached *c)
{
	char *path = cache_path(s, domain), *data = NULL;
	FILE *f = fopen(path, "re");
	size_t len = 0;
	int n = 0, ret = -1;
	const char *error;

	free(path);
	if (f == NULL)
		return -1;
	data = xmalloc(MTA_STS_MAX_POLICY + 256);
	len = fread(data, 1, MTA_STS_MAX_POLICY + 255, f);
	fclose(f);
	data[len] = '\0';
	if (sscanf(data, "id %32[0-9A-Za-z]\nexpires %lld\n%n", c->id, &c->expires, &n) == 2 &&
	    n > 0 && mta_sts_policy_parse(data + n, len - (size_t)n, &c->policy, &error) == 0)
		ret = 0;
	free(data);
	return ret;
}

/* Write the cache entry atomically (a temporary file renamed over it). */
static void cache_write(const struct mta_sts_fetch_settings *s, const char *domain, const char *id,
                        long long expires, const char *body, size_t len)
{
	char *path = cache_path(s, domain);
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	bool ok = f != NULL;

	if (ok) {
		ok = fprintf(f, "id %s\nexpires %lld\n", id, expires) > 0 &&
		     fwrite(body, 1, len, f) == len;
		ok = fclose(f) == 0 && ok;
	}
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
	free(tmp);
	free(path);
}

static int get_fetched(const struct mta_sts_fetch_settings *s, const char *domain,
                       const char *txt_id, time_t now, struct mta_sts_policy **policy_r,
                       const char **info_r)
{
	char *body;
	size_t len;

	if (mta_sts_fetch(s, domain, &body, &len, info_r) < 0)
		return -1;
	if (mta_sts_policy_parse(body, len, policy_r, info_r) < 0) {
		free(body);
		return -1;
	}
	if (s->cache_dir != NULL)
		cache_write(s, domain, txt_id, (long long)now + (*policy_r)->max_age, body, len);
	free(body);
	*info_r = "fetched";
	return 0;
}

int mta_sts_policy_get(const struct mta_sts_fetch_settings *settings, const char *domain,
                       const char *txt_id, time_t now, struct mta_sts_policy **policy_r,
                       const char **info_r)
{
	struct cached c = {.policy = NULL};
	bool have = settings->cache_dir != NULL && cache_read(settings, domain, &c) == 0 &&
	            c.expires > (long long)now;

	if (txt_id != NULL && !(have && strcmp(c.id, txt_id) == 0)) {
		const char *why;

		if (get_fetched(settings, domain, txt_id, now, policy_r, &why) == 0) {
			mta_sts_policy_free(&c.policy);
			*info_r = why;
			return 1;
		}
		*info_r = have ? "fetch failed, cached policy kept" : why;
	} else {
		*info_r = have ? "cached" : "no TXT record";
	}
	if (!have) {
		mta_sts_policy_free(&c.policy);
		return 0;
	}
	*policy_r = c.policy;
	return 1;
}
