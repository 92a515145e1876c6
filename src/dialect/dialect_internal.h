/* dialect_internal.h — the compiled form of a mapping file, shared by the
 * compiler (dialect_compile*.c) and the interpreter (dialect_run.c).
 *
 * A compiled dialect is a tree of expressions with JSON Pointers already
 * split into tokens, value maps already built as jansson objects (hash
 * lookups) and enum-coded coercions and time formats. Running it never looks
 * at YAML or re-parses a pointer. Every node of the tree lives in the
 * dialect's arena and is freed with it; every json_t it refers to is also
 * held by d->consts (one decref at free). */
#ifndef TAKT_DIALECT_INTERNAL_H
#define TAKT_DIALECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "takt/canon.h"

/* ---- arena: bump allocator for the compiled tree (dialect_arena.c) ---- */
struct arena_chunk;
struct arena {
        struct arena_chunk *head; /* owned list of chunks */
};
/* Zeroed memory that lives until arena_free; NULL only on out-of-memory. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

/* ---- JSON Pointers (dialect_pointer.c) ---- */
enum ptr_base {
        PTR_SCOPE, /* "/a/b": the current scope (the message, or an array element) */
        PTR_MSG,   /* "^/a/b": the message (after unwrap), from inside an array */
        PTR_RAW,   /* "@/a/b": the body as received (before unwrap) */
};
struct ptr {
        enum ptr_base base;
        size_t n;            /* number of reference tokens */
        const char **tokens; /* unescaped (~0 ~1), arena-owned */
        const char *text;    /* the pointer as written after its base marker ("/a/b") */
};
/* Compile text ("/a/b", "^/a", "@/a", "" is the whole scope). False on a
 * malformed pointer. */
bool ptr_compile(struct arena *a, const char *text, struct ptr *out);
/* Resolve against doc; NULL when absent. Array tokens must be decimal. */
json_t *ptr_get(const struct ptr *p, const json_t *doc);

/* ---- values: coercions, time formats, scalars (dialect_value.c) ---- */
enum coerce { CO_NONE, CO_STRING, CO_NUMBER, CO_INTEGER, CO_BOOLEAN, CO_TIME };
enum timefmt {
        TF_RFC3339,    /* "2026-11-30T06:30:00Z" */
        TF_ODATA,      /* OData v2 Edm.DateTime "/Date(1700000000000)/" */
        TF_ODATA_DATE, /* output only: /Date(ms)/ of 00:00 UTC that day (date-only fields) */
        TF_YYYYMMDD,   /* "20261130" (optionally + a time-of-day field) */
        TF_HHMMSS,     /* output only: "063000" */
        TF_DATETIME14, /* "20261130063000" (SAP DEC15 timestamps) */
        TF_EPOCH_MS,   /* integer milliseconds */
};
bool coerce_parse(const char *name, enum coerce *out);
bool timefmt_parse(const char *name, enum timefmt *out);
const char *timefmt_name(enum timefmt f);

/* Writes the scalar's text (string as is, integer, real, true/false) to buf;
 * false for null, objects and arrays. */
bool scalar_text(const json_t *v, char *buf, size_t len);
/* Converts v (borrowed) to the wanted type; a new reference or NULL with a
 * reason in why (static text). */
json_t *coerce_value(const json_t *v, enum coerce to, const char **why);
/* Time of a source value in format f, plus an optional time of day
 * ("HHMMSS" or Edm.Time "PT12H30M00S", NULL for none). */
bool time_parse(const json_t *v, enum timefmt f, const json_t *time_of_day, int64_t *out_ms,
                const char **why);
json_t *time_format(int64_t ms, enum timefmt f);
/* A YAML plain scalar as JSON: null, true/false, integer, real, or string. */
json_t *yaml_plain_to_json(const char *text);

/* ---- the expression tree ---- */
enum expr_kind {
        EX_COPY,   /* value at a pointer */
        EX_CONST,  /* a constant */
        EX_OBJECT, /* {key: expr, ...} */
        EX_LIST,   /* [expr, ...] */
        EX_EACH,   /* an array mapped element by element */
        EX_CONCAT, /* string concatenation of parts */
        EX_INDEX,  /* index of the current array element */
};

struct expr;
struct field {
        const char *key;
        struct expr *value;
};

struct expr {
        enum expr_kind kind;
        int line;
        struct ptr src;       /* COPY, EACH */
        json_t *constant;     /* CONST (borrowed from consts) */
        struct field *fields; /* OBJECT */
        struct expr **items;  /* LIST, CONCAT parts */
        size_t n;             /* fields / items */
        struct expr *item;    /* EACH: per element */
        /* modifiers, applied in this order: default, map, as */
        json_t *dflt; /* used when the source is absent (borrowed) */
        json_t *map;  /* value map: object text -> value (borrowed) */
        const char *map_name;
        enum coerce as;
        enum timefmt tf_in, tf_out;
        bool has_time_of_day;
        struct ptr time_of_day; /* TIME: optional time-of-day field */
        bool required;          /* default true for COPY and EACH */
};

/* ---- inbound and outbound programs ---- */
struct cond {
        struct ptr at;
        const char **equals; /* any of these, compared with the scalar's text */
        size_t n_equals;
};

struct emit {
        enum canon_type type;
        bool has_foreach;
        struct ptr foreach;    /* one message per element of this array */
        struct expr *envelope; /* OBJECT: id, plant, work_order, occurred_at, data, ... */
        int line;
};

struct icase {
        const char *name; /* discriminator value, or "case N" */
        struct cond *conds;
        size_t n_conds;
        struct emit *emits;
        size_t n_emits;
        int line;
};

struct dialect {
        char *name; /* file name without .yaml (owned by the arena) */
        struct arena arena;
        json_t *consts; /* array holding every constant and value map */
        /* inbound */
        bool has_inbound;
        struct ptr *unwrap;
        size_t n_unwrap;
        bool has_discriminator;
        struct ptr discriminator;
        struct icase *cases;
        size_t n_cases;
        struct icase *fallback; /* "default" case, or NULL */
        struct expr *common;    /* envelope fields every case shares (message scope), or NULL */
        /* outbound, indexed by canonical type; NULL: not expressible */
        struct expr *outbound[CANON_TYPE_COUNT];
};

/* Compiles a parsed YAML document into d (dialect_compile.c); false with
 * "FILE:LINE: message" in err. */
struct yaml_document_s;
bool dialect_compile_doc(struct dialect *d, struct yaml_document_s *doc, const char *file,
                         char *err, size_t errlen);

#endif
