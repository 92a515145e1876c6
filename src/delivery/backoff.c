/* backoff.c — retry timing: exponential backoff with full jitter,
 * Retry-After parsing, and the classification of an HTTP answer. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

uint64_t backoff_ceiling_ms(const struct takt_retry *r, int attempts)
{
        uint64_t ceiling = r->initial_ms;
        for (int i = 1; i < attempts && ceiling < r->max_ms; i++) {
                if (ceiling > UINT64_MAX / 2) {
                        ceiling = r->max_ms;
                        break;
                }
                ceiling *= 2;
        }
        return ceiling > r->max_ms ? r->max_ms : ceiling;
}

uint64_t backoff_delay_ms(const struct takt_retry *r, int attempts, uint64_t rnd,
                          uint64_t retry_after_ms)
{
        uint64_t ceiling = backoff_ceiling_ms(r, attempts);
        uint64_t delay = ceiling == UINT64_MAX ? rnd : rnd % (ceiling + 1);
        return delay < retry_after_ms ? retry_after_ms : delay;
}

static int month_index(const char *m)
{
        static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        for (int i = 0; i < 12; i++)
                if (strncmp(m, names[i], 3) == 0)
                        return i;
        return -1;
}

/* The three date forms of RFC 9110 §5.6.7, all GMT. */
static bool parse_http_date(const char *v, int64_t *out_s)
{
        struct tm tm = {0};
        char mon[4] = {0}, wday[16] = {0};
        int day, year, h, mi, s, n = 0;
        /* The three forms fill the same fields. NOLINTBEGIN(bugprone-branch-clone) */
        if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &h, &mi, &s,
                   &n) == 7 &&
            n > 0) {
                /* IMF-fixdate */
        } else if (sscanf(v, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wday, &day, mon, &year,
                          &h, &mi, &s, &n) == 7 &&
                   n > 0) {
                year += year < 70 ? 2000 : 1900; /* RFC 850 */
        } else if (sscanf(v, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &h, &mi, &s, &year,
                          &n) == 7 &&
                   n > 0) {
                /* asctime */
        } else {
                return false;
        }
        /* NOLINTEND(bugprone-branch-clone) */
        while (v[n] == ' ')
                n++;
        int m = month_index(mon);
        if (v[n] != '\0' || m < 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60)
                return false;
        tm.tm_year = year - 1900;
        tm.tm_mon = m;
        tm.tm_mday = day;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        *out_s = (int64_t)timegm(&tm);
        return true;
}

bool retry_after_parse(const char *value, int64_t now_ms, uint64_t *out_ms)
{
        if (value == NULL)
                return false;
        while (*value == ' ')
                value++;
        if (isdigit((unsigned char)*value)) {
                char *end;
                unsigned long long secs = strtoull(value, &end, 10);
                while (*end == ' ')
                        end++;
                if (*end != '\0' || secs > 365ULL * 24 * 3600)
                        return false;
                *out_ms = (uint64_t)secs * 1000;
                return true;
        }
        int64_t at_s;
        if (!parse_http_date(value, &at_s))
                return false;
        int64_t delta = at_s * 1000 - now_ms;
        *out_ms = delta > 0 ? (uint64_t)delta : 0;
        return true;
}

enum attempt_result http_status_classify(int status)
{
        if (status >= 200 && status < 300)
                return ATTEMPT_DELIVERED;
        if (status == 0 || status == 408 || status == 429 || status >= 500)
                return ATTEMPT_RETRY;
        return ATTEMPT_FAILED;
}

const char *attempt_result_name(enum attempt_result r)
{
        switch (r) {
        case ATTEMPT_DELIVERED:
                return "delivered";
        case ATTEMPT_RETRY:
                return "retry";
        case ATTEMPT_FAILED:
                return "failed";
        }
        return "unknown";
}
