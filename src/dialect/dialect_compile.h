/* dialect_compile.h — the compiler's shared context and libyaml helpers
 * (dialect_yaml.c), used by the expression compiler (dialect_compile_expr.c)
 * and the program compiler (dialect_compile.c). */
#ifndef TAKT_DIALECT_COMPILE_H
#define TAKT_DIALECT_COMPILE_H

#include <yaml.h>

#include "dialect_internal.h"

struct cctx {
        struct dialect *d;
        yaml_document_t *doc;
        const char *file;
        char *err;
        size_t errlen;
        bool failed;
        json_t *maps;  /* value maps by name, built once (held by d->consts) */
        int depth;     /* expression nesting (aliases may recurse) */
        size_t budget; /* expression nodes left (aliases may multiply) */
};

int cc_line(const yaml_node_t *n);
/* Records "FILE:LINE: message" (the first error only); returns false/NULL-friendly false. */
bool cc_error(struct cctx *c, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
yaml_node_t *cc_node(const struct cctx *c, int index);
/* The text of a scalar node, NULL (and an error naming what) otherwise. */
const char *cc_scalar(struct cctx *c, const yaml_node_t *n, const char *what);
bool cc_is_plain(const yaml_node_t *n);
/* Any node as JSON (plain scalars typed as YAML would); new reference held
 * by d->consts (borrowed by the caller), NULL with an error. */
json_t *cc_json(struct cctx *c, const yaml_node_t *n);
/* A JSON Pointer scalar, compiled. */
bool cc_ptr(struct cctx *c, const yaml_node_t *n, struct ptr *out);
/* Checks that every key of mapping n is in allowed (NULL-terminated). */
bool cc_keys(struct cctx *c, const yaml_node_t *n, const char *const *allowed, const char *what);
/* Value of key in mapping n, or NULL. */
yaml_node_t *cc_get(const struct cctx *c, const yaml_node_t *n, const char *key);

struct expr *cc_expr(struct cctx *c, const yaml_node_t *n);

#endif
