/* pg_array.h — PostgreSQL array literals ({"a","b",NULL}) for passing many
 * rows as one text parameter to "unnest($1::text[], ...)". The escaping
 * lives in two places: pg_array_add for text, json_text_append (pg_quoted)
 * for JSON written straight into the literal. */
#ifndef TAKT_PG_ARRAY_H
#define TAKT_PG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "takt/json_text.h"

struct pg_array {
        struct strbuf text; /* owned; always a complete literal "{...}" */
        size_t n;           /* elements */
};

void pg_array_init(struct pg_array *a);
void pg_array_clear(struct pg_array *a); /* frees, re-inits */
void pg_array_free(struct pg_array *a);

/* text NULL adds an SQL NULL element; anything else is quoted and escaped. */
void pg_array_add(struct pg_array *a, const char *text);
void pg_array_add_int(struct pg_array *a, int64_t v);
/* Compact JSON text of j (NULL adds an SQL NULL). */
void pg_array_add_json(struct pg_array *a, const json_t *j);

/* The literal, valid until the next add or clear. */
const char *pg_array_text(const struct pg_array *a);

#endif
