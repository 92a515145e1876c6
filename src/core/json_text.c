/* json_text.c — compact JSON text from jansson values (see
 * takt/json_text.h). One recursive writer over a growing buffer; the only
 * choice per byte is "plain or escaped", and plain runs are copied whole. */
#include "takt/json_text.h"

#include "takt/decimal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 10000 /* input parses to depth 2048 at most; deeper is a cycle */

struct writer {
        struct strbuf *b;
        bool pg_quoted;
};

static void put(struct writer *w, const char *s, size_t n)
{
        strbuf_reserve(w->b, n);
        memcpy(w->b->data + w->b->len, s, n);
        w->b->len += n;
}

static void put_char(struct writer *w, char c)
{
        strbuf_reserve(w->b, 2);
        if (w->pg_quoted && (c == '"' || c == '\\'))
                w->b->data[w->b->len++] = '\\';
        w->b->data[w->b->len++] = c;
}

/* Bytes that need no escaping in a JSON string (and contain neither '"'
 * nor '\\', so none in an array element either). */
static bool plain(unsigned char c)
{
        return c >= 0x20 && c != '"' && c != '\\';
}

/* The letter after the backslash of a two-character escape, or 0 for the
 * \u00XX form. */
static char short_escape(unsigned char c)
{
        switch (c) {
        case '"':
        case '\\':
                return (char)c;
        case '\b':
                return 'b';
        case '\f':
                return 'f';
        case '\n':
                return 'n';
        case '\r':
                return 'r';
        case '\t':
                return 't';
        default:
                return 0;
        }
}

static void put_string(struct writer *w, const char *s, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        put_char(w, '"');
        size_t run = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (plain(c))
                        continue;
                put(w, s + run, i - run);
                run = i + 1;
                put_char(w, '\\');
                char e = short_escape(c);
                if (e) {
                        put_char(w, e);
                } else {
                        char u[5] = {'u', '0', '0', hex[c >> 4], hex[c & 15]};
                        put(w, u, sizeof(u));
                }
        }
        put(w, s + run, n - run);
        put_char(w, '"');
}

static void put_integer(struct writer *w, json_int_t v)
{
        char num[DECIMAL_INT64_SIZE];
        size_t n = decimal_int64(num, v);
        put(w, num, n);
}

/* As jansson: "%.17g"; ".0" when that reads as an integer; the exponent
 * without '+' and leading zeros. A whole number below 1e17 (quantities,
 * mostly) prints as "%.17g" does, in plain digits, so it skips printf. */
static void put_real(struct writer *w, double v)
{
        if (v > -1e17 && v < 1e17 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
                char num[DECIMAL_INT64_SIZE + 2];
                size_t n = decimal_int64(num, (int64_t)v);
                memcpy(num + n, ".0", 2);
                put(w, num, n + 2);
                return;
        }
        char num[40];
        int n = snprintf(num, sizeof(num) - 3, "%.17g", v);
        if (n < 0 || (size_t)n >= sizeof(num) - 3) {
                put(w, "0.0", 3); /* cannot happen for a finite double */
                return;
        }
        char *comma = strchr(num, ','); /* a decimal comma from the locale */
        if (comma)
                *comma = '.';
        if (!strchr(num, '.') && !strchr(num, 'e')) {
                memcpy(num + n, ".0", 3);
                n += 2;
        }
        char *start = strchr(num, 'e');
        if (start) {
                start++;
                char *end = start + 1;
                if (*start == '-')
                        start++;
                while (*end == '0')
                        end++;
                if (end != start) {
                        memmove(start, end, (size_t)(num + n - end) + 1);
                        n -= (int)(end - start);
                }
        }
        put(w, num, (size_t)n);
}

static int put_value(struct writer *w, const json_t *j, int depth)
{
        if (!j || depth > MAX_DEPTH)
                return -1;
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                put_char(w, '{');
                const char *key;
                const json_t *value;
                bool first = true;
                json_object_foreach((json_t *)j, key, value)
                {
                        if (!first)
                                put_char(w, ',');
                        first = false;
                        put_string(w, key, strlen(key));
                        put_char(w, ':');
                        if (put_value(w, value, depth + 1) != 0)
                                return -1;
                }
                put_char(w, '}');
                return 0;
        }
        case JSON_ARRAY: {
                put_char(w, '[');
                size_t n = json_array_size(j);
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                put_char(w, ',');
                        if (put_value(w, json_array_get(j, i), depth + 1) != 0)
                                return -1;
                }
                put_char(w, ']');
                return 0;
        }
        case JSON_STRING:
                put_string(w, json_string_value(j), json_string_length(j));
                return 0;
        case JSON_INTEGER:
                put_integer(w, json_integer_value(j));
                return 0;
        case JSON_REAL:
                put_real(w, json_real_value(j));
                return 0;
        case JSON_TRUE:
                put(w, "true", 4);
                return 0;
        case JSON_FALSE:
                put(w, "false", 5);
                return 0;
        case JSON_NULL:
                put(w, "null", 4);
                return 0;
        }
        return -1;
}

int json_text_append(struct strbuf *b, const json_t *j, bool pg_quoted)
{
        struct writer w = {b, pg_quoted};
        size_t old = b->len;
        strbuf_reserve(b, 0);
        int rc = put_value(&w, j, 0);
        if (rc != 0)
                b->len = old;
        b->data[b->len] = '\0';
        return rc;
}

char *json_text(const json_t *j)
{
        struct strbuf b = {0};
        if (json_text_append(&b, j, false) != 0) {
                free(b.data);
                return NULL;
        }
        return b.data;
}
