/* dialect_compile_expr.c — compiles one field specification of a mapping
 * file into an expression node:
 *
 *   "/a/b"                      copy (required)
 *   [spec, ...]                 a JSON array of specs
 *   {key: spec, ...}            an object (no operation key in it)
 *   {from|const|object|list|each+item|concat|index: ..., modifiers}
 *
 * Modifiers: default, required, map (a value map's name), as (string,
 * number, integer, boolean, time), format/to_format/time_from (with as: time).
 * Everything the interpreter needs is resolved here: pointers split, value
 * maps looked up, format names turned into enums. */
#include <string.h>

#include "dialect_compile.h"

#define MAX_DEPTH 48

static const char *const op_keys[] = {"from", "const",  "object", "list",
                                      "each", "concat", "index",  NULL};
static const char *const spec_keys[] = {
    "from",    "const",    "object", "list", "each",   "item",      "concat",    "index",
    "default", "required", "map",    "as",   "format", "to_format", "time_from", NULL};

static struct expr *new_expr(struct cctx *c, const yaml_node_t *n, enum expr_kind kind)
{
        if (c->budget == 0) {
                cc_error(c, n, "mapping too large (aliases?)");
                return NULL;
        }
        c->budget--;
        struct expr *e = arena_alloc(&c->d->arena, sizeof(*e));
        if (e == NULL) {
                cc_error(c, n, "out of memory");
                return NULL;
        }
        e->kind = kind;
        e->line = cc_line(n);
        e->required = true;
        return e;
}

/* Which operation key a spec mapping has (exactly one), or NULL: an object. */
static const char *op_of(struct cctx *c, const yaml_node_t *n, bool *err)
{
        const char *found = NULL;
        *err = false;
        for (const char *const *k = op_keys; *k; k++) {
                if (cc_get(c, n, *k) == NULL)
                        continue;
                if (found != NULL) {
                        *err = true;
                        cc_error(c, n, "a field has both '%s' and '%s'", found, *k);
                        return NULL;
                }
                found = *k;
        }
        return found;
}

static bool compile_object(struct cctx *c, const yaml_node_t *n, struct expr *e)
{
        if (n->type != YAML_MAPPING_NODE)
                return cc_error(c, n, "object must be a mapping");
        e->n = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
        e->fields = arena_alloc(&c->d->arena, (e->n ? e->n : 1) * sizeof(*e->fields));
        if (e->fields == NULL)
                return cc_error(c, n, "out of memory");
        size_t i = 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++, i++) {
                const yaml_node_t *kn = cc_node(c, p->key);
                const char *k = cc_scalar(c, kn, "a key");
                if (k == NULL)
                        return false;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(e->fields[j].key, k) == 0)
                                return cc_error(c, kn, "duplicate key '%s'", k);
                e->fields[i].key = arena_strdup(&c->d->arena, k);
                e->fields[i].value = cc_expr(c, cc_node(c, p->value));
                if (e->fields[i].key == NULL || e->fields[i].value == NULL)
                        return false;
        }
        return true;
}

static bool compile_items(struct cctx *c, const yaml_node_t *n, struct expr *e, const char *what)
{
        if (n->type != YAML_SEQUENCE_NODE)
                return cc_error(c, n, "%s must be a sequence", what);
        e->n = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        e->items = arena_alloc(&c->d->arena, (e->n ? e->n : 1) * sizeof(*e->items));
        if (e->items == NULL)
                return cc_error(c, n, "out of memory");
        for (size_t i = 0; i < e->n; i++) {
                e->items[i] = cc_expr(c, cc_node(c, n->data.sequence.items.start[i]));
                if (e->items[i] == NULL)
                        return false;
        }
        return true;
}

static bool compile_map_ref(struct cctx *c, const yaml_node_t *n, struct expr *e)
{
        const char *name = cc_scalar(c, n, "map");
        if (name == NULL)
                return false;
        e->map = json_object_get(c->maps, name);
        if (e->map == NULL)
                return cc_error(c, n, "unknown value map '%s'", name);
        e->map_name = arena_strdup(&c->d->arena, name);
        return e->map_name != NULL || cc_error(c, n, "out of memory");
}

static bool compile_time(struct cctx *c, const yaml_node_t *n, struct expr *e)
{
        const yaml_node_t *f = cc_get(c, n, "format"), *t = cc_get(c, n, "to_format"),
                          *tod = cc_get(c, n, "time_from");
        if (e->as != CO_TIME && (f || t || tod))
                return cc_error(c,
                                f   ? f
                                : t ? t
                                    : tod,
                                "format, to_format and time_from need 'as: time'");
        e->tf_in = e->tf_out = TF_RFC3339;
        const char *s;
        if (f && (!(s = cc_scalar(c, f, "format")) || !timefmt_parse(s, &e->tf_in) ||
                  e->tf_in == TF_HHMMSS || e->tf_in == TF_ODATA_DATE))
                return cc_error(c, f, "unknown input time format '%s'", s ? s : "");
        if (t && (!(s = cc_scalar(c, t, "to_format")) || !timefmt_parse(s, &e->tf_out)))
                return cc_error(c, t, "unknown time format '%s'", s ? s : "");
        if (tod) {
                if (e->tf_in != TF_YYYYMMDD && e->tf_in != TF_ODATA)
                        return cc_error(c, tod, "time_from needs format yyyymmdd or odata");
                e->has_time_of_day = true;
                return cc_ptr(c, tod, &e->time_of_day);
        }
        return true;
}

static bool compile_modifiers(struct cctx *c, const yaml_node_t *n, struct expr *e)
{
        const yaml_node_t *v;
        const char *s;
        if ((v = cc_get(c, n, "default")) != NULL && (e->dflt = cc_json(c, v)) == NULL)
                return false;
        if ((v = cc_get(c, n, "required")) != NULL) {
                s = cc_scalar(c, v, "required");
                if (s == NULL || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
                        return cc_error(c, v, "required must be true or false");
                e->required = strcmp(s, "true") == 0;
        }
        if ((v = cc_get(c, n, "map")) != NULL && !compile_map_ref(c, v, e))
                return false;
        if ((v = cc_get(c, n, "as")) != NULL &&
            (!(s = cc_scalar(c, v, "as")) || !coerce_parse(s, &e->as)))
                return cc_error(c, v, "as must be string, number, integer, boolean or time");
        return compile_time(c, n, e);
}

static struct expr *compile_spec(struct cctx *c, const yaml_node_t *n, const char *op)
{
        static const struct {
                const char *op;
                enum expr_kind kind;
        } kinds[] = {{"from", EX_COPY},  {"const", EX_CONST}, {"object", EX_OBJECT},
                     {"list", EX_LIST},  {"each", EX_EACH},   {"concat", EX_CONCAT},
                     {"index", EX_INDEX}};
        if (!cc_keys(c, n, spec_keys, "a field"))
                return NULL;
        enum expr_kind kind = EX_COPY;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strcmp(kinds[i].op, op) == 0)
                        kind = kinds[i].kind;
        struct expr *e = new_expr(c, n, kind);
        const yaml_node_t *arg = cc_get(c, n, op), *item = cc_get(c, n, "item");
        if (e == NULL)
                return NULL;
        if ((item != NULL) != (kind == EX_EACH)) {
                cc_error(c, n, kind == EX_EACH ? "each needs item" : "item needs each");
                return NULL;
        }
        bool ok = true;
        switch (kind) {
        case EX_COPY:
                ok = cc_ptr(c, arg, &e->src);
                break;
        case EX_CONST:
                ok = (e->constant = cc_json(c, arg)) != NULL;
                break;
        case EX_OBJECT:
                ok = compile_object(c, arg, e);
                break;
        case EX_LIST:
                ok = compile_items(c, arg, e, "list");
                break;
        case EX_CONCAT:
                ok = compile_items(c, arg, e, "concat");
                break;
        case EX_EACH:
                ok = cc_ptr(c, arg, &e->src) && (e->item = cc_expr(c, item)) != NULL;
                break;
        case EX_INDEX:
                break;
        }
        return ok && compile_modifiers(c, n, e) ? e : NULL;
}

struct expr *cc_expr(struct cctx *c, const yaml_node_t *n)
{
        if (n == NULL) {
                cc_error(c, n, "missing field specification");
                return NULL;
        }
        if (c->failed)
                return NULL;
        if (c->depth >= MAX_DEPTH) {
                cc_error(c, n, "mapping nested too deeply");
                return NULL;
        }
        c->depth++;
        struct expr *e = NULL;
        bool err;
        const char *op;
        if (n->type == YAML_SCALAR_NODE) {
                const char *s = (const char *)n->data.scalar.value;
                if (s[0] != '/' && s[0] != '^' && s[0] != '@')
                        cc_error(c, n,
                                 "'%s' is not a JSON Pointer; write constants as {const: ...}", s);
                else if ((e = new_expr(c, n, EX_COPY)) != NULL && !cc_ptr(c, n, &e->src))
                        e = NULL;
        } else if (n->type == YAML_SEQUENCE_NODE) {
                if ((e = new_expr(c, n, EX_LIST)) != NULL && !compile_items(c, n, e, "list"))
                        e = NULL;
        } else if ((op = op_of(c, n, &err)) != NULL) {
                e = compile_spec(c, n, op);
        } else if (!err) {
                if ((e = new_expr(c, n, EX_OBJECT)) != NULL && !compile_object(c, n, e))
                        e = NULL;
        }
        c->depth--;
        return c->failed ? NULL : e;
}
