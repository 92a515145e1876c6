/* dialect_yaml.c — libyaml document helpers for the dialect compiler:
 * FILE:LINE errors, scalars, mappings with a closed set of keys, JSON
 * Pointers, and YAML nodes turned into JSON constants. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dialect_compile.h"

int cc_line(const yaml_node_t *n)
{
        return n ? (int)n->start_mark.line + 1 : 1;
}

bool cc_error(struct cctx *c, const yaml_node_t *at, const char *fmt, ...)
{
        if (c->failed)
                return false;
        c->failed = true;
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(c->err, c->errlen, "%s:%d: %s", c->file, cc_line(at), msg);
        return false;
}

yaml_node_t *cc_node(const struct cctx *c, int index)
{
        return yaml_document_get_node(c->doc, index);
}

const char *cc_scalar(struct cctx *c, const yaml_node_t *n, const char *what)
{
        if (n == NULL || n->type != YAML_SCALAR_NODE) {
                cc_error(c, n, "%s must be a scalar", what);
                return NULL;
        }
        return (const char *)n->data.scalar.value;
}

bool cc_is_plain(const yaml_node_t *n)
{
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static json_t *node_json(struct cctx *c, const yaml_node_t *n, int depth)
{
        if (depth > 64 || c->budget == 0) {
                cc_error(c, n, depth > 64 ? "constant nested too deeply" : "constant too large");
                return NULL;
        }
        c->budget--;
        if (n->type == YAML_SCALAR_NODE) {
                const char *s = (const char *)n->data.scalar.value;
                return cc_is_plain(n) ? yaml_plain_to_json(s) : json_string(s);
        }
        json_t *out = n->type == YAML_SEQUENCE_NODE ? json_array() : json_object();
        if (n->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *i = n->data.sequence.items.start;
                     i < n->data.sequence.items.top; i++) {
                        json_t *v = node_json(c, cc_node(c, *i), depth + 1);
                        if (v == NULL || json_array_append_new(out, v) != 0)
                                goto fail;
                }
                return out;
        }
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                const char *k = cc_scalar(c, cc_node(c, p->key), "a key");
                json_t *v = k ? node_json(c, cc_node(c, p->value), depth + 1) : NULL;
                if (v == NULL || json_object_set_new(out, k, v) != 0)
                        goto fail;
        }
        return out;
fail:
        json_decref(out);
        return NULL;
}

json_t *cc_json(struct cctx *c, const yaml_node_t *n)
{
        json_t *v = node_json(c, n, 0);
        if (v == NULL) {
                cc_error(c, n, "not a valid constant");
                return NULL;
        }
        json_array_append_new(c->d->consts, v); /* consts owns it; we lend it */
        return v;
}

bool cc_ptr(struct cctx *c, const yaml_node_t *n, struct ptr *out)
{
        const char *s = cc_scalar(c, n, "a JSON Pointer");
        if (s == NULL)
                return false;
        if (!ptr_compile(&c->d->arena, s, out))
                return cc_error(c, n, "'%s' is not a JSON Pointer (\"/a/b\", \"^/a\" or \"@/a\")",
                                s);
        return true;
}

bool cc_keys(struct cctx *c, const yaml_node_t *n, const char *const *allowed, const char *what)
{
        if (n == NULL || n->type != YAML_MAPPING_NODE)
                return cc_error(c, n, "%s must be a mapping", what);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *kn = cc_node(c, p->key);
                const char *k = cc_scalar(c, kn, "a key");
                if (k == NULL)
                        return false;
                bool ok = false;
                for (const char *const *a = allowed; *a && !ok; a++)
                        ok = strcmp(*a, k) == 0;
                if (!ok)
                        return cc_error(c, kn, "unknown key '%s' in %s", k, what);
                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
                        yaml_node_t *qk = cc_node(c, q->key);
                        if (qk->type == YAML_SCALAR_NODE &&
                            strcmp((const char *)qk->data.scalar.value, k) == 0)
                                return cc_error(c, kn, "duplicate key '%s' in %s", k, what);
                }
        }
        return true;
}

yaml_node_t *cc_get(const struct cctx *c, const yaml_node_t *n, const char *key)
{
        if (n == NULL || n->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = cc_node(c, p->key);
                if (k->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)k->data.scalar.value, key) == 0)
                        return cc_node(c, p->value);
        }
        return NULL;
}
