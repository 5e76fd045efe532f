/* The envelope's text format (spool-envelope.h, docs/queue.md). */
#include "queue/spool-envelope.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define MAGIC  "tern-envelope"
#define ID_MAX 64

static const char *const ret_names[] = {NULL, "FULL", "HDRS"};
static const char *const body_names[] = {NULL, "7BIT", "8BITMIME", "BINARYMIME"};
static const char *const notify_names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
#define NOTIFY_COUNT (sizeof(notify_names) / sizeof(notify_names[0]))

const char *spool_ret_name(enum spool_ret ret)
{
	return (unsigned)ret < sizeof(ret_names) / sizeof(ret_names[0]) ? ret_names[ret] : NULL;
}

const char *spool_body_name(enum spool_body body)
{
	return (unsigned)body < sizeof(body_names) / sizeof(body_names[0]) ? body_names[body]
	                                                                   : NULL;
}

void spool_notify_format(unsigned notify, struct buf *out)
{
	bool first = true;

	for (size_t i = 0; i < NOTIFY_COUNT; i++) {
		if ((notify & (1u << i)) == 0)
			continue;
		if (!first)
			buf_append_char(out, ',');
		buf_append_str(out, notify_names[i]);
		first = false;
	}
}

bool spool_id_valid(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= ID_MAX ||
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return n > 0;
}

struct spool_rcpt *spool_envelope_add_rcpt(struct spool_envelope *env, const char *address,
                                           unsigned notify, const char *orcpt_type,
                                           const char *orcpt, const char *alias)
{
	struct spool_rcpt *r = array_push(&env->rcpts);

	r->address = xstrdup(address);
	r->notify = notify;
	r->orcpt_type = orcpt_type != NULL ? xstrdup(orcpt_type) : NULL;
	r->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
	r->alias = alias != NULL ? xstrdup(alias) : NULL;
	return r;
}

void spool_envelope_clear(struct spool_envelope *env)
{
	for (size_t i = 0; i < env->rcpts.count; i++) {
		struct spool_rcpt *r = &env->rcpts.items[i];

		free(r->address);
		free(r->orcpt_type);
		free(r->orcpt);
		free(r->alias);
	}
	array_free(&env->rcpts);
	free(env->id);
	free(env->sender);
	free(env->envid);
	free(env->auth_user);
	free(env->client_ip);
	free(env->helo);
	free(env->smtp_id);
	memset(env, 0, sizeof(*env));
}

/* ---- writing ---- */

/* Bytes that would end a field or a line, and the escape itself. */
static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%';
}

static void put_escaped(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (needs_escape(*p))
			buf_printf(out, "%%%02X", *p);
		else
			buf_append_char(out, (char)*p);
	}
}

static void put_field(struct buf *out, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_append_str(out, key);
	buf_append_char(out, ' ');
	put_escaped(out, value);
	buf_append_char(out, '\n');
}

static void put_address(struct buf *out, const char *address)
{
	buf_append_char(out, '<');
	put_escaped(out, address);
	buf_append_char(out, '>');
}

static void put_rcpt(struct buf *out, const struct spool_rcpt *r)
{
	buf_append_str(out, "rcpt ");
	put_address(out, r->address);
	buf_printf(out, " index=%u", r->rcpt_index);
	if (r->notify != 0) {
		buf_append_str(out, " notify=");
		spool_notify_format(r->notify, out);
	}
	if (r->orcpt_type != NULL && r->orcpt != NULL) {
		buf_append_str(out, " orcpt=");
		put_escaped(out, r->orcpt_type);
		buf_append_char(out, ';');
		put_escaped(out, r->orcpt);
	}
	if (r->alias != NULL) {
		buf_append_str(out, " alias=");
		put_address(out, r->alias);
	}
	buf_append_char(out, '\n');
}

static const char *format_check(const struct spool_envelope *env)
{
	if (env->id == NULL || !spool_id_valid(env->id))
		return "the envelope has no valid id";
	if (env->sender == NULL || env->client_ip == NULL)
		return "the envelope has no sender or client";
	if (env->rcpts.count == 0)
		return "the envelope has no recipient";
	for (size_t i = 0; i < env->rcpts.count; i++) {
		if (env->rcpts.items[i].address == NULL || env->rcpts.items[i].address[0] == '\0')
			return "a recipient has no address";
	}
	return NULL;
}

int spool_envelope_format(const struct spool_envelope *env, struct buf *out, const char **error_r)
{
	const char *error = format_check(env);

	if (error != NULL) {
		*error_r = error;
		return -1;
	}
	buf_printf(out, MAGIC " %d\n", SPOOL_ENVELOPE_VERSION);
	put_field(out, "id", env->id);
	buf_printf(out, "arrival %" PRId64 "\nsize %" PRIu64 "\n",
	           env->arrival < 0 ? 0 : env->arrival, env->size);
	if (env->data_skip > 0)
		buf_printf(out, "data-skip %" PRIu64 "\n", env->data_skip);
	buf_append_str(out, "from ");
	put_address(out, env->sender);
	buf_append_char(out, '\n');
	put_field(out, "ret", spool_ret_name(env->ret));
	put_field(out, "envid", env->envid);
	put_field(out, "body", spool_body_name(env->body));
	put_field(out, "requiretls", env->requiretls ? "yes" : NULL);
	put_field(out, "smtputf8", env->smtputf8 ? "yes" : NULL);
	put_field(out, "auth", env->auth_user);
	put_field(out, "client", env->client_ip);
	put_field(out, "helo", env->helo);
	put_field(out, "smtp-id", env->smtp_id);
	for (size_t i = 0; i < env->rcpts.count; i++)
		put_rcpt(out, &env->rcpts.items[i]);
	buf_append_str(out, "end\n");
	return 0;
}

/* ---- reading ---- */

/* A field of a line: [p, end). */
struct span {
	const char *p;
	size_t len;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode %XX escapes into a new string; NULL for a bad escape or a NUL. */
static char *unescape(struct span f)
{
	char *out = xmalloc(f.len + 1);
	size_t n = 0;

	for (size_t i = 0; i < f.len; i++) {
		int c = (unsigned char)f.p[i];

		if (c == '%') {
			int hi = i + 2 < f.len ? hexval(f.p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(f.p[i + 2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

/* "<...>" decoded; NULL if not in brackets or badly escaped. */
static char *unescape_address(struct span f)
{
	if (f.len < 2 || f.p[0] != '<' || f.p[f.len - 1] != '>')
		return NULL;
	return unescape((struct span){f.p + 1, f.len - 2});
}

static int parse_u64(struct span f, uint64_t *v_r)
{
	uint64_t v = 0;

	if (f.len == 0 || f.len > 20)
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		unsigned d = (unsigned)(f.p[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}

static bool span_is(struct span f, const char *word)
{
	return f.len == strlen(word) && memcmp(f.p, word, f.len) == 0;
}

/* The index of word among count names (NULL entries skipped), or -1. */
static int lookup(struct span f, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (names[i] != NULL && span_is(f, names[i]))
			return (int)i;
	}
	return -1;
}

/* Split the next space-separated field off *line. */
static bool next_field(struct span *line, struct span *f_r)
{
	const char *sp;

	if (line->len == 0)
		return false;
	sp = memchr(line->p, ' ', line->len);
	f_r->p = line->p;
	f_r->len = sp != NULL ? (size_t)(sp - line->p) : line->len;
	line->p += f_r->len;
	line->len -= f_r->len;
	if (sp != NULL) {
		line->p++;
		line->len--;
	}
	return true;
}

static int parse_notify(struct span v, unsigned *notify_r)
{
	unsigned notify = 0;

	while (v.len > 0) {
		const char *comma = memchr(v.p, ',', v.len);
		struct span w = {v.p, comma != NULL ? (size_t)(comma - v.p) : v.len};
		int i = lookup(w, notify_names, NOTIFY_COUNT);

		if (i < 0)
			return -1;
		notify |= 1u << i;
		v.p += w.len + (comma != NULL);
		v.len -= w.len + (comma != NULL);
		if (comma != NULL && v.len == 0)
			return -1;
	}
	if (notify == 0 || ((notify & SPOOL_NOTIFY_NEVER) && notify != SPOOL_NOTIFY_NEVER))
		return -1;
	*notify_r = notify;
	return 0;
}

static int parse_orcpt(struct spool_rcpt *r, struct span v)
{
	const char *semi = memchr(v.p, ';', v.len);

	if (semi == NULL || semi == v.p || r->orcpt != NULL)
		return -1;
	r->orcpt_type = unescape((struct span){v.p, (size_t)(semi - v.p)});
	r->orcpt = unescape((struct span){semi + 1, v.len - (size_t)(semi - v.p) - 1});
	return r->orcpt_type != NULL && r->orcpt != NULL ? 0 : -1;
}

/* One "key=value" of a rcpt line; unknown keys are skipped. */
static int parse_rcpt_param(struct spool_rcpt *r, struct span f)
{
	const char *eq = memchr(f.p, '=', f.len);
	struct span key, v;
	uint64_t n;

	if (eq == NULL)
		return -1;
	key = (struct span){f.p, (size_t)(eq - f.p)};
	v = (struct span){eq + 1, f.len - key.len - 1};
	if (span_is(key, "index")) {
		if (parse_u64(v, &n) < 0 || n > UINT32_MAX)
			return -1;
		r->rcpt_index = (unsigned)n;
		return 0;
	}
	if (span_is(key, "notify"))
		return r->notify == 0 ? parse_notify(v, &r->notify) : -1;
	if (span_is(key, "orcpt"))
		return parse_orcpt(r, v);
	if (span_is(key, "alias")) {
		if (r->alias != NULL)
			return -1;
		r->alias = unescape_address(v);
		return r->alias != NULL ? 0 : -1;
	}
	return 0;
}

static int parse_rcpt(struct spool_envelope *env, struct span rest)
{
	struct spool_rcpt *r = array_push(&env->rcpts);
	struct span f;

	if (!next_field(&rest, &f) || (r->address = unescape_address(f)) == NULL ||
	    r->address[0] == '\0')
		return -1;
	while (next_field(&rest, &f)) {
		if (parse_rcpt_param(r, f) < 0)
			return -1;
	}
	return 0;
}

/* A field that appears once: its one value into *dst (must be unset). */
static int parse_string(char **dst, struct span rest)
{
	if (*dst != NULL || rest.len == 0 || memchr(rest.p, ' ', rest.len) != NULL)
		return -1;
	*dst = unescape(rest);
	return *dst != NULL ? 0 : -1;
}

/* Which fields have been seen, for the ones without a NULL to tell. */
enum seen {
	SEEN_ARRIVAL = 1 << 0,
	SEEN_SIZE = 1 << 1,
	SEEN_SKIP = 1 << 2,
	SEEN_RET = 1 << 3,
	SEEN_BODY = 1 << 4,
	SEEN_REQUIRETLS = 1 << 5,
	SEEN_SMTPUTF8 = 1 << 6,
};

static int once(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return -1;
	*seen |= bit;
	return 0;
}

static int parse_number(unsigned *seen, unsigned bit, struct span rest, uint64_t *v_r)
{
	return once(seen, bit) < 0 ? -1 : parse_u64(rest, v_r);
}

static int parse_word(unsigned *seen, unsigned bit, struct span rest, const char *const *names,
                      size_t count, int *v_r)
{
	if (once(seen, bit) < 0 || (*v_r = lookup(rest, names, count)) <= 0)
		return -1;
	return 0;
}

static int parse_line(struct spool_envelope *env, unsigned *seen, struct span key, struct span rest)
{
	uint64_t n;
	int w;

	if (span_is(key, "id"))
		return parse_string(&env->id, rest) < 0 || !spool_id_valid(env->id) ? -1 : 0;
	if (span_is(key, "arrival")) {
		if (parse_number(seen, SEEN_ARRIVAL, rest, &n) < 0 || n > INT64_MAX)
			return -1;
		env->arrival = (int64_t)n;
		return 0;
	}
	if (span_is(key, "size"))
		return parse_number(seen, SEEN_SIZE, rest, &env->size);
	if (span_is(key, "data-skip"))
		return parse_number(seen, SEEN_SKIP, rest, &env->data_skip);
	if (span_is(key, "from")) {
		if (env->sender != NULL)
			return -1;
		env->sender = unescape_address(rest);
		return env->sender != NULL ? 0 : -1;
	}
	if (span_is(key, "ret")) {
		if (parse_word(seen, SEEN_RET, rest, ret_names, 3, &w) < 0)
			return -1;
		env->ret = (enum spool_ret)w;
		return 0;
	}
	if (span_is(key, "body")) {
		if (parse_word(seen, SEEN_BODY, rest, body_names, 4, &w) < 0)
			return -1;
		env->body = (enum spool_body)w;
		return 0;
	}
	if (span_is(key, "requiretls") || span_is(key, "smtputf8")) {
		bool utf8 = key.p[0] == 's';

		if (once(seen, utf8 ? SEEN_SMTPUTF8 : SEEN_REQUIRETLS) < 0 || !span_is(rest, "yes"))
			return -1;
		*(utf8 ? &env->smtputf8 : &env->requiretls) = true;
		return 0;
	}
	if (span_is(key, "envid"))
		return parse_string(&env->envid, rest);
	if (span_is(key, "auth"))
		return parse_string(&env->auth_user, rest);
	if (span_is(key, "client"))
		return parse_string(&env->client_ip, rest);
	if (span_is(key, "helo"))
		return parse_string(&env->helo, rest);
	if (span_is(key, "smtp-id"))
		return parse_string(&env->smtp_id, rest);
	if (span_is(key, "rcpt"))
		return parse_rcpt(env, rest);
	return 0; /* a field a later version added: skipped */
}

/* Raw control bytes never appear in a written envelope (they are escaped). */
static bool line_clean(struct span line)
{
	for (size_t i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.p[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static const char *parse_header(struct span *text)
{
	const char *nl = memchr(text->p, '\n', text->len);
	struct span line, f, v;
	uint64_t version;

	if (nl == NULL)
		return "not an envelope";
	line = (struct span){text->p, (size_t)(nl - text->p)};
	text->p = nl + 1;
	text->len -= line.len + 1;
	if (!next_field(&line, &f) || !span_is(f, MAGIC) || !next_field(&line, &v) ||
	    line.len != 0 || parse_u64(v, &version) < 0)
		return "not an envelope";
	if (version != SPOOL_ENVELOPE_VERSION)
		return "unsupported envelope version";
	return NULL;
}

static const char *parse_body(struct spool_envelope *env, struct span text)
{
	unsigned seen = 0;

	while (text.len > 0) {
		const char *nl = memchr(text.p, '\n', text.len);
		struct span line, key;

		if (nl == NULL)
			return "truncated envelope";
		line = (struct span){text.p, (size_t)(nl - text.p)};
		text.p = nl + 1;
		text.len -= line.len + 1;
		if (!line_clean(line))
			return "control bytes in the envelope";
		if (span_is(line, "end")) {
			if (text.len != 0)
				return "data after the end of the envelope";
			if (env->id == NULL || env->sender == NULL || env->client_ip == NULL ||
			    (seen & (SEEN_ARRIVAL | SEEN_SIZE)) != (SEEN_ARRIVAL | SEEN_SIZE) ||
			    env->rcpts.count == 0)
				return "a required envelope field is missing";
			return NULL;
		}
		if (!next_field(&line, &key) || key.len == 0 ||
		    parse_line(env, &seen, key, line) < 0)
			return "malformed envelope field";
	}
	return "truncated envelope";
}

int spool_envelope_parse(const char *data, size_t len, struct spool_envelope *env_r,
                         const char **error_r)
{
	struct span text = {data, len};
	const char *error;

	memset(env_r, 0, sizeof(*env_r));
	error = parse_header(&text);
	if (error == NULL)
		error = parse_body(env_r, text);
	if (error == NULL)
		return 0;
	spool_envelope_clear(env_r);
	*error_r = error;
	return -1;
}
