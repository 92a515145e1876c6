/* canon_time.c — RFC 3339 timestamps <-> milliseconds since the Unix epoch
 * (UTC). Strict: a date, 'T', a time with seconds, optional fraction, and a
 * mandatory offset ('Z' or ±HH:MM). Leap seconds (":60") are refused: the
 * epoch scale has no place for them. Fractions beyond milliseconds are
 * truncated. Calendar arithmetic is done here (no timegm, no locale, no TZ). */
#include <stdio.h>
#include <string.h>

#include "takt/canon.h"
#include "takt/decimal.h"

/* Reads exactly n decimal digits at *p; advances *p. */
static bool read_digits(const char **p, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *out = v;
        return true;
}

static bool expect(const char **p, char a, char b)
{
        if (**p != a && **p != b)
                return false;
        (*p)++;
        return true;
}

static bool is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
        static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

/* Optional ".digits" -> milliseconds (truncated). */
static bool read_fraction(const char **p, int *ms)
{
        *ms = 0;
        if (**p != '.')
                return true;
        (*p)++;
        int n = 0;
        while (**p >= '0' && **p <= '9') {
                if (n < 3)
                        *ms = *ms * 10 + (**p - '0');
                n++;
                (*p)++;
        }
        for (int i = n; i < 3; i++)
                *ms *= 10;
        return n > 0;
}

/* 'Z' or ±HH:MM -> offset in minutes east of UTC. */
static bool read_offset(const char **p, int *minutes)
{
        if (expect(p, 'Z', 'z')) {
                *minutes = 0;
                return true;
        }
        int sign = **p == '+' ? 1 : **p == '-' ? -1 : 0;
        if (sign == 0)
                return false;
        (*p)++;
        int hh, mm;
        if (!read_digits(p, 2, &hh) || !expect(p, ':', ':') || !read_digits(p, 2, &mm))
                return false;
        if (hh > 23 || mm > 59)
                return false;
        *minutes = sign * (hh * 60 + mm);
        return true;
}

bool canon_parse_time(const char *text, int64_t *out_ms)
{
        if (text == NULL)
                return false;
        const char *p = text;
        int y, mo, d, h, mi, s, ms, off;
        if (!read_digits(&p, 4, &y) || !expect(&p, '-', '-') || !read_digits(&p, 2, &mo) ||
            !expect(&p, '-', '-') || !read_digits(&p, 2, &d) || !expect(&p, 'T', 't') ||
            !read_digits(&p, 2, &h) || !expect(&p, ':', ':') || !read_digits(&p, 2, &mi) ||
            !expect(&p, ':', ':') || !read_digits(&p, 2, &s) || !read_fraction(&p, &ms) ||
            !read_offset(&p, &off) || *p != '\0')
                return false;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
                return false;
        int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        secs -= (int64_t)off * 60;
        if (out_ms != NULL)
                *out_ms = secs * 1000 + ms;
        return true;
}

void canon_format_time(int64_t ms, char *buf, size_t len)
{
        int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        int frac = (int)(ms - secs * 1000);
        int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int sod = (int)(secs - days * 86400);
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999 || len < sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ")) {
                snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                         sod / 3600, sod / 60 % 60, sod % 60, frac);
                return;
        }
        /* the usual case, without printf (every state change stamps one) */
        memcpy(buf, "YYYY-MM-DDTHH:MM:SS.mmmZ", sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ"));
        decimal_fixed(buf, (unsigned)y, 4);
        decimal_fixed(buf + 5, (unsigned)m, 2);
        decimal_fixed(buf + 8, (unsigned)d, 2);
        decimal_fixed(buf + 11, (unsigned)(sod / 3600), 2);
        decimal_fixed(buf + 14, (unsigned)(sod / 60 % 60), 2);
        decimal_fixed(buf + 17, (unsigned)(sod % 60), 2);
        decimal_fixed(buf + 20, (unsigned)frac, 3);
}
