/* Dates for the date extension (RFC 5260) and address parts of header
   values (RFC 5228 section 2.7.4). */
#include "sieve/sieve-run.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static int zone_name(const char *s, int *zone_r)
{
	static const struct {
		const char *n;
		int z;
	} zones[] = {{"UT", 0},        {"GMT", 0},       {"Z", 0},         {"EST", -5 * 60},
	             {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60}, {"MST", -7 * 60},
	             {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60}};
	if ((s[0] == '+' || s[0] == '-') && strspn(s + 1, "0123456789") >= 4) {
		int hh = (s[1] - '0') * 10 + (s[2] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
		*zone_r = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
		return 0;
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strncasecmp(s, zones[i].n, strlen(zones[i].n)) == 0) {
			*zone_r = zones[i].z;
			return 0;
		}
	}
	return -1;
}

int sieve_parse_date(const char *s, time_t *t_r, int *zone_r)
{
	char mon[4] = "";
	int d, y, hh, mm, ss = 0, n = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (isalpha((unsigned char)*s)) {
		const char *comma = strchr(s, ',');
		if (comma == NULL)
			return -1;
		s = comma + 1;
	}
	if (sscanf(s, " %d %3s %d %d:%d%n", &d, mon, &y, &hh, &mm, &n) != 5)
		return -1;
	s += n;
	if (*s == ':') {
		n = 0;
		if (sscanf(s, ":%d%n", &ss, &n) != 1)
			return -1;
		s += n;
	}
	while (isspace((unsigned char)*s))
		s++;
	int m = -1;
	for (int i = 0; i < 12; i++) {
		if (strcasecmp(mon, months[i]) == 0)
			m = i + 1;
	}
	if (y < 100)
		y += y < 50 ? 2000 : 1900;
	if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y > 9999 ||
	    zone_name(s, zone_r) < 0)
		return -1;
	long days = days_from_civil(y, (unsigned)m, (unsigned)d);
	*t_r = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss) - (time_t)*zone_r * 60;
	return 0;
}

char *sieve_date_part(time_t t, int zone, const char *part)
{
	struct tm tm;
	time_t local = t + (time_t)zone * 60;
	char z[32];

	if (gmtime_r(&local, &tm) == NULL)
		return NULL;
	snprintf(z, sizeof(z), "%c%02d%02d", zone < 0 ? '-' : '+', abs(zone) / 60, abs(zone) % 60);
	if (strcasecmp(part, "year") == 0)
		return xasprintf("%04d", tm.tm_year + 1900);
	if (strcasecmp(part, "month") == 0)
		return xasprintf("%02d", tm.tm_mon + 1);
	if (strcasecmp(part, "day") == 0)
		return xasprintf("%02d", tm.tm_mday);
	if (strcasecmp(part, "date") == 0)
		return xasprintf("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (strcasecmp(part, "julian") == 0)
		return xasprintf("%ld", (long)(local / 86400) + 40587);
	if (strcasecmp(part, "hour") == 0)
		return xasprintf("%02d", tm.tm_hour);
	if (strcasecmp(part, "minute") == 0)
		return xasprintf("%02d", tm.tm_min);
	if (strcasecmp(part, "second") == 0)
		return xasprintf("%02d", tm.tm_sec);
	if (strcasecmp(part, "time") == 0)
		return xasprintf("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* RFC 3339 time-offset: "Z" for UTC, as Pigeonhole writes it */
	if (strcasecmp(part, "iso8601") == 0 && zone == 0)
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (strcasecmp(part, "iso8601") == 0)
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%.3s:%s", tm.tm_year + 1900,
		                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, z,
		                 z + 3);
	if (strcasecmp(part, "std11") == 0)
		return xasprintf("%s, %d %s %04d %02d:%02d:%02d %s", wdays[tm.tm_wday], tm.tm_mday,
		                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		                 tm.tm_sec, z);
	if (strcasecmp(part, "zone") == 0)
		return xstrdup(z);
	if (strcasecmp(part, "weekday") == 0)
		return xasprintf("%d", tm.tm_wday);
	return NULL;
}

/* Skip a (possibly nested) comment at s; returns the byte after it. */
static const char *skip_comment(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '(')
			depth++;
		else if (*s == ')' && --depth == 0)
			return s + 1;
	}
	return s;
}

static void push_addr(struct buf *cur, char ***out, size_t *n)
{
	const char *a = cur->data ? cur->data : "";
	size_t len = cur->len;

	while (len > 0 && isspace((unsigned char)a[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*a)) {
		a++;
		len--;
	}
	/* an obsolete source route "@relay:" before the address (RFC 5322
	   section 4.4) is not part of it */
	if (len > 0 && *a == '@' && memchr(a, ':', len) != NULL) {
		const char *colon = memchr(a, ':', len);
		len -= (size_t)(colon + 1 - a);
		a = colon + 1;
	}
	if (len > 0) {
		*out = xreallocarray(*out, *n + 1, sizeof(char *));
		(*out)[(*n)++] = xstrndup(a, len);
	}
	buf_clear(cur);
}

/* One pass over the value: text inside <> replaces the display name;
   quoted strings outside <> are display names (dropped unless they are
   the local part); "name:" starts a group and ';' ends it. */
void sieve_parse_addresses(const char *value, char ***out, size_t *n)
{
	struct buf cur = BUF_INIT, angle = BUF_INIT;
	bool in_angle = false, had_angle = false;
	size_t before = *n;

	for (const char *s = value; *s;) {
		char c = *s;
		if (c == '(') {
			s = skip_comment(s);
			continue;
		}
		if (c == '"') {
			struct buf *dst = in_angle ? &angle : &cur;
			buf_append_char(dst, *s++);
			while (*s && *s != '"') {
				if (*s == '\\' && s[1])
					buf_append_char(dst, *s++);
				buf_append_char(dst, *s++);
			}
			if (*s)
				buf_append_char(dst, *s++);
			continue;
		}
		if (in_angle) {
			if (c == '>')
				in_angle = false;
			else
				buf_append_char(&angle, c);
		} else if (c == '<') {
			in_angle = had_angle = true;
			buf_clear(&angle);
		} else if (c == ',' || c == ';') {
			push_addr(had_angle ? &angle : &cur, out, n);
			buf_clear(&cur);
			had_angle = false;
		} else if (c == ':' && !had_angle) {
			buf_clear(&cur); /* a group name */
		} else if (!isspace((unsigned char)c)) {
			buf_append_char(&cur, c);
		}
		s++;
	}
	push_addr(had_angle ? &angle : &cur, out, n);
	buf_free(&cur);
	buf_free(&angle);
	/* a value with no address in it (only an empty group, or garbage) is
	   compared as it stands, as Pigeonhole does; RFC 5228 section 2.7.4
	   leaves invalid addresses to the implementation */
	if (*n == before) {
		while (isspace((unsigned char)*value))
			value++;
		size_t len = strlen(value);
		while (len > 0 && isspace((unsigned char)value[len - 1]))
			len--;
		if (len > 0) {
			*out = xreallocarray(*out, *n + 1, sizeof(char *));
			(*out)[(*n)++] = xstrndup(value, len);
		}
	}
}
