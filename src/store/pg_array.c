/* pg_array.c — building PostgreSQL array literals, escaping each element. */
#include "pg_array.h"

#include <stdlib.h>
#include <string.h>

#include "takt/decimal.h"

void pg_array_init(struct pg_array *a)
{
        a->text = (struct strbuf){0};
        a->n = 0;
        strbuf_reserve(&a->text, 2);
        memcpy(a->text.data, "{}", 3);
        a->text.len = 2;
}

void pg_array_free(struct pg_array *a)
{
        free(a->text.data);
        a->text = (struct strbuf){0};
}

void pg_array_clear(struct pg_array *a)
{
        pg_array_free(a);
        pg_array_init(a);
}

/* Open the next element with room for `room` bytes: drop the closing
 * brace, add a comma after the previous element. close_element puts the
 * brace back. */
static void open_element(struct pg_array *a, size_t room)
{
        strbuf_reserve(&a->text, room + 2);
        a->text.len--;
        if (a->n > 0)
                a->text.data[a->text.len++] = ',';
}

static void close_element(struct pg_array *a)
{
        strbuf_reserve(&a->text, 1);
        a->text.data[a->text.len++] = '}';
        a->text.data[a->text.len] = '\0';
        a->n++;
}

void pg_array_add(struct pg_array *a, const char *text)
{
        open_element(a, text ? 2 * strlen(text) + 2 : 4);
        char *out = a->text.data;
        size_t len = a->text.len;
        if (!text) {
                memcpy(out + len, "NULL", 4);
                len += 4;
        } else {
                out[len++] = '"';
                /* copy runs that need no escape whole */
                for (const char *p = text;;) {
                        size_t run = strcspn(p, "\"\\");
                        memcpy(out + len, p, run);
                        len += run;
                        p += run;
                        if (*p == '\0')
                                break;
                        out[len++] = '\\';
                        out[len++] = *p++;
                }
                out[len++] = '"';
        }
        a->text.len = len;
        close_element(a);
}

void pg_array_add_int(struct pg_array *a, int64_t v)
{
        char num[DECIMAL_INT64_SIZE];
        size_t n = decimal_int64(num, v);
        open_element(a, n);
        memcpy(a->text.data + a->text.len, num, n); /* digits need no quotes */
        a->text.len += n;
        close_element(a);
}

/* The JSON text is written straight into the literal, already escaped for
 * it (takt/json_text.h): no intermediate string, no second pass. */
void pg_array_add_json(struct pg_array *a, const json_t *j)
{
        if (!j) {
                pg_array_add(a, NULL);
                return;
        }
        open_element(a, 1);
        a->text.data[a->text.len++] = '"';
        if (json_text_append(&a->text, j, true) != 0)
                abort(); /* a cycle: a bug, not input */
        strbuf_reserve(&a->text, 1);
        a->text.data[a->text.len++] = '"';
        close_element(a);
}

const char *pg_array_text(const struct pg_array *a)
{
        return a->text.data;
}
