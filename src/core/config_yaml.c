/* config_yaml.c — the generic half of the config loader: error reporting
 * with "FILE:LINE: path: message", key paths, libyaml node helpers, the
 * table-driven mapping walk (unknown and duplicate keys, wrong node types)
 * and the handlers for plain scalar types (string, bool, port, count,
 * duration, size, enum, nested section). Nothing here knows a config key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

int cfg_line(const yaml_node_t *node)
{
        return node ? (int)node->start_mark.line + 1 : 0;
}

bool cfg_error(struct cfg_ctx *ctx, int line, const char *fmt, ...)
{
        if (ctx->failed)
                return false;
        ctx->failed = true;
        char msg[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (ctx->path_len > 0)
                snprintf(ctx->err, ctx->errlen, "%s:%d: %s: %s", ctx->file, line, ctx->path, msg);
        else
                snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->file, line, msg);
        return false;
}

size_t cfg_path_push(struct cfg_ctx *ctx, const char *name)
{
        size_t old = ctx->path_len;
        int n = snprintf(ctx->path + old, sizeof(ctx->path) - old, "%s%s", old ? "." : "", name);
        if (n < 0 || (size_t)n >= sizeof(ctx->path) - old)
                ctx->path_len = sizeof(ctx->path) - 1; /* truncated; still terminated */
        else
                ctx->path_len = old + (size_t)n;
        return old;
}

void cfg_path_pop(struct cfg_ctx *ctx, size_t len)
{
        ctx->path_len = len;
        ctx->path[len] = '\0';
}

yaml_node_t *cfg_node(const struct cfg_ctx *ctx, int index)
{
        return yaml_document_get_node(ctx->doc, index);
}

static const char *node_kind_name(const yaml_node_t *node)
{
        switch (node->type) {
        case YAML_MAPPING_NODE:
                return "a mapping";
        case YAML_SEQUENCE_NODE:
                return "a list";
        default:
                return "a scalar";
        }
}

static bool scalar_is_null(const yaml_node_t *node)
{
        if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        const char *v = (const char *)node->data.scalar.value;
        return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
               strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *cfg_scalar(struct cfg_ctx *ctx, const yaml_node_t *node)
{
        if (node->type != YAML_SCALAR_NODE)
                return cfg_error(ctx, cfg_line(node), "expected a value, got %s",
                                 node_kind_name(node)),
                       NULL;
        if (scalar_is_null(node))
                return cfg_error(ctx, cfg_line(node), "expected a value, got nothing"), NULL;
        const char *v = (const char *)node->data.scalar.value;
        if (strlen(v) != node->data.scalar.length)
                return cfg_error(ctx, cfg_line(node), "value contains a NUL character"), NULL;
        return v;
}

static const char *key_text(const struct cfg_ctx *ctx, const yaml_node_pair_t *pair)
{
        const yaml_node_t *key = cfg_node(ctx, pair->key);
        return key->type == YAML_SCALAR_NODE ? (const char *)key->data.scalar.value : NULL;
}

bool cfg_check_mapping(struct cfg_ctx *ctx, const yaml_node_t *node)
{
        if (node->type != YAML_MAPPING_NODE)
                return cfg_error(ctx, cfg_line(node), "expected a mapping, got %s",
                                 node->type == YAML_SCALAR_NODE && scalar_is_null(node)
                                     ? "nothing"
                                     : node_kind_name(node));
        const yaml_node_pair_t *start = node->data.mapping.pairs.start;
        const yaml_node_pair_t *top = node->data.mapping.pairs.top;
        for (const yaml_node_pair_t *p = start; p < top; p++) {
                const yaml_node_t *key = cfg_node(ctx, p->key);
                const char *text = key_text(ctx, p);
                if (!text || scalar_is_null(key) || strlen(text) != key->data.scalar.length)
                        return cfg_error(ctx, cfg_line(key), "keys must be non-empty text");
                for (const yaml_node_pair_t *q = start; q < p; q++) {
                        if (strcmp(key_text(ctx, q), text) == 0)
                                return cfg_error(ctx, cfg_line(key),
                                                 "duplicate key '%s' (first at line %d)", text,
                                                 cfg_line(cfg_node(ctx, q->key)));
                }
        }
        return true;
}

size_t cfg_mapping_size(const yaml_node_t *node)
{
        return (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
}

bool cfg_has_key(const struct cfg_ctx *ctx, const yaml_node_t *node, const char *key)
{
        if (node->type != YAML_MAPPING_NODE)
                return false;
        for (const yaml_node_pair_t *p = node->data.mapping.pairs.start;
             p < node->data.mapping.pairs.top; p++) {
                const char *text = key_text(ctx, p);
                if (text && strcmp(text, key) == 0)
                        return true;
        }
        return false;
}

static const struct cfg_field *find_field(const struct cfg_field *fields, const char *key)
{
        for (const struct cfg_field *f = fields; f->key; f++) {
                if (strcmp(f->key, key) == 0)
                        return f;
        }
        return NULL;
}

static bool unknown_key(struct cfg_ctx *ctx, const yaml_node_t *key, const struct cfg_field *fields)
{
        char known[384] = "";
        size_t used = 0;
        for (const struct cfg_field *f = fields; f->key && used < sizeof(known); f++) {
                int n =
                    snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "", f->key);
                if (n < 0)
                        break;
                used += (size_t)n;
        }
        return cfg_error(ctx, cfg_line(key), "unknown key '%s' (known: %s)",
                         (const char *)key->data.scalar.value, known);
}

bool cfg_map(struct cfg_ctx *ctx, const yaml_node_t *node, void *base,
             const struct cfg_field *fields)
{
        if (!cfg_check_mapping(ctx, node))
                return false;
        const yaml_node_pair_t *start = node->data.mapping.pairs.start;
        const yaml_node_pair_t *top = node->data.mapping.pairs.top;
        for (const yaml_node_pair_t *p = start; p < top; p++) {
                if (!find_field(fields, key_text(ctx, p)))
                        return unknown_key(ctx, cfg_node(ctx, p->key), fields);
        }
        /* Table order, so that a field can rely on the fields listed before it. */
        for (const struct cfg_field *f = fields; f->key; f++) {
                for (const yaml_node_pair_t *p = start; p < top; p++) {
                        if (strcmp(key_text(ctx, p), f->key) != 0)
                                continue;
                        size_t mark = cfg_path_push(ctx, f->key);
                        bool ok =
                            f->parse(ctx, cfg_node(ctx, p->key), cfg_node(ctx, p->value), base, f);
                        cfg_path_pop(ctx, mark);
                        if (!ok)
                                return false;
                        break;
                }
        }
        return true;
}

bool cfg_set_string(struct cfg_ctx *ctx, char **slot, const char *text, int line)
{
        char *copy = strdup(text);
        if (!copy)
                return cfg_error(ctx, line, "out of memory");
        free(*slot);
        *slot = copy;
        return true;
}

static void *field_ptr(void *base, const struct cfg_field *f)
{
        return (char *)base + f->offset;
}

bool cfg_h_string(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                  const struct cfg_field *f)
{
        const char *text;
        if (f->arg && value->type == YAML_SCALAR_NODE && value->data.scalar.length == 0 &&
            value->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                text = ""; /* an explicit "" where empty makes sense */
        else if (!(text = cfg_scalar(ctx, value)))
                return false;
        return cfg_set_string(ctx, field_ptr(base, f), text, cfg_line(value));
}

bool cfg_h_bool(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                const struct cfg_field *f)
{
        static const char *const yes[] = {"true", "yes", "on"};
        static const char *const no[] = {"false", "no", "off"};
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        bool *out = field_ptr(base, f);
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcmp(text, yes[i]) == 0)
                        return *out = true, true;
                if (strcmp(text, no[i]) == 0)
                        return *out = false, true;
        }
        return cfg_error(ctx, cfg_line(value), "expected true or false, got '%s'", text);
}

/* Parses a decimal integer in [min, max] into *out, or sets the error. */
static bool parse_uint(struct cfg_ctx *ctx, const yaml_node_t *value, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno == ERANGE || v < min || v > max)
                return cfg_error(ctx, cfg_line(value),
                                 "expected an integer from %llu to %llu, got '%s'", min, max, text);
        *out = v;
        return true;
}

bool cfg_h_port(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                const struct cfg_field *f)
{
        unsigned long long v = 0;
        if (!parse_uint(ctx, value, 1, 65535, &v))
                return false;
        *(uint16_t *)field_ptr(base, f) = (uint16_t)v;
        return true;
}

bool cfg_h_count(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                 const struct cfg_field *f)
{
        unsigned long long v = 0;
        if (!parse_uint(ctx, value, 1, 1000000, &v))
                return false;
        *(unsigned *)field_ptr(base, f) = (unsigned)v;
        return true;
}

bool cfg_h_duration(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                    void *base, const struct cfg_field *f)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        if (!takt_parse_duration_ms(text, field_ptr(base, f)))
                return cfg_error(ctx, cfg_line(value),
                                 "expected a duration like 500ms, 30s, 5m, 2h or 1d, got '%s'",
                                 text);
        return true;
}

bool cfg_h_duration_or_forever(struct cfg_ctx *ctx, const yaml_node_t *key,
                               const yaml_node_t *value, void *base, const struct cfg_field *f)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        uint64_t *ms = field_ptr(base, f);
        if (strcmp(text, "forever") == 0) {
                *ms = 0;
                return true;
        }
        if (!takt_parse_duration_ms(text, ms) || *ms == 0)
                return cfg_error(ctx, cfg_line(value),
                                 "expected forever or a duration above zero like 12h, 7d or 30d, "
                                 "got '%s'",
                                 text);
        return true;
}

bool cfg_h_size(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                const struct cfg_field *f)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        size_t *out = field_ptr(base, f);
        if (!takt_parse_size(text, out) || *out == 0)
                return cfg_error(ctx, cfg_line(value),
                                 "expected a size like 1048576, 512k, 1m or 1g, got '%s'", text);
        return true;
}

bool cfg_h_enum(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                const struct cfg_field *f)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        char names[256] = "";
        size_t used = 0;
        for (const struct cfg_enum *e = f->arg; e->name; e++) {
                if (strcmp(e->name, text) == 0) {
                        /* Every config enum is a C enum with small values: int-sized. */
                        int v = e->value;
                        memcpy(field_ptr(base, f), &v, sizeof(v));
                        return true;
                }
                int n = snprintf(names + used, sizeof(names) - used, "%s%s", used ? " | " : "",
                                 e->name);
                if (n > 0 && (size_t)n < sizeof(names) - used)
                        used += (size_t)n;
        }
        return cfg_error(ctx, cfg_line(value), "expected one of %s, got '%s'", names, text);
}

bool cfg_h_section(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                   void *base, const struct cfg_field *f)
{
        return cfg_map(ctx, value, field_ptr(base, f), f->arg);
}
