/* trace_rows.h — one transaction's trace steps as trace rows
 * (003_trace_steps.sql, 006): one row per correlation id, its steps as
 * JSON text [{"step", "at_ms", "detail"}, ...] in the order added, the
 * row's time its first step's. The ingest batches and the delivery
 * outcomes both write them. */
#ifndef TAKT_TRACE_ROWS_H
#define TAKT_TRACE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "pg_array.h"

struct trace_rows;

struct trace_rows *trace_rows_new(void);
void trace_rows_free(struct trace_rows *t); /* NULL is fine */

/* step: a name that needs no JSON escaping; detail: JSON text (NULL writes
 * null). A NULL correlation id makes a row of its own. Strings are copied. */
void trace_rows_add(struct trace_rows *t, const char *correlation_id, const char *step,
                    int64_t at_ms, const char *detail);
/* Append the rows to cols[0..2] (correlation id, first at_ms, steps) for
 * "INSERT INTO trace ... FROM unnest($1::text[], $2::bigint[],
 * $3::json[])"; returns how many. */
size_t trace_rows_to_arrays(struct trace_rows *t, struct pg_array cols[3]);

#endif
