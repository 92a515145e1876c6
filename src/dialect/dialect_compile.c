/* dialect_compile.c — compiles a mapping file (docs/dialects.md) into a
 * struct dialect: the top-level keys, value maps, the inbound program
 * (unwrap, discriminator, cases, messages to emit) and the outbound bodies
 * per canonical type. Field specifications are dialect_compile_expr.c's.
 * Also dialect_load/dialect_load_text/dialect_free: the only I/O of the
 * module is reading the mapping file here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect_compile.h"
#include "takt/dialect.h"

#define EXPR_BUDGET 100000

static const char *const top_keys[] = {"dialect", "description", "value_maps",
                                       "inbound", "outbound",    NULL};
static const char *const inbound_keys[] = {"unwrap", "discriminator", "envelope",
                                           "cases",  "default",       NULL};
static const char *const case_keys[] = {"when", "type", "foreach", "envelope", "emit", NULL};
static const char *const emit_keys[] = {"type", "foreach", "envelope", NULL};

static bool compile_type(struct cctx *c, const yaml_node_t *n, enum canon_type *out)
{
        const char *s = cc_scalar(c, n, "type");
        if (s == NULL)
                return false;
        if (!canon_type_parse(s, out))
                return cc_error(c, n, "unknown canonical type '%s'", s);
        return true;
}

/* An envelope: an object of fields, without the two the engine sets. */
static bool compile_envelope(struct cctx *c, const yaml_node_t *env, struct expr **out)
{
        if (env->type != YAML_MAPPING_NODE)
                return cc_error(c, env, "envelope must be a mapping of fields");
        static const char *const reserved[] = {"type", "schema_version"};
        for (size_t i = 0; i < 2; i++)
                if (cc_get(c, env, reserved[i]) != NULL)
                        return cc_error(c, env, "envelope sets '%s' itself; remove it",
                                        reserved[i]);
        *out = cc_expr(c, env);
        if (*out == NULL)
                return false;
        if ((*out)->kind != EX_OBJECT)
                return cc_error(c, env, "envelope must be an object of fields");
        return true;
}

/* One message spec: {type, foreach?, envelope}. */
static bool compile_emit(struct cctx *c, const yaml_node_t *n, struct emit *m)
{
        const yaml_node_t *t = cc_get(c, n, "type"), *env = cc_get(c, n, "envelope"),
                          *fe = cc_get(c, n, "foreach");
        m->line = cc_line(n);
        if (t == NULL || env == NULL)
                return cc_error(c, n, "a message needs 'type' and 'envelope'");
        if (!compile_type(c, t, &m->type))
                return false;
        if (fe != NULL) {
                m->has_foreach = true;
                if (!cc_ptr(c, fe, &m->foreach))
                        return false;
        }
        return compile_envelope(c, env, &m->envelope);
}

/* One 'when' value: a scalar or a sequence of alternatives. */
static bool compile_equals(struct cctx *c, const yaml_node_t *v, struct cond *k)
{
        bool seq = v->type == YAML_SEQUENCE_NODE;
        k->n_equals = seq ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start) : 1;
        if (k->n_equals == 0)
                return cc_error(c, v, "a when value needs at least one alternative");
        k->equals = arena_alloc(&c->d->arena, k->n_equals * sizeof(*k->equals));
        if (k->equals == NULL)
                return cc_error(c, v, "out of memory");
        for (size_t i = 0; i < k->n_equals; i++) {
                const yaml_node_t *s = seq ? cc_node(c, v->data.sequence.items.start[i]) : v;
                const char *text = cc_scalar(c, s, "a when value");
                if (text == NULL || (k->equals[i] = arena_strdup(&c->d->arena, text)) == NULL)
                        return false;
        }
        return true;
}

static bool compile_conds(struct cctx *c, const yaml_node_t *w, struct icase *k)
{
        if (w->type != YAML_MAPPING_NODE)
                return cc_error(c, w, "when must be a mapping of pointer: value");
        k->n_conds = (size_t)(w->data.mapping.pairs.top - w->data.mapping.pairs.start);
        k->conds = arena_alloc(&c->d->arena, (k->n_conds ? k->n_conds : 1) * sizeof(*k->conds));
        if (k->conds == NULL)
                return cc_error(c, w, "out of memory");
        for (size_t i = 0; i < k->n_conds; i++) {
                yaml_node_pair_t *p = &w->data.mapping.pairs.start[i];
                if (!cc_ptr(c, cc_node(c, p->key), &k->conds[i].at) ||
                    !compile_equals(c, cc_node(c, p->value), &k->conds[i]))
                        return false;
        }
        return true;
}

/* A case: {when?, type, foreach?, envelope} or {when?, emit: [messages]}. */
static bool compile_case(struct cctx *c, const yaml_node_t *n, struct icase *k, bool list_form)
{
        if (!cc_keys(c, n, case_keys, "a case"))
                return false;
        k->line = cc_line(n);
        const yaml_node_t *w = cc_get(c, n, "when"), *emit = cc_get(c, n, "emit");
        if (w != NULL && !list_form)
                return cc_error(c, w, "'when' is for cases listed without a discriminator");
        if (w != NULL && !compile_conds(c, w, k))
                return false;
        if (emit == NULL) {
                k->n_emits = 1;
                k->emits = arena_alloc(&c->d->arena, sizeof(*k->emits));
                return k->emits != NULL && compile_emit(c, n, &k->emits[0]);
        }
        if (cc_get(c, n, "type") || cc_get(c, n, "envelope") || cc_get(c, n, "foreach"))
                return cc_error(c, n, "a case has either 'emit' or one message, not both");
        if (emit->type != YAML_SEQUENCE_NODE ||
            emit->data.sequence.items.top == emit->data.sequence.items.start)
                return cc_error(c, emit, "emit must be a non-empty sequence of messages");
        k->n_emits = (size_t)(emit->data.sequence.items.top - emit->data.sequence.items.start);
        k->emits = arena_alloc(&c->d->arena, k->n_emits * sizeof(*k->emits));
        if (k->emits == NULL)
                return cc_error(c, emit, "out of memory");
        for (size_t i = 0; i < k->n_emits; i++) {
                const yaml_node_t *m = cc_node(c, emit->data.sequence.items.start[i]);
                if (!cc_keys(c, m, emit_keys, "a message") || !compile_emit(c, m, &k->emits[i]))
                        return false;
        }
        return true;
}

static bool compile_unwrap(struct cctx *c, const yaml_node_t *n)
{
        struct dialect *d = c->d;
        bool seq = n->type == YAML_SEQUENCE_NODE;
        d->n_unwrap = seq ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
        d->unwrap = arena_alloc(&d->arena, (d->n_unwrap ? d->n_unwrap : 1) * sizeof(*d->unwrap));
        if (d->unwrap == NULL)
                return cc_error(c, n, "out of memory");
        for (size_t i = 0; i < d->n_unwrap; i++) {
                const yaml_node_t *p = seq ? cc_node(c, n->data.sequence.items.start[i]) : n;
                if (!cc_ptr(c, p, &d->unwrap[i]))
                        return false;
                if (d->unwrap[i].base != PTR_SCOPE)
                        return cc_error(c, p, "unwrap pointers start with '/'");
        }
        return true;
}

static bool compile_inbound(struct cctx *c, const yaml_node_t *n)
{
        struct dialect *d = c->d;
        if (!cc_keys(c, n, inbound_keys, "inbound"))
                return false;
        d->has_inbound = true;
        const yaml_node_t *u = cc_get(c, n, "unwrap"), *disc = cc_get(c, n, "discriminator"),
                          *cases = cc_get(c, n, "cases"), *dflt = cc_get(c, n, "default");
        const yaml_node_t *common = cc_get(c, n, "envelope");
        if (u != NULL && !compile_unwrap(c, u))
                return false;
        if (common != NULL && !compile_envelope(c, common, &d->common))
                return false;
        if (disc != NULL) {
                d->has_discriminator = true;
                if (!cc_ptr(c, disc, &d->discriminator))
                        return false;
        }
        if (cases == NULL && dflt == NULL)
                return cc_error(c, n, "inbound needs 'cases' or 'default'");
        if (cases != NULL) {
                bool list_form = disc == NULL;
                if (list_form && cases->type != YAML_SEQUENCE_NODE)
                        return cc_error(c, cases, "without a discriminator, cases is a sequence");
                if (!list_form && cases->type != YAML_MAPPING_NODE)
                        return cc_error(c, cases,
                                        "with a discriminator, cases maps its values to cases");
                d->n_cases =
                    list_form
                        ? (size_t)(cases->data.sequence.items.top -
                                   cases->data.sequence.items.start)
                        : (size_t)(cases->data.mapping.pairs.top - cases->data.mapping.pairs.start);
                d->cases =
                    arena_alloc(&d->arena, (d->n_cases ? d->n_cases : 1) * sizeof(*d->cases));
                if (d->cases == NULL)
                        return cc_error(c, cases, "out of memory");
                for (size_t i = 0; i < d->n_cases; i++) {
                        struct icase *k = &d->cases[i];
                        const yaml_node_t *body;
                        char name[32];
                        if (list_form) {
                                body = cc_node(c, cases->data.sequence.items.start[i]);
                                snprintf(name, sizeof(name), "case %zu", i + 1);
                                k->name = arena_strdup(&d->arena, name);
                        } else {
                                yaml_node_pair_t *p = &cases->data.mapping.pairs.start[i];
                                const char *v = cc_scalar(c, cc_node(c, p->key), "a case value");
                                if (v == NULL)
                                        return false;
                                k->name = arena_strdup(&d->arena, v);
                                body = cc_node(c, p->value);
                        }
                        if (k->name == NULL || !compile_case(c, body, k, list_form))
                                return false;
                }
        }
        if (dflt != NULL) {
                d->fallback = arena_alloc(&d->arena, sizeof(*d->fallback));
                if (d->fallback == NULL)
                        return cc_error(c, dflt, "out of memory");
                d->fallback->name = "default";
                return compile_case(c, dflt, d->fallback, false);
        }
        return true;
}

static bool compile_outbound(struct cctx *c, const yaml_node_t *n)
{
        if (n->type != YAML_MAPPING_NODE)
                return cc_error(c, n, "outbound must map canonical types to bodies");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                enum canon_type t;
                const yaml_node_t *k = cc_node(c, p->key);
                if (!compile_type(c, k, &t))
                        return false;
                if (c->d->outbound[t] != NULL)
                        return cc_error(c, k, "duplicate outbound type '%s'", canon_type_name(t));
                if ((c->d->outbound[t] = cc_expr(c, cc_node(c, p->value))) == NULL)
                        return false;
        }
        return true;
}

/* value_maps: {name: {source text: value, ...}, ...}, built once as JSON
 * objects (hash tables) that expressions borrow. */
static bool compile_value_maps(struct cctx *c, const yaml_node_t *n)
{
        if (n->type != YAML_MAPPING_NODE)
                return cc_error(c, n, "value_maps must be a mapping");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                const yaml_node_t *m = cc_node(c, p->value);
                const char *name = cc_scalar(c, cc_node(c, p->key), "a value map name");
                if (name == NULL)
                        return false;
                if (m->type != YAML_MAPPING_NODE)
                        return cc_error(c, m, "value map '%s' must be a mapping", name);
        }
        if ((c->maps = cc_json(c, n)) == NULL)
                return false;
        const char *name, *k;
        json_t *map, *v;
        json_object_foreach(c->maps, name, map)
        {
                json_object_foreach(map, k, v)
                {
                        if (json_is_null(v))
                                return cc_error(c, n, "value map '%s': '%s' maps to null", name, k);
                }
        }
        return true;
}

bool dialect_compile_doc(struct dialect *d, struct yaml_document_s *doc, const char *file,
                         char *err, size_t errlen)
{
        struct cctx c = {
            .d = d, .doc = doc, .file = file, .err = err, .errlen = errlen, .budget = EXPR_BUDGET};
        yaml_node_t *root = yaml_document_get_root_node(doc);
        if (root == NULL)
                return cc_error(&c, NULL, "empty mapping file");
        if (!cc_keys(&c, root, top_keys, "a dialect file"))
                return false;
        const yaml_node_t *in = cc_get(&c, root, "inbound"), *out = cc_get(&c, root, "outbound");
        const yaml_node_t *maps = cc_get(&c, root, "value_maps");
        if (maps != NULL && !compile_value_maps(&c, maps))
                return false;
        if (in == NULL && out == NULL)
                return cc_error(&c, root, "a dialect needs 'inbound' and/or 'outbound'");
        if (in != NULL && !compile_inbound(&c, in))
                return false;
        return out == NULL || compile_outbound(&c, out);
}

/* Compiles from an initialised parser; name is the dialect's name. */
static struct dialect *load(yaml_parser_t *parser, const char *file, const char *name, char *err,
                            size_t errlen)
{
        yaml_document_t doc;
        if (!yaml_parser_load(parser, &doc)) {
                snprintf(err, errlen, "%s:%zu: %s", file,
                         (parser->problem_mark.line ? parser->problem_mark.line
                                                    : parser->context_mark.line) +
                             1,
                         parser->problem ? parser->problem : "YAML error");
                return NULL;
        }
        struct dialect *d = calloc(1, sizeof(*d));
        bool ok = d != NULL && (d->consts = json_array()) != NULL &&
                  (d->name = arena_strdup(&d->arena, name)) != NULL;
        if (!ok)
                snprintf(err, errlen, "%s:1: out of memory", file);
        ok = ok && dialect_compile_doc(d, &doc, file, err, errlen);
        yaml_document_delete(&doc);
        if (!ok) {
                dialect_free(d);
                return NULL;
        }
        return d;
}

/* The dialect name of a path: its base name without ".yaml". */
static void name_of(const char *path, char *buf, size_t len)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(buf, len, "%s", base);
        char *dot = strstr(buf, ".yaml");
        if (dot != NULL && dot[5] == '\0')
                *dot = '\0';
}

struct dialect *dialect_load(const char *path, char *err, size_t errlen)
{
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
                snprintf(err, errlen, "%s:0: cannot open mapping file", path);
                return NULL;
        }
        char name[256];
        name_of(path, name, sizeof(name));
        yaml_parser_t parser;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_file(&parser, f);
        struct dialect *d = load(&parser, path, name, err, errlen);
        yaml_parser_delete(&parser);
        fclose(f);
        return d;
}

struct dialect *dialect_load_text(const char *text, size_t len, const char *name, char *err,
                                  size_t errlen)
{
        yaml_parser_t parser;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        struct dialect *d = load(&parser, name, name, err, errlen);
        yaml_parser_delete(&parser);
        return d;
}

void dialect_free(struct dialect *d)
{
        if (d == NULL)
                return;
        json_decref(d->consts);
        arena_free(&d->arena);
        free(d);
}

const char *dialect_name(const struct dialect *d)
{
        return d ? d->name : "canonical";
}
