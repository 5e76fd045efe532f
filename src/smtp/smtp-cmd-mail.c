/* MAIL, RCPT and RSET: building the envelope of a mail transaction
   (RFC 5321 sections 3.3, 4.1.1.2-4.1.1.5). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "directory/directory.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtp/smtp-mailauth.h"
#include "smtp/smtp-server-private.h"
#include "store/maildir.h"

void smtp_cmd_rset(struct smtp_session *s, struct smtp_command *cmd)
{
	smtp_transaction_reset(s);
	smtp_reply(s, 250, "2.0.0", "Ok");
}

void smtp_cmd_mail(struct smtp_session *s, struct smtp_command *cmd)
{
	uint64_t max = s->server->settings->smtp.max_message_size;
	char *v;

	if (s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	if (s->messages >= SMTP_SESSION_MESSAGES_MAX) {
		smtp_reply(s, 421, "4.7.0", "Too many messages in this session");
		smtp_session_close(s);
		return;
	}
	/* RFC 1870 section 6.1: refuse at MAIL what would be refused later. */
	if (max != 0 && cmd->size > max) {
		smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	s->has_mail = true;
	s->mail_from = cmd->path;
	memset(&cmd->path, 0, sizeof(cmd->path)); /* ownership moves to the session */
	s->mail_from_text = address_normalize(&s->mail_from);
	s->mail_size = cmd->size;
	v = log_value(s->mail_from_text, strlen(s->mail_from_text), 300);
	log_info(s->sid, "event=smtp.mail from=<%s> size=%llu", v, (unsigned long long)cmd->size);
	free(v);
	smtp_mailauth_begin(s);
	smtp_reply(s, 250, "2.1.0", "Ok");
}

/* Is ip inside the network "addr/prefix"? */
static bool cidr_match(const char *cidr, int family, const unsigned char *ip)
{
	const char *slash = strchr(cidr, '/');
	unsigned char net[16];
	char host[64];
	size_t hlen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
	int bits = family == AF_INET ? 32 : 128;
	int prefix = slash != NULL ? atoi(slash + 1) : bits;

	if (hlen >= sizeof(host) || prefix < 0 || prefix > bits)
		return false;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(family, host, net) != 1)
		return false;
	for (int i = 0; i < prefix; i++) {
		unsigned char mask = (unsigned char)(0x80 >> (i % 8));

		if ((net[i / 8] & mask) != (ip[i / 8] & mask))
			return false;
	}
	return true;
}

static bool peer_is_trusted(struct smtp_session *s)
{
	const struct tern_settings *set = s->server->settings;
	const char *peer = conn_peer_ip(s->conn);
	unsigned char ip[16];
	int family = strchr(peer, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(family, peer, ip) != 1)
		return false;
	for (size_t i = 0; i < set->smtp.trusted_network_count; i++) {
		if (cidr_match(set->smtp.trusted_networks[i], family, ip))
			return true;
	}
	return false;
}

static void log_rcpt(struct smtp_session *s, const char *addr, unsigned code)
{
	char *v = log_value(addr, strlen(addr), 300);

	log_info(s->sid, "event=smtp.rcpt to=<%s> result=%s code=%u", v,
	         code < 300 ? "accepted" : "rejected", code);
	free(v);
}

/* Add the Maildirs of res->local to the transaction, once each. */
static int add_maildirs(struct smtp_session *s, const struct directory_resolution *res)
{
	for (size_t i = 0; i < res->local_count; i++) {
		const char *error;
		char *path;
		bool dup = false;

		if (maildir_user_path(s->server->settings->mail_dir, res->local[i], &path, &error) <
		    0) {
			log_error(s->sid, "event=smtp.maildir_error user=%s error=%s",
			          res->local[i], error);
			return -1;
		}
		for (size_t j = 0; j < s->maildir_count && !dup; j++)
			dup = strcmp(s->maildirs[j], path) == 0;
		if (dup) {
			free(path);
			continue;
		}
		s->maildirs = xreallocarray(s->maildirs, s->maildir_count + 1, sizeof(char *));
		s->maildir_users =
		    xreallocarray(s->maildir_users, s->maildir_count + 1, sizeof(char *));
		s->maildir_users[s->maildir_count] = xstrdup(res->local[i]);
		s->maildirs[s->maildir_count++] = path;
	}
	return 0;
}

static void accept_rcpt(struct smtp_session *s, const char *addr)
{
	s->rcpts = xreallocarray(s->rcpts, s->rcpt_count + 1, sizeof(*s->rcpts));
	s->rcpts[s->rcpt_count++].address = xstrdup(addr);
	log_rcpt(s, addr, 250);
	smtp_reply(s, 250, "2.1.5", "Ok");
}

static void rcpt_local(struct smtp_session *s, const char *addr,
                       const struct directory_resolution *res)
{
	if (res->local_count == 0) {
		/* Only remote forwards: there is no queue to send them yet. */
		log_rcpt(s, addr, 451);
		smtp_reply(s, 451, "4.3.0", "<%s>: Forwarding not available yet", addr);
		return;
	}
	if (add_maildirs(s, res) < 0) {
		log_rcpt(s, addr, 451);
		smtp_reply(s, 451, "4.3.0", "<%s>: Temporary local problem", addr);
		return;
	}
	if (res->remote_count > 0)
		log_warn(s->sid, "event=smtp.forward_skipped remote=%zu reason=\"no queue yet\"",
		         res->remote_count);
	accept_rcpt(s, addr);
}

static void rcpt_resolved(struct smtp_session *s, const char *addr,
                          const struct directory_resolution *res)
{
	switch (res->result) {
	case DIRECTORY_LOCAL:
		rcpt_local(s, addr, res);
		return;
	case DIRECTORY_UNKNOWN:
		log_rcpt(s, addr, 550);
		smtp_reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown", addr);
		return;
	case DIRECTORY_NOT_LOCAL:
		break;
	}
	/* No open relay: only trusted networks may relay, and until the queue
	   exists even they get a temporary failure. */
	if (peer_is_trusted(s)) {
		log_rcpt(s, addr, 451);
		smtp_reply(s, 451, "4.3.0", "<%s>: Relaying not available yet", addr);
		return;
	}
	log_rcpt(s, addr, 554);
	smtp_reply(s, 554, "5.7.1", "<%s>: Relay access denied", addr);
}

/* The bare "Postmaster" (RFC 5321 section 4.5.1) is the postmaster of
   this host. */
static char *rcpt_address(struct smtp_session *s, const struct address *path)
{
	if (path->domain[0] == '\0')
		return xasprintf("postmaster@%s", s->server->settings->hostname);
	return address_normalize(path);
}

void smtp_cmd_rcpt(struct smtp_session *s, struct smtp_command *cmd)
{
	struct directory_resolution res;
	const char *error;
	char *addr;

	if (!s->has_mail) {
		smtp_reply(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->rcpt_count >= s->server->settings->smtp.max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	addr = rcpt_address(s, &cmd->path);
	if (directory_resolve(s->server->dir, addr, &res, &error) < 0) {
		bool malformed = strncmp(error, "malformed", 9) == 0;

		log_rcpt(s, addr, malformed ? 501 : 451);
		if (malformed)
			smtp_reply(s, 501, "5.1.3", "Bad recipient address syntax");
		else
			smtp_reply(s, 451, "4.3.0", "<%s>: Temporary lookup failure", addr);
		free(addr);
		return;
	}
	rcpt_resolved(s, addr, &res);
	directory_resolution_free(&res);
	free(addr);
}
