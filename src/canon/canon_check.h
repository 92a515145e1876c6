/* canon_check.h — internal to canon: a declarative description of JSON object
 * shapes (field name, kind, required) and the one generic checker that walks
 * a shape and records every violation with its JSON Pointer. The envelope and
 * every type's data are described with it (canon_validate.c, canon_data.c). */
#ifndef TAKT_CANON_CHECK_H
#define TAKT_CANON_CHECK_H

#include "takt/canon.h"

enum canon_kind {
        CK_ID,     /* non-empty string */
        CK_ID128,  /* string of 1 to 128 characters */
        CK_TEXT,   /* any string, may be empty (free text) */
        CK_TYPE,   /* a canonical type name that may come from outside */
        CK_SCHEMA, /* integer equal to CANON_SCHEMA_VERSION */
        CK_TIME,   /* RFC 3339 timestamp with a time zone */
        CK_COUNT,  /* integer >= 0 */
        CK_NUMBER, /* number (integer or real) >= 0 */
        CK_BOOL,   /* true or false */
        CK_OBJECT, /* object; checked against `shape` when set */
        CK_ARRAY,  /* array of objects of `shape`, at least `min_items` */
};

struct canon_ctx {
        const char *prefix;        /* prepended to every path */
        struct canon_errors *errs; /* not owned */
};

struct canon_shape;

struct canon_field {
        const char *name;
        enum canon_kind kind;
        bool required;                   /* absent and null are both "absent" */
        const struct canon_shape *shape; /* CK_OBJECT, CK_ARRAY items */
        unsigned min_items;              /* CK_ARRAY */
        const char *unique;              /* CK_ARRAY: item key whose values must differ */
};

struct canon_shape {
        const struct canon_field *fields;
        size_t n_fields;
        /* Cross-field rules, run after the fields (may be NULL). path is the
         * object's JSON Pointer. */
        void (*rules)(const struct canon_ctx *ctx, const json_t *obj, const char *path);
};

/* Checks obj (must be an object) at path against shape: every field, then
 * every key the shape does not name ("unknown field"), then shape->rules. */
void canon_check_object(const struct canon_ctx *ctx, const json_t *obj, const char *path,
                        const struct canon_shape *shape);

/* The JSON Pointer of path + "/" + key (escaped) in buf. */
const char *canon_child_path(char *buf, size_t len, const char *path, const char *key);

/* The JSON Pointer of path + "/" + index in buf. */
const char *canon_index_path(char *buf, size_t len, const char *path, size_t index);

/* The shape of each type's data (canon_data.c); NULL for the types only takt
 * emits. */
const struct canon_shape *canon_data_shape(enum canon_type t);

#endif
