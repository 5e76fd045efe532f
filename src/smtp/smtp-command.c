#include "smtp/smtp-command.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

enum arg_kind {
	ARGS_NONE,     /* nothing may follow the verb */
	ARGS_OPTIONAL, /* free text, may be absent */
	ARGS_REQUIRED, /* free text, must be present */
	ARGS_MAIL,     /* FROM:<reverse-path> [SP params] */
	ARGS_RCPT,     /* TO:<forward-path> [SP params] */
};

struct verb_def {
	const char *name;
	enum smtp_verb verb;
	enum arg_kind args;
	const char *syntax; /* the text of a 501 for wrong arguments */
};

/* Indexed by enum smtp_verb. */
static const struct verb_def verbs[SMTP_VERB_COUNT] = {
    {"HELO", SMTP_VERB_HELO, ARGS_REQUIRED, "Syntax: HELO hostname"},
    {"EHLO", SMTP_VERB_EHLO, ARGS_REQUIRED, "Syntax: EHLO hostname"},
    {"MAIL", SMTP_VERB_MAIL, ARGS_MAIL, "Syntax: MAIL FROM:<address>"},
    {"RCPT", SMTP_VERB_RCPT, ARGS_RCPT, "Syntax: RCPT TO:<address>"},
    {"DATA", SMTP_VERB_DATA, ARGS_NONE, "Syntax: DATA"},
    {"BDAT", SMTP_VERB_BDAT, ARGS_REQUIRED, "Syntax: BDAT size [LAST]"},
    {"RSET", SMTP_VERB_RSET, ARGS_NONE, "Syntax: RSET"},
    {"NOOP", SMTP_VERB_NOOP, ARGS_OPTIONAL, "Syntax: NOOP"},
    {"QUIT", SMTP_VERB_QUIT, ARGS_NONE, "Syntax: QUIT"},
    {"VRFY", SMTP_VERB_VRFY, ARGS_REQUIRED, "Syntax: VRFY address"},
    {"EXPN", SMTP_VERB_EXPN, ARGS_REQUIRED, "Syntax: EXPN list"},
    {"HELP", SMTP_VERB_HELP, ARGS_OPTIONAL, "Syntax: HELP [topic]"},
    {"STARTTLS", SMTP_VERB_STARTTLS, ARGS_NONE, "Syntax: STARTTLS"},
    {"AUTH", SMTP_VERB_AUTH, ARGS_REQUIRED, "Syntax: AUTH mechanism"},
    {"LHLO", SMTP_VERB_LHLO, ARGS_REQUIRED, "Syntax: LHLO hostname"},
};

const char *smtp_verb_name(enum smtp_verb verb)
{
	return verb < SMTP_VERB_COUNT ? verbs[verb].name : "?";
}

static int set_error(struct smtp_reply_error *error_r, unsigned code, const char *enhanced,
                     const char *text)
{
	error_r->code = code;
	error_r->enhanced = enhanced;
	error_r->text = text;
	return -1;
}

static const struct verb_def *find_verb(const char *name, size_t len)
{
	for (size_t i = 0; i < SMTP_VERB_COUNT; i++) {
		if (strlen(verbs[i].name) == len && strncasecmp(verbs[i].name, name, len) == 0)
			return &verbs[i];
	}
	return NULL;
}

/* Control bytes (other than TAB) have no place in a command line. 8-bit
   bytes may (UTF-8 addresses) and are checked by the address parser. */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return true;
	}
	return false;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool is_keyword(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9');

		if (!alnum && (ch != '-' || i == 0))
			return false;
	}
	return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), and UTF-8 characters (RFC 6531
   section 3.3). */
static bool is_value(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		size_t n;

		if (ch >= 0x80) {
			n = utf8_char_len((const unsigned char *)s + i, len - i);
			if (n == 0)
				return false;
			i += n - 1;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return false;
		}
	}
	return true;
}

static bool is_upper_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F');
}

bool smtp_xtext_valid(const char *s, size_t len, bool utf8)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		size_t n;

		if (ch == '+') {
			if (len - i < 3 || !is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2]))
				return false;
			i += 2;
		} else if (ch >= 0x80) {
			n = utf8 ? utf8_char_len((const unsigned char *)s + i, len - i) : 0;
			if (n == 0)
				return false;
			i += n - 1;
		} else if (ch < '!' || ch > '~' || ch == '=') {
			return false;
		}
	}
	return true;
}

static unsigned hex_value(char c)
{
	return c >= 'A' ? (unsigned)(c - 'A' + 10) : (unsigned)(c - '0');
}

char *smtp_xtext_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+' && len - i >= 3 && is_upper_hex(s[i + 1]) &&
		    is_upper_hex(s[i + 2])) {
			out[n++] = (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

/* SIZE=<digits> (RFC 1870 section 3). A value too big for 64 bits is
   taken as UINT64_MAX, which no limit allows. */
static int parse_size(const char *s, size_t len, uint64_t *size_r)
{
	uint64_t v = 0;

	if (len == 0 || len > 40)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*size_r = v; /* SIZE=0 is the same as no SIZE: it limits nothing */
	return 0;
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && strncasecmp(key, name, klen) == 0;
}

static bool val_is(const char *val, size_t vlen, const char *name)
{
	return val != NULL && key_is(val, vlen, name);
}

static int body_param(struct smtp_command *cmd, const char *val, size_t vlen,
                      struct smtp_reply_error *error_r)
{
	if (cmd->body != SMTP_BODY_UNSET)
		return set_error(error_r, 501, "5.5.4", "Duplicate BODY parameter");
	if (val_is(val, vlen, "7BIT"))
		cmd->body = SMTP_BODY_7BIT;
	else if (val_is(val, vlen, "8BITMIME"))
		cmd->body = SMTP_BODY_8BITMIME;
	else if (val_is(val, vlen, "BINARYMIME"))
		cmd->body = SMTP_BODY_BINARYMIME;
	else
		return set_error(error_r, 501, "5.5.4", "Bad BODY parameter");
	return 0;
}

/* A flag parameter without a value, given at most once. */
static int flag_param(bool *flag, const char *val, struct smtp_reply_error *error_r)
{
	if (val != NULL || *flag)
		return set_error(error_r, 501, "5.5.4", "Bad parameter syntax");
	*flag = true;
	return 0;
}

/* RET=FULL|HDRS and ENVID=xtext (RFC 3461 sections 4.3, 4.4). */
static int dsn_mail_param(struct smtp_command *cmd, bool ret, const char *val, size_t vlen,
                          struct smtp_reply_error *error_r)
{
	if (ret) {
		if (cmd->ret != SMTP_DSN_RET_UNSET)
			return set_error(error_r, 501, "5.5.4", "Duplicate RET parameter");
		if (val_is(val, vlen, "FULL"))
			cmd->ret = SMTP_DSN_RET_FULL;
		else if (val_is(val, vlen, "HDRS"))
			cmd->ret = SMTP_DSN_RET_HDRS;
		else
			return set_error(error_r, 501, "5.5.4", "Bad RET parameter");
		return 0;
	}
	if (cmd->envid != NULL)
		return set_error(error_r, 501, "5.5.4", "Duplicate ENVID parameter");
	if (val == NULL || vlen > SMTP_DSN_ENVID_MAX || !smtp_xtext_valid(val, vlen, false))
		return set_error(error_r, 501, "5.5.4", "Bad ENVID parameter");
	cmd->envid = xstrndup(val, vlen);
	return 0;
}

static int mail_param(struct smtp_command *cmd, const char *key, size_t klen, const char *val,
                      size_t vlen, struct smtp_reply_error *error_r)
{
	if (key_is(key, klen, "SIZE")) {
		if (val == NULL || parse_size(val, vlen, &cmd->size) < 0)
			return set_error(error_r, 501, "5.5.4", "Bad SIZE parameter");
		return 0;
	}
	if (key_is(key, klen, "BODY"))
		return body_param(cmd, val, vlen, error_r);
	if (key_is(key, klen, "SMTPUTF8"))
		return flag_param(&cmd->smtputf8, val, error_r);
	if (key_is(key, klen, "REQUIRETLS"))
		return flag_param(&cmd->requiretls, val, error_r);
	if (key_is(key, klen, "RET") || key_is(key, klen, "ENVID"))
		return dsn_mail_param(cmd, key_is(key, klen, "RET"), val, vlen, error_r);
	/* RFC 4954 section 5: AUTH=<mailbox> or AUTH=<> is accepted and not
	   used (the authenticated user is the session's) */
	if (key_is(key, klen, "AUTH"))
		return 0;
	return set_error(error_r, 555, "5.5.4", "Unsupported parameter");
}

/* NOTIFY="NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY"), case-insensitive. */
static int parse_notify(const char *val, size_t vlen, unsigned *notify_r)
{
	unsigned bits = 0;
	size_t pos = 0;

	if (val == NULL)
		return -1;
	while (pos <= vlen) {
		const char *comma = memchr(val + pos, ',', vlen - pos);
		size_t end = comma != NULL ? (size_t)(comma - val) : vlen;
		unsigned bit = key_is(val + pos, end - pos, "NEVER")     ? SMTP_DSN_NOTIFY_NEVER
		               : key_is(val + pos, end - pos, "SUCCESS") ? SMTP_DSN_NOTIFY_SUCCESS
		               : key_is(val + pos, end - pos, "FAILURE") ? SMTP_DSN_NOTIFY_FAILURE
		               : key_is(val + pos, end - pos, "DELAY")   ? SMTP_DSN_NOTIFY_DELAY
		                                                         : 0;

		if (bit == 0 || (bits & bit) != 0)
			return -1;
		bits |= bit;
		pos = end + 1;
	}
	/* NEVER stands alone (section 4.1) */
	if ((bits & SMTP_DSN_NOTIFY_NEVER) != 0 && bits != SMTP_DSN_NOTIFY_NEVER)
		return -1;
	*notify_r = bits;
	return 0;
}

/* ORCPT=addr-type ";" xtext (RFC 3461 section 4.2); addr-type rfc822, or
   utf-8 (RFC 6533 section 3, whose value may hold UTF-8 under SMTPUTF8;
   the session checks that part). */
static bool orcpt_valid(const char *val, size_t vlen)
{
	const char *semi = val != NULL ? memchr(val, ';', vlen) : NULL;
	size_t tlen;

	if (semi == NULL || vlen > SMTP_DSN_ORCPT_MAX)
		return false;
	tlen = (size_t)(semi - val);
	if (key_is(val, tlen, "rfc822"))
		return smtp_xtext_valid(semi + 1, vlen - tlen - 1, false);
	if (key_is(val, tlen, "utf-8"))
		return smtp_xtext_valid(semi + 1, vlen - tlen - 1, true);
	return false;
}

static int rcpt_param(struct smtp_command *cmd, const char *key, size_t klen, const char *val,
                      size_t vlen, struct smtp_reply_error *error_r)
{
	if (key_is(key, klen, "NOTIFY")) {
		if (cmd->rcpt.notify != 0 || parse_notify(val, vlen, &cmd->rcpt.notify) < 0)
			return set_error(error_r, 501, "5.5.4", "Bad NOTIFY parameter");
		return 0;
	}
	if (key_is(key, klen, "ORCPT")) {
		if (cmd->rcpt.orcpt != NULL || !orcpt_valid(val, vlen))
			return set_error(error_r, 501, "5.5.4", "Bad ORCPT parameter");
		cmd->rcpt.orcpt = xstrndup(val, vlen);
		return 0;
	}
	return set_error(error_r, 555, "5.5.4", "Unsupported parameter");
}

/* One "KEY[=VALUE]" of len bytes. */
static int parse_param(struct smtp_command *cmd, const char *s, size_t len,
                       struct smtp_reply_error *error_r)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - s) : len;
	const char *val = eq != NULL ? eq + 1 : NULL;
	size_t vlen = eq != NULL ? len - klen - 1 : 0;

	if (!is_keyword(s, klen) || (val != NULL && !is_value(val, vlen)))
		return set_error(error_r, 501, "5.5.4", "Bad parameter syntax");
	if (cmd->verb == SMTP_VERB_MAIL)
		return mail_param(cmd, s, klen, val, vlen, error_r);
	return rcpt_param(cmd, s, klen, val, vlen, error_r);
}

/* The text after the path: nothing, or SP esmtp-param *(SP esmtp-param).
   Extra spaces between parameters are tolerated. */
static int parse_params(struct smtp_command *cmd, const char *s, size_t len,
                        struct smtp_reply_error *error_r)
{
	size_t pos = 0;
	unsigned count = 0;

	while (pos < len) {
		size_t start, end;

		while (pos < len && s[pos] == ' ')
			pos++;
		start = pos;
		end = start;
		while (end < len && s[end] != ' ')
			end++;
		if (++count > SMTP_PARAMS_MAX)
			return set_error(error_r, 501, "5.5.4", "Too many parameters");
		if (parse_param(cmd, s + start, end - start, error_r) < 0)
			return -1;
		pos = end;
	}
	return 0;
}

/* MAIL FROM:<path> [params] / RCPT TO:<path> [params]. A space after the
   colon is tolerated (many clients send one; Postfix accepts it too). */
static int parse_path_args(struct smtp_command *cmd, const struct verb_def *def, const char *s,
                           size_t len, struct smtp_reply_error *error_r)
{
	bool mail = def->args == ARGS_MAIL;
	const char *prefix = mail ? "FROM:" : "TO:";
	size_t plen = strlen(prefix), consumed;
	unsigned flags = mail ? ADDRESS_ALLOW_NULL : ADDRESS_ALLOW_POSTMASTER;
	const char *addr_error;

	if (len < plen || strncasecmp(s, prefix, plen) != 0)
		return set_error(error_r, 501, "5.5.4", def->syntax);
	s += plen;
	len -= plen;
	while (len > 0 && *s == ' ') {
		s++;
		len--;
	}
	if (address_parse_path(s, len, flags, &cmd->path, &consumed, &addr_error) < 0 ||
	    (consumed < len && s[consumed] != ' ')) {
		address_free(&cmd->path);
		return set_error(error_r, 501, mail ? "5.1.7" : "5.1.3",
		                 mail ? "Bad sender address syntax"
		                      : "Bad recipient address syntax");
	}
	return parse_params(cmd, s + consumed, len - consumed, error_r);
}

static int parse_args(struct smtp_command *cmd, const struct verb_def *def, const char *s,
                      size_t len, struct smtp_reply_error *error_r)
{
	switch (def->args) {
	case ARGS_NONE:
		if (len > 0)
			return set_error(error_r, 501, "5.5.4", def->syntax);
		return 0;
	case ARGS_REQUIRED:
		if (len == 0)
			return set_error(error_r, 501, "5.5.4", def->syntax);
		/* fall through */
	case ARGS_OPTIONAL:
		if (len > 0)
			cmd->arg = xstrndup(s, len);
		return 0;
	case ARGS_MAIL:
	case ARGS_RCPT:
		return parse_path_args(cmd, def, s, len, error_r);
	}
	return set_error(error_r, 500, "5.5.2", "Error: command not recognized");
}

/* HELO/EHLO name: a domain or address literal by RFC 5321, but clients
   send all sorts; accept one printable ASCII word of sane length. */
static int check_helo(const struct smtp_command *cmd, struct smtp_reply_error *error_r)
{
	size_t len = strlen(cmd->arg);

	if (len > SMTP_HELO_MAX || strchr(cmd->arg, ' ') != NULL || strchr(cmd->arg, '\t'))
		return set_error(error_r, 501, "5.5.4", verbs[cmd->verb].syntax);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)cmd->arg[i] > 126)
			return set_error(error_r, 501, "5.5.4", verbs[cmd->verb].syntax);
	}
	return 0;
}

static int parse_line(const char *line, size_t len, struct smtp_command *cmd,
                      struct smtp_reply_error *error_r)
{
	const struct verb_def *def;
	size_t vlen = 0;

	if (has_control(line, len))
		return set_error(error_r, 500, "5.5.1", "Error: control characters in command");
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	def = find_verb(line, vlen);
	if (def == NULL)
		return set_error(error_r, 500, "5.5.2", "Error: command not recognized");
	cmd->verb = def->verb;
	/* the one SP between verb and arguments */
	if (vlen < len)
		vlen++;
	if (parse_args(cmd, def, line + vlen, len - vlen, error_r) < 0)
		return -1;
	if (cmd->verb == SMTP_VERB_HELO || cmd->verb == SMTP_VERB_EHLO)
		return check_helo(cmd, error_r);
	return 0;
}

int smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd_r,
                       struct smtp_reply_error *error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (parse_line(line, len, cmd_r, error_r) < 0) {
		smtp_command_clear(cmd_r);
		return -1;
	}
	return 0;
}

void smtp_command_clear(struct smtp_command *cmd)
{
	free(cmd->arg);
	free(cmd->envid);
	free(cmd->rcpt.orcpt);
	address_free(&cmd->path);
	memset(cmd, 0, sizeof(*cmd));
}
