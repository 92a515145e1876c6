/* trace_rows.c — steps grouped into trace rows (see trace_rows.h). The
 * steps are written as JSON text at once; a jansson object indexes the
 * rows by correlation id. */
#include "trace_rows.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "takt/decimal.h"
#include "takt/strbuf.h"

struct trace_row {
        char *correlation_id; /* owned, may be NULL */
        int64_t at_ms;        /* the first step's */
        struct strbuf steps;  /* owned: "[{...},{...}" (closed when written out) */
};

struct trace_rows {
        struct trace_row *rows; /* owned array */
        size_t n, cap;
        json_t *index; /* owned: correlation id -> index in rows */
};

struct trace_rows *trace_rows_new(void)
{
        struct trace_rows *t = calloc(1, sizeof(*t));
        if (!t || !(t->index = json_object()))
                abort(); /* out of memory */
        return t;
}

void trace_rows_free(struct trace_rows *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                free(t->rows[i].correlation_id);
                free(t->rows[i].steps.data);
        }
        free(t->rows);
        json_decref(t->index);
        free(t);
}

static struct trace_row *row_for(struct trace_rows *t, const char *correlation_id, int64_t at_ms)
{
        const json_t *at = correlation_id ? json_object_get(t->index, correlation_id) : NULL;
        if (at)
                return &t->rows[json_integer_value(at)];
        if (t->n == t->cap) {
                t->cap = t->cap ? 2 * t->cap : 8;
                t->rows = realloc(t->rows, t->cap * sizeof(*t->rows));
                if (!t->rows)
                        abort(); /* out of memory */
        }
        if (correlation_id)
                json_object_set_new(t->index, correlation_id, json_integer((json_int_t)t->n));
        struct trace_row *row = &t->rows[t->n++];
        *row = (struct trace_row){correlation_id ? strdup(correlation_id) : NULL, at_ms, {0}};
        if (correlation_id && !row->correlation_id)
                abort(); /* out of memory */
        return row;
}

void trace_rows_add(struct trace_rows *t, const char *correlation_id, const char *step,
                    int64_t at_ms, const char *detail)
{
        struct trace_row *row = row_for(t, correlation_id, at_ms);
        char at[DECIMAL_INT64_SIZE];
        size_t n = decimal_int64(at, at_ms);
        strbuf_add(&row->steps, row->steps.len ? ",{\"step\":\"" : "[{\"step\":\"", 10);
        strbuf_add(&row->steps, step, strlen(step));
        strbuf_add(&row->steps, "\",\"at_ms\":", 10);
        strbuf_add(&row->steps, at, n);
        strbuf_add(&row->steps, ",\"detail\":", 10);
        if (!detail)
                detail = "null";
        strbuf_add(&row->steps, detail, strlen(detail));
        strbuf_add(&row->steps, "}", 1);
}

size_t trace_rows_to_arrays(struct trace_rows *t, struct pg_array cols[3])
{
        for (size_t i = 0; i < t->n; i++) {
                struct trace_row *row = &t->rows[i];
                strbuf_add(&row->steps, "]", 1);
                pg_array_add(&cols[0], row->correlation_id);
                pg_array_add_int(&cols[1], row->at_ms);
                pg_array_add(&cols[2], row->steps.data);
                row->steps.data[--row->steps.len] = '\0'; /* open again: more may come */
        }
        return t->n;
}
