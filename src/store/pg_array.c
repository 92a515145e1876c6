/* pg_array.c — building PostgreSQL array literals, escaping each element. */
#include "pg_array.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct pg_array *a, size_t more)
{
        if (a->len + more + 1 <= a->cap)
                return;
        size_t cap = a->cap ? a->cap : 64;
        while (cap < a->len + more + 1)
                cap *= 2;
        char *grown = realloc(a->buf, cap);
        if (!grown)
                abort(); /* out of memory */
        a->buf = grown;
        a->cap = cap;
}

void pg_array_init(struct pg_array *a)
{
        a->buf = NULL;
        a->len = a->cap = a->n = 0;
        reserve(a, 2);
        memcpy(a->buf, "{}", 3);
        a->len = 2;
}

void pg_array_clear(struct pg_array *a)
{
        free(a->buf);
        pg_array_init(a);
}

void pg_array_add(struct pg_array *a, const char *text)
{
        size_t need = text ? 2 * strlen(text) + 3 : 4;
        reserve(a, need + 2);
        a->len--; /* drop the closing brace, put it back at the end */
        if (a->n > 0)
                a->buf[a->len++] = ',';
        if (!text) {
                memcpy(a->buf + a->len, "NULL", 4);
                a->len += 4;
        } else {
                a->buf[a->len++] = '"';
                for (const char *p = text; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                a->buf[a->len++] = '\\';
                        a->buf[a->len++] = *p;
                }
                a->buf[a->len++] = '"';
        }
        a->buf[a->len++] = '}';
        a->buf[a->len] = '\0';
        a->n++;
}

void pg_array_add_int(struct pg_array *a, int64_t v)
{
        char num[24];
        snprintf(num, sizeof(num), "%" PRId64, v);
        pg_array_add(a, num);
}

void pg_array_add_json(struct pg_array *a, const json_t *j)
{
        if (!j) {
                pg_array_add(a, NULL);
                return;
        }
        char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
                abort(); /* out of memory */
        pg_array_add(a, text);
        free(text);
}

const char *pg_array_text(const struct pg_array *a)
{
        return a->buf;
}
