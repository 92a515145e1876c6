/* dialect_value.c — what a mapping does to one value: render a scalar as
 * text, coerce between strings, numbers and booleans, parse and format the
 * date/time formats (RFC 3339, OData v2 /Date(ms)/, YYYYMMDD with an
 * optional HHMMSS or Edm.Time time of day, 14-digit SAP timestamps) and read
 * a YAML plain scalar as a JSON value. Calendar arithmetic is canon's
 * (canon_parse_time/canon_format_time); nothing here allocates but jansson. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect_internal.h"

struct name_code {
        const char *name;
        int code;
};

static bool lookup(const struct name_code *t, size_t n, const char *name, int *out)
{
        for (size_t i = 0; i < n; i++) {
                if (strcmp(t[i].name, name) == 0) {
                        *out = t[i].code;
                        return true;
                }
        }
        return false;
}

static const struct name_code coerce_names[] = {
    {"string", CO_STRING},   {"number", CO_NUMBER}, {"integer", CO_INTEGER},
    {"boolean", CO_BOOLEAN}, {"time", CO_TIME},
};

static const struct name_code timefmt_names[] = {
    {"rfc3339", TF_RFC3339},   {"odata", TF_ODATA},   {"odata_date", TF_ODATA_DATE},
    {"yyyymmdd", TF_YYYYMMDD}, {"hhmmss", TF_HHMMSS}, {"yyyymmddhhmmss", TF_DATETIME14},
    {"epoch_ms", TF_EPOCH_MS},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

bool coerce_parse(const char *name, enum coerce *out)
{
        int code;
        if (!lookup(coerce_names, COUNT(coerce_names), name, &code))
                return false;
        *out = (enum coerce)code;
        return true;
}

bool timefmt_parse(const char *name, enum timefmt *out)
{
        int code;
        if (!lookup(timefmt_names, COUNT(timefmt_names), name, &code))
                return false;
        *out = (enum timefmt)code;
        return true;
}

const char *timefmt_name(enum timefmt f)
{
        for (size_t i = 0; i < COUNT(timefmt_names); i++)
                if (timefmt_names[i].code == (int)f)
                        return timefmt_names[i].name;
        return "?";
}

/* Shortest "%.*g" text that reads back as the same double. */
static void real_text(double v, char *buf, size_t len)
{
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, len, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

bool scalar_text(const json_t *v, char *buf, size_t len)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                snprintf(buf, len, "%s", json_string_value(v));
                return true;
        case JSON_INTEGER:
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return true;
        case JSON_REAL:
                real_text(json_real_value(v), buf, len);
                return true;
        case JSON_TRUE:
        case JSON_FALSE:
                snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
                return true;
        default:
                return false;
        }
}

/* A decimal number written as text (no hex, inf or nan); integers stay exact. */
static json_t *number_from_text(const char *s, bool want_integer, const char **why)
{
        while (*s == ' ')
                s++;
        *why = want_integer ? "not an integer" : "not a number";
        if (*s == '\0' || strpbrk(s, "xXnNiI") != NULL)
                return NULL;
        char *end;
        errno = 0;
        if (strpbrk(s, ".eE") == NULL) {
                long long ll = strtoll(s, &end, 10);
                while (*end == ' ')
                        end++;
                if (*end == '\0' && errno == 0)
                        return json_integer(ll);
        }
        errno = 0;
        double d = strtod(s, &end);
        while (*end == ' ')
                end++;
        if (*end != '\0' || errno != 0 || !isfinite(d))
                return NULL;
        if (!want_integer)
                return json_real(d);
        if (d != floor(d) || fabs(d) > 9007199254740992.0)
                return NULL;
        return json_integer((json_int_t)d);
}

static json_t *to_boolean(const json_t *v, const char **why)
{
        *why = "not a boolean";
        if (json_is_boolean(v))
                return json_incref((json_t *)v);
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
                return json_boolean(json_integer_value(v) == 1);
        if (!json_is_string(v))
                return NULL;
        static const char *const yes[] = {"true", "X", "x", "Y", "y", "1", "yes"};
        static const char *const no[] = {"false", "", "N", "n", "0", "no"};
        const char *s = json_string_value(v);
        for (size_t i = 0; i < COUNT(yes); i++)
                if (strcmp(s, yes[i]) == 0)
                        return json_true();
        for (size_t i = 0; i < COUNT(no); i++)
                if (strcmp(s, no[i]) == 0)
                        return json_false();
        return NULL;
}

json_t *coerce_value(const json_t *v, enum coerce to, const char **why)
{
        char buf[64];
        switch (to) {
        case CO_NONE:
        case CO_TIME:
                return json_incref((json_t *)v);
        case CO_STRING:
                *why = "not a scalar";
                if (json_is_string(v))
                        return json_incref((json_t *)v);
                return scalar_text(v, buf, sizeof(buf)) ? json_string(buf) : NULL;
        case CO_NUMBER:
        case CO_INTEGER:
                if (json_is_integer(v))
                        return json_incref((json_t *)v);
                if (json_is_real(v) && to == CO_NUMBER)
                        return json_incref((json_t *)v);
                if (json_is_real(v) && scalar_text(v, buf, sizeof(buf)))
                        return number_from_text(buf, true, why);
                *why = to == CO_INTEGER ? "not an integer" : "not a number";
                return json_is_string(v)
                           ? number_from_text(json_string_value(v), to == CO_INTEGER, why)
                           : NULL;
        case CO_BOOLEAN:
                return to_boolean(v, why);
        }
        return NULL;
}

/* Exactly n digits from s into *out. */
static bool digits(const char *s, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
}

/* "HHMMSS" or Edm.Time "PT12H30M00S" -> milliseconds into the day. */
static bool time_of_day_ms(const char *s, int64_t *out)
{
        int h, m, sec;
        if (strlen(s) == 6 && digits(s, 2, &h) && digits(s + 2, 2, &m) && digits(s + 4, 2, &sec))
                goto ok;
        if (strlen(s) == 11 && s[0] == 'P' && s[1] == 'T' && digits(s + 2, 2, &h) && s[4] == 'H' &&
            digits(s + 5, 2, &m) && s[7] == 'M' && digits(s + 8, 2, &sec) && s[10] == 'S')
                goto ok;
        return false;
ok:
        if (h > 23 || m > 59 || sec > 59)
                return false;
        *out = ((int64_t)h * 3600 + m * 60 + sec) * 1000;
        return true;
}

/* "YYYYMMDD[HHMMSS]" -> ms via canon's RFC 3339 parser (it checks the calendar). */
static bool compact_ms(const char *s, size_t n, int64_t *out)
{
        char rfc[32];
        int y, mo, d, h = 0, mi = 0, sec = 0;
        if (strlen(s) != n || !digits(s, 4, &y) || !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d))
                return false;
        if (n == 14 &&
            (!digits(s + 8, 2, &h) || !digits(s + 10, 2, &mi) || !digits(s + 12, 2, &sec)))
                return false;
        snprintf(rfc, sizeof(rfc), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
        return canon_parse_time(rfc, out);
}

/* "/Date(1700000000000)/" or "/Date(1700000000000+0060)/" (the offset is
 * informational: the number is already UTC). */
static bool odata_ms(const char *s, int64_t *out)
{
        if (strncmp(s, "/Date(", 6) != 0)
                return false;
        const char *p = s + 6;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno != 0)
                return false;
        if (*end == '+' || *end == '-') {
                int off;
                if (!digits(end + 1, 4, &off))
                        return false;
                end += 5;
        }
        if (strcmp(end, ")/") != 0)
                return false;
        *out = v;
        return true;
}

bool time_parse(const json_t *v, enum timefmt f, const json_t *time_of_day, int64_t *out_ms,
                const char **why)
{
        char buf[64];
        bool ok = false;
        bool text = !json_is_boolean(v) && scalar_text(v, buf, sizeof(buf));
        switch (f) {
        case TF_EPOCH_MS:
                *why = "not a valid date/time (integer milliseconds)";
                ok = json_is_integer(v);
                *out_ms = ok ? json_integer_value(v) : 0;
                break;
        case TF_RFC3339:
                *why = "not an RFC 3339 timestamp";
                ok = text && canon_parse_time(buf, out_ms);
                break;
        case TF_ODATA:
                *why = "not an OData /Date(ms)/ value";
                ok = text && odata_ms(buf, out_ms);
                break;
        case TF_YYYYMMDD:
                *why = "not a YYYYMMDD date";
                ok = text && compact_ms(buf, 8, out_ms);
                break;
        case TF_DATETIME14:
                *why = "not a YYYYMMDDHHMMSS timestamp";
                ok = text && compact_ms(buf, 14, out_ms);
                break;
        default:
                *why = "not a valid date/time";
                break;
        }
        if (!ok || time_of_day == NULL)
                return ok;
        int64_t tod;
        if (!json_is_string(time_of_day) || !time_of_day_ms(json_string_value(time_of_day), &tod)) {
                *why = "time of day is not HHMMSS or PTxxHxxMxxS";
                return false;
        }
        *out_ms += tod;
        return true;
}

json_t *time_format(int64_t ms, enum timefmt f)
{
        char rfc[40], out[40];
        canon_format_time(ms, rfc, sizeof(rfc)); /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
        switch (f) {
        case TF_ODATA:
                snprintf(out, sizeof(out), "/Date(%" PRId64 ")/", ms);
                return json_string(out);
        case TF_ODATA_DATE:
                ms -= ((ms % 86400000) + 86400000) % 86400000;
                snprintf(out, sizeof(out), "/Date(%" PRId64 ")/", ms);
                return json_string(out);
        case TF_EPOCH_MS:
                return json_integer(ms);
        case TF_YYYYMMDD:
                snprintf(out, sizeof(out), "%.4s%.2s%.2s", rfc, rfc + 5, rfc + 8);
                return json_string(out);
        case TF_HHMMSS:
                snprintf(out, sizeof(out), "%.2s%.2s%.2s", rfc + 11, rfc + 14, rfc + 17);
                return json_string(out);
        case TF_DATETIME14:
                snprintf(out, sizeof(out), "%.4s%.2s%.2s%.2s%.2s%.2s", rfc, rfc + 5, rfc + 8,
                         rfc + 11, rfc + 14, rfc + 17);
                return json_string(out);
        case TF_RFC3339:
        default:
                return json_string(rfc);
        }
}

json_t *yaml_plain_to_json(const char *text)
{
        if (strcmp(text, "~") == 0 || strcmp(text, "null") == 0 || text[0] == '\0')
                return json_null();
        if (strcmp(text, "true") == 0)
                return json_true();
        if (strcmp(text, "false") == 0)
                return json_false();
        const char *why;
        const char *digits_at = text[0] == '-' ? text + 1 : text;
        if (digits_at[0] == '0' && digits_at[1] >= '0' && digits_at[1] <= '9')
                return json_string(text); /* "0010" is an operation number, not 10 */
        json_t *n = number_from_text(text, false, &why);
        if (n != NULL && strchr(text, ' ') == NULL) {
                if (strpbrk(text, ".eE") == NULL) {
                        json_decref(n);
                        return number_from_text(text, true, &why);
                }
                return n;
        }
        json_decref(n);
        return json_string(text);
}
