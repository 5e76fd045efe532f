/* IMAP dates: see imap-date.h. */
#include "imap/imap-date.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian (the
   well-known days-from-civil computation). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_number(const char *s)
{
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(s, months[i], 3) == 0)
			return i + 1;
	}
	return 0;
}

/* Read 1 to max digits; advances *p. -1 if there is none. */
static long read_num(const char **p, int max)
{
	long n = 0;
	int i = 0;

	while (i < max && isdigit((unsigned char)**p)) {
		n = n * 10 + (*(*p)++ - '0');
		i++;
	}
	return i == 0 ? -1 : n;
}

static bool days_valid(long y, long m, long d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

/* "d-Mon-yyyy" at *p; advances it. */
static int parse_dmy(const char **p, int64_t *day_r)
{
	long d, m, y;

	if (**p == ' ')
		(*p)++;
	d = read_num(p, 2);
	if (d < 0 || *(*p)++ != '-' || strlen(*p) < 4)
		return -1;
	m = month_number(*p);
	*p += 3;
	if (m == 0 || *(*p)++ != '-')
		return -1;
	y = read_num(p, 4);
	if (!days_valid(y, m, d))
		return -1;
	*day_r = days_from_civil(y, (int)m, (int)d);
	return 0;
}

int imap_parse_date(const char *s, int64_t *day_r)
{
	return parse_dmy(&s, day_r) == 0 && *s == '\0' ? 0 : -1;
}

/* "+hhmm" / "-hhmm": the offset in seconds. */
static int parse_zone(const char *p, long *off_r)
{
	long n;

	if ((*p != '+' && *p != '-') || strlen(p) != 5)
		return -1;
	for (int i = 1; i < 5; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
	}
	n = strtol(p + 1, NULL, 10);
	if (n % 100 >= 60)
		return -1;
	*off_r = (n / 100 * 3600 + n % 100 * 60) * (*p == '-' ? -1 : 1);
	return 0;
}

int imap_parse_datetime(const char *s, int64_t *t_r)
{
	int64_t day;
	long h, mi, sec, off;

	if (parse_dmy(&s, &day) < 0 || *s++ != ' ')
		return -1;
	h = read_num(&s, 2);
	if (h < 0 || h > 23 || *s++ != ':')
		return -1;
	mi = read_num(&s, 2);
	if (mi < 0 || mi > 59 || *s++ != ':')
		return -1;
	sec = read_num(&s, 2);
	if (sec < 0 || sec > 60 || *s++ != ' ' || parse_zone(s, &off) < 0)
		return -1;
	*t_r = day * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

int imap_parse_header_date(const char *s, int64_t *day_r)
{
	long d, m, y;

	while (*s == ' ' || *s == '\t')
		s++;
	/* An optional day name and comma (RFC 5322 3.3). */
	if (isalpha((unsigned char)*s)) {
		while (isalpha((unsigned char)*s))
			s++;
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
	}
	d = read_num(&s, 2);
	while (*s == ' ' || *s == '\t' || *s == '-')
		s++;
	if (d < 0 || strlen(s) < 3 || (m = month_number(s)) == 0)
		return -1;
	s += 3;
	while (isalpha((unsigned char)*s))
		s++;
	while (*s == ' ' || *s == '\t' || *s == '-')
		s++;
	y = read_num(&s, 4);
	/* RFC 5322 4.3: two-digit years (49 and below are 20xx). */
	if (y >= 0 && y < 50)
		y += 2000;
	else if (y >= 50 && y < 1000)
		y += 1900;
	if (!days_valid(y, m, d))
		return -1;
	*day_r = days_from_civil(y, (int)m, (int)d);
	return 0;
}

int64_t imap_local_day(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
