/* The transport map: see queue-transport.h. */
#include "queue/queue-transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/array.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define TRANSPORT_MAX_SIZE (1024 * 1024)

struct transport_entry {
	char *domain;
	struct queue_route route;
};

struct queue_transport {
	ARRAY(struct transport_entry) entries;
};

int queue_route_parse(const char *s, struct queue_route *r)
{
	const char *host = s, *end, *colon;
	unsigned long port = 0;

	memset(r, 0, sizeof(*r));
	if (*s == '[') {
		host = s + 1;
		end = strchr(host, ']');
		if (end == NULL)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(s, ':');
		/* an IPv6 literal without brackets has several colons */
		if (colon != NULL && strchr(s, ':') != colon)
			colon = NULL;
		end = colon != NULL ? colon : s + strlen(s);
	}
	if (end == host)
		return -1;
	if (colon != NULL) {
		char *e;

		port = strtoul(colon + 1, &e, 10);
		if (*e != '\0' || port == 0 || port > 65535)
			return -1;
	}
	r->host = xstrndup(host, (size_t)(end - host));
	r->port = (unsigned)port;
	return 0;
}

void queue_route_clear(struct queue_route *r)
{
	free(r->host);
	memset(r, 0, sizeof(*r));
}

void queue_transport_free(struct queue_transport **tp)
{
	struct queue_transport *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->entries.count; i++) {
		free(t->entries.items[i].domain);
		queue_route_clear(&t->entries.items[i].route);
	}
	array_free(&t->entries);
	free(t);
	*tp = NULL;
}

/* The next whitespace-separated word of *p (up to end); NULL at the end. */
static char *word(const char **p, const char *end)
{
	const char *s = *p, *w;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	w = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return s > w ? xstrndup(w, (size_t)(s - w)) : NULL;
}

static int parse_line(struct queue_transport *t, const char *s, const char *end,
                      const char **error_r)
{
	const char *hash = memchr(s, '#', (size_t)(end - s));
	char *domain, *target, *extra;
	struct transport_entry e;

	if (hash != NULL)
		end = hash;
	domain = word(&s, end);
	if (domain == NULL)
		return 0;
	target = word(&s, end);
	extra = word(&s, end);
	if (target == NULL || extra != NULL || queue_route_parse(target, &e.route) < 0) {
		*error_r = target == NULL || extra != NULL ? "expected: domain host[:port]"
		                                           : "bad host[:port]";
		free(domain);
		free(target);
		free(extra);
		return -1;
	}
	free(target);
	e.domain = domain;
	array_append(&t->entries, e);
	return 0;
}

int queue_transport_parse(const char *text, size_t len, struct queue_transport **t_r,
                          size_t *line_r, const char **error_r)
{
	struct queue_transport *t = xcalloc(1, sizeof(*t));
	const char *p = text, *end = text + len;
	size_t line = 0;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *le = lf != NULL ? lf : end;

		line++;
		if (memchr(p, '\0', (size_t)(le - p)) != NULL) {
			*error_r = "NUL byte";
			goto fail;
		}
		if (le > p && le[-1] == '\r')
			le--;
		if (parse_line(t, p, le, error_r) < 0)
			goto fail;
		p = lf != NULL ? lf + 1 : end;
	}
	*t_r = t;
	return 0;
fail:
	*line_r = line;
	queue_transport_free(&t);
	return -1;
}

/* ---- credentials ---- */

static int read_text(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "re");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len < TRANSPORT_MAX_SIZE)
		buf_append(b, chunk, n);
	fclose(f);
	return 0;
}

int queue_transport_load(const char *path, struct queue_transport **t_r, size_t *line_r,
                         const char **error_r)
{
	struct buf b = BUF_INIT;
	int ret;

	*line_r = 0;
	if (read_text(path, &b) < 0) {
		*error_r = "cannot open the transport file";
		return -1;
	}
	ret = queue_transport_parse(b.data != NULL ? b.data : "", b.len, t_r, line_r, error_r);
	buf_free(&b);
	return ret;
}

const struct queue_route *queue_transport_lookup(const struct queue_transport *t,
                                                 const char *domain)
{
	const struct queue_route *any = NULL;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->entries.count; i++) {
		if (strcasecmp(t->entries.items[i].domain, domain) == 0)
			return &t->entries.items[i].route;
		if (strcmp(t->entries.items[i].domain, "*") == 0 && any == NULL)
			any = &t->entries.items[i].route;
	}
	return any;
}

int queue_auth_parse(const char *text, size_t len, queue_auths *auths_r, size_t *line_r,
                     const char **error_r)
{
	const char *p = text, *end = text + len;
	size_t line = 0;

	memset(auths_r, 0, sizeof(*auths_r));
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *le = lf != NULL ? lf : end;
		const char *s = p;
		char *host, *user, *pass;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		p = lf != NULL ? lf + 1 : end;
		host = word(&s, le);
		if (host == NULL || host[0] == '#') {
			free(host);
			continue;
		}
		user = word(&s, le);
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		/* the password is the rest of the line: it may hold spaces */
		pass = s < le ? xstrndup(s, (size_t)(le - s)) : NULL;
		if (user == NULL || pass == NULL || memchr(s, '\0', (size_t)(le - s)) != NULL) {
			free(host);
			free(user);
			free(pass);
			*error_r = "expected: host user password";
			*line_r = line;
			queue_auths_free(auths_r);
			return -1;
		}
		struct queue_auth a = {host, user, pass};

		array_append(auths_r, a);
	}
	return 0;
}

int queue_auth_load(const char *path, queue_auths *auths_r, size_t *line_r, const char **error_r)
{
	struct buf b = BUF_INIT;
	int ret;

	*line_r = 0;
	if (read_text(path, &b) < 0) {
		*error_r = "cannot open the auth file";
		return -1;
	}
	ret = queue_auth_parse(b.data != NULL ? b.data : "", b.len, auths_r, line_r, error_r);
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return ret;
}

const struct queue_auth *queue_auth_lookup(const queue_auths *auths, const char *host)
{
	for (size_t i = 0; i < auths->count; i++)
		if (strcasecmp(auths->items[i].host, host) == 0)
			return &auths->items[i];
	return NULL;
}

void queue_auths_free(queue_auths *auths)
{
	for (size_t i = 0; i < auths->count; i++) {
		struct queue_auth *a = &auths->items[i];

		explicit_bzero(a->password, strlen(a->password));
		free(a->host);
		free(a->user);
		free(a->password);
	}
	array_free(auths);
}
