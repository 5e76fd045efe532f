#ifndef TERN_IMAP_IMAP_DATE_H
#define TERN_IMAP_IMAP_DATE_H

/*
 * Dates in IMAP: the date-time of APPEND (RFC 3501 section 9,
 * "17-Jul-1996 02:44:25 -0700"), the date of SEARCH SINCE/BEFORE/ON
 * ("1-Feb-1994"), and the day of an RFC 5322 Date: header for
 * SENTSINCE/SENTBEFORE/SENTON. Pure functions.
 *
 * Days are counted from 1970-01-01 (day 0), so dates compare as integers.
 */

#include <stdint.h>

/* Parse an IMAP date-time (day may be space-padded or one digit). Returns
   0 with the time in seconds since the epoch (UTC, zone applied), or -1. */
int imap_parse_datetime(const char *s, int64_t *t_r);

/* Parse an IMAP date ("d-Mon-yyyy" or "dd-Mon-yyyy"). Returns 0 with the
   day number, or -1. */
int imap_parse_date(const char *s, int64_t *day_r);

/* The day number of an RFC 5322 date ("Mon, 7 Feb 1994 21:52:25 -0800",
   day name optional, obsolete forms with 2-digit years accepted) as
   written in the header: RFC 3501 compares the sent date "disregarding
   time and timezone". Returns 0 or -1. */
int imap_parse_header_date(const char *s, int64_t *day_r);

/* The day number of time t in local time (INTERNALDATE comparisons). */
int64_t imap_local_day(int64_t t);

#endif
