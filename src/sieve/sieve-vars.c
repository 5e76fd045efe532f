/* Variables (RFC 5229) and the imap4flags flag lists (RFC 5232). */
#include "sieve/sieve-run.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_declared_global(const struct sieve_scope *sc, const char *name)
{
	for (size_t i = 0; i < sc->globals.count; i++) {
		if (strcasecmp(sc->globals.items[i], name) == 0)
			return true;
	}
	/* "global.NAME" is the global namespace (RFC 6609 section 3.5) */
	return false;
}

static sieve_var_array *vars_for(struct sieve_run *r, const char **name)
{
	if (strncasecmp(*name, "global.", 7) == 0) {
		*name += 7;
		return &r->global_vars;
	}
	if (is_declared_global(r->scope, *name))
		return &r->global_vars;
	return &r->scope->vars;
}

static bool var_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (; *s; s++) {
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.'))
			return false;
	}
	return true;
}

const char *sieve_var_get(struct sieve_run *r, const char *name)
{
	if (isdigit((unsigned char)name[0])) {
		if (strspn(name, "0123456789") != strlen(name))
			return NULL;
		int i = atoi(name);
		if (i >= SIEVE_MATCH_VARS)
			return "";
		return r->caps.v[i] ? r->caps.v[i] : "";
	}
	if (!var_name_ok(name))
		return NULL;
	sieve_var_array *vars = vars_for(r, &name);
	for (size_t i = 0; i < vars->count; i++) {
		if (strcasecmp(vars->items[i].name, name) == 0)
			return vars->items[i].value;
	}
	return "";
}

void sieve_var_set(struct sieve_run *r, const char *name, char *value)
{
	sieve_var_array *vars = vars_for(r, &name);

	if (strlen(value) > r->limits->max_variable) {
		size_t n = r->limits->max_variable;
		/* cut at a character boundary */
		while (n > 0 && (value[n] & 0xc0) == 0x80)
			n--;
		value[n] = '\0';
	}
	for (size_t i = 0; i < vars->count; i++) {
		if (strcasecmp(vars->items[i].name, name) == 0) {
			free(vars->items[i].value);
			vars->items[i].value = value;
			return;
		}
	}
	struct sieve_var *v = array_push(vars);
	v->name = xstrdup(name);
	v->value = value;
}

char *sieve_expand(struct sieve_run *r, const char *s)
{
	struct buf b = BUF_INIT;

	if (!r->scope->variables || strstr(s, "${") == NULL)
		return xstrdup(s);
	/* a short script can name a long variable many times: the expansion
	   is bounded, the rest cut off */
	while (*s && b.len < SIEVE_EXPAND_MAX) {
		const char *close;
		if (s[0] == '$' && s[1] == '{' && (close = strchr(s + 2, '}')) != NULL) {
			size_t len = (size_t)(close - (s + 2));
			char name[128];
			if (len > 0 && len < sizeof(name) && memchr(s + 2, '{', len) == NULL) {
				memcpy(name, s + 2, len);
				name[len] = '\0';
				const char *v = sieve_var_get(r, name);
				if (v != NULL) {
					buf_append(&b, v, strnlen(v, SIEVE_EXPAND_MAX));
					s = close + 1;
					continue;
				}
			}
		}
		buf_append_char(&b, *s++);
	}
	if (b.len > SIEVE_EXPAND_MAX) {
		b.len = SIEVE_EXPAND_MAX;
		b.data[b.len] = '\0';
	}
	return buf_steal(&b);
}

static bool has_flag(char *const *flags, size_t n, const char *f, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(flags[i]) == len && strncasecmp(flags[i], f, len) == 0)
			return true;
	}
	return false;
}

void sieve_flags_add(char ***flags, size_t *n, const char *s)
{
	while (*s) {
		size_t sp = strspn(s, " "), len;
		s += sp;
		len = strcspn(s, " ");
		if (len > 0 && !has_flag(*flags, *n, s, len)) {
			*flags = xreallocarray(*flags, *n + 1, sizeof(char *));
			(*flags)[(*n)++] = xstrndup(s, len);
		}
		s += len;
	}
}

void sieve_flags_remove(char ***flags, size_t *n, const char *s)
{
	while (*s) {
		s += strspn(s, " ");
		size_t len = strcspn(s, " ");
		for (size_t i = 0; i < *n; i++) {
			if (strlen((*flags)[i]) == len && strncasecmp((*flags)[i], s, len) == 0) {
				free((*flags)[i]);
				memmove(&(*flags)[i], &(*flags)[i + 1],
				        (*n - i - 1) * sizeof(char *));
				(*n)--;
				break;
			}
		}
		s += len;
	}
}

char *sieve_flags_join(char *const *flags, size_t n)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append_char(&b, ' ');
		buf_append_str(&b, flags[i]);
	}
	return buf_steal(&b);
}

void sieve_flags_free(char ***flags, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*flags)[i]);
	free(*flags);
	*flags = NULL;
	*n = 0;
}
