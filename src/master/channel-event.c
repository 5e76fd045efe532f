/* The channel on a libevent loop: see channel.h. */
#include "master/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct channel {
	struct bufferevent *bev;
	struct channel_decoder dec;
	struct buf out; /* scratch for one encoded message */
	channel_msg_cb *on_msg;
	channel_close_cb *on_close;
	void *ctx;
	bool closed;
};

static void channel_closed(struct channel *ch, const char *reason)
{
	if (ch->closed)
		return;
	ch->closed = true;
	bufferevent_disable(ch->bev, EV_READ | EV_WRITE);
	ch->on_close(reason, ch->ctx);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct channel *ch = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct channel_msg msg;
	const char *error;
	int ret;

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		channel_decoder_feed(&ch->dec, v.iov_base, v.iov_len);
		evbuffer_drain(in, v.iov_len);
	}
	while ((ret = channel_decoder_next(&ch->dec, &msg, &error)) > 0)
		ch->on_msg(&msg, ch->ctx);
	if (ret < 0)
		channel_closed(ch, error);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct channel *ch = arg;

	if (what & BEV_EVENT_EOF)
		channel_closed(ch, "peer closed");
	else if (what & BEV_EVENT_ERROR)
		channel_closed(ch, strerror(errno));
}

struct channel *channel_new(struct event_base *base, int fd, channel_msg_cb *on_msg,
                            channel_close_cb *on_close, void *ctx)
{
	struct channel *ch = xcalloc(1, sizeof(*ch));

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ch->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (ch->bev == NULL)
		log_fatal("event=channel.new_failed");
	channel_decoder_init(&ch->dec);
	ch->on_msg = on_msg;
	ch->on_close = on_close;
	ch->ctx = ctx;
	bufferevent_setcb(ch->bev, on_read, NULL, on_event, ch);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
	return ch;
}

int channel_send(struct channel *ch, enum channel_type type, const void *payload, size_t len,
                 const char **error_r)
{
	struct evbuffer *out;

	if (ch == NULL || ch->closed) {
		*error_r = "channel closed";
		return -1;
	}
	out = bufferevent_get_output(ch->bev);
	if (evbuffer_get_length(out) + CHANNEL_HEADER_SIZE + len > CHANNEL_MAX_OUTPUT) {
		*error_r = "channel output full";
		return -1;
	}
	buf_clear(&ch->out);
	if (channel_encode(&ch->out, type, payload, len, error_r) < 0)
		return -1;
	if (bufferevent_write(ch->bev, ch->out.data, ch->out.len) < 0) {
		*error_r = "write failed";
		return -1;
	}
	return 0;
}

void channel_free(struct channel **chp)
{
	struct channel *ch = *chp;

	if (ch == NULL)
		return;
	bufferevent_free(ch->bev);
	channel_decoder_free(&ch->dec);
	buf_free(&ch->out);
	free(ch);
	*chp = NULL;
}
