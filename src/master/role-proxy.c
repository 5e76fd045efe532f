/* Reading a PROXY protocol header before a connection is handed on
   (role-proxy.h). Bytes are peeked, and only those that belong to the
   header are consumed: a prefix that needs more is all header. */
#include "master/role-proxy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/proxy.h"

struct proxy_wait {
	struct proxy_wait *next, *prev;
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct listener *l;
	struct event *ev;
	role_proxy_done_fn *done;
	void *context;
	time_t deadline; /* the whole header, however it trickles in */
	unsigned char buf[PROXY_HEADER_MAX];
	size_t have;
};

static struct proxy_wait *waiting;
static unsigned pending;

static void wait_free(struct proxy_wait *w, bool close_fd)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		waiting = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pending--;
	event_free(w->ev);
	if (close_fd)
		close(w->fd);
	free(w);
}

static void wait_fail(struct proxy_wait *w, const char *why)
{
	char ip[64];

	conn_addr_text((const struct sockaddr *)&w->peer, ip, sizeof(ip));
	log_warn(NULL, "event=proxy.failed ip=%s listener=%s reason=\"%s\"", ip, w->l->name, why);
	wait_free(w, true);
}

/* The header is whole: consume its rest and hand the connection on. */
static void wait_done(struct proxy_wait *w, const struct proxy_header *h)
{
	size_t rest = h->length - w->have;
	ssize_t n = recv(w->fd, w->buf + w->have, rest, 0);
	int fd = w->fd;

	if (n < 0 || (size_t)n != rest) {
		wait_fail(w, "short read");
		return;
	}
	if (h->local)
		w->done(w->context, fd, (const struct sockaddr *)&w->peer, w->peerlen, w->l);
	else
		w->done(w->context, fd, (const struct sockaddr *)&h->source, h->source_len, w->l);
	wait_free(w, false);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *w = arg;
	struct proxy_header h;
	const char *error = "timed out";
	ssize_t n;

	if ((what & EV_TIMEOUT) || time(NULL) > w->deadline) {
		wait_fail(w, error);
		return;
	}
	n = recv(fd, w->buf + w->have, sizeof(w->buf) - w->have, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		wait_fail(w, n == 0 ? "closed before the header" : strerror(errno));
		return;
	}
	switch (proxy_parse(w->buf, w->have + (size_t)n, &h, &error)) {
	case PROXY_NEED_MORE:
		/* all of it is header: take it, so the next wakeup is for new bytes */
		if (recv(fd, w->buf + w->have, (size_t)n, 0) != n)
			wait_fail(w, "short read");
		else
			w->have += (size_t)n;
		return;
	case PROXY_DONE:
		wait_done(w, &h);
		return;
	case PROXY_INVALID:
		wait_fail(w, error);
		return;
	}
}

int role_proxy_wait(struct event_base *base, int fd, const struct sockaddr *peer, socklen_t peerlen,
                    struct listener *l, role_proxy_done_fn *done, void *context)
{
	struct timeval tv = {ROLE_PROXY_TIMEOUT, 0};
	struct proxy_wait *w;

	if (pending >= ROLE_PROXY_MAX_PENDING || peerlen > sizeof(w->peer)) {
		close(fd);
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	memcpy(&w->peer, peer, peerlen);
	w->peerlen = peerlen;
	w->l = l;
	w->done = done;
	w->context = context;
	w->deadline = time(NULL) + ROLE_PROXY_TIMEOUT;
	w->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, w);
	w->next = waiting;
	if (waiting != NULL)
		waiting->prev = w;
	waiting = w;
	pending++;
	event_add(w->ev, &tv);
	return 0;
}

void role_proxy_abort_all(void)
{
	while (waiting != NULL)
		wait_free(waiting, true);
}
