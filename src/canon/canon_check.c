/* canon_check.c — the generic shape checker behind canon_validate: one switch
 * over field kinds, recursion into objects and arrays of objects, unknown
 * keys, unique item keys. Every violation becomes one canon_error whose path
 * is the offending value's JSON Pointer. */
#include <stdio.h>
#include <string.h>

#include "canon_check.h"
#include "takt/decimal.h"

/* path into buf, truncated to fit (paths are bounded by design). Every
 * field checked gets its path built, so no printf here. */
static void copy_path(char *buf, size_t len, const char *path)
{
        size_t n = strnlen(path, len - 1);
        memmove(buf, path, n);
        buf[n] = '\0';
}

const char *canon_child_path(char *buf, size_t len, const char *path, const char *key)
{
        copy_path(buf, len, path);
        return canon_pointer_append(buf, len, key);
}

const char *canon_index_path(char *buf, size_t len, const char *path, size_t index)
{
        char digits[DECIMAL_INT64_SIZE];
        decimal_int64(digits, (int64_t)index);
        copy_path(buf, len, path);
        return canon_pointer_append(buf, len, digits);
}

static void fail(const struct canon_ctx *ctx, const char *path, const char *msg)
{
        canon_errors_add(ctx->errs, ctx->prefix, path, "%s", msg);
}

/* Characters (UTF-8 code points) of a string jansson has already validated. */
static size_t utf8_length(const char *s, size_t bytes)
{
        size_t n = 0;
        for (size_t i = 0; i < bytes; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

static void check_string(const struct canon_ctx *ctx, const json_t *v, const char *path,
                         enum canon_kind kind)
{
        if (!json_is_string(v)) {
                fail(ctx, path, "must be a string");
                return;
        }
        size_t n = utf8_length(json_string_value(v), json_string_length(v));
        if (kind == CK_ID && n == 0)
                fail(ctx, path, "must not be empty");
        else if (kind == CK_ID128 && (n == 0 || n > 128))
                fail(ctx, path, "must be 1 to 128 characters");
}

static void check_type(const struct canon_ctx *ctx, const json_t *v, const char *path)
{
        enum canon_type t;
        if (!json_is_string(v))
                fail(ctx, path, "must be a string");
        else if (!canon_type_parse(json_string_value(v), &t))
                fail(ctx, path, "is not a known message type");
        else if (canon_type_senders(t) == CANON_SENDER_TAKT)
                fail(ctx, path, "type is emitted by takt only");
}

static void check_array(const struct canon_ctx *ctx, const json_t *v, const char *path,
                        const struct canon_field *f)
{
        if (!json_is_array(v)) {
                fail(ctx, path, "must be an array");
                return;
        }
        if (json_array_size(v) < f->min_items)
                canon_errors_add(ctx->errs, ctx->prefix, path, "must have at least %u item%s",
                                 f->min_items, f->min_items == 1 ? "" : "s");
        char item_path[192];
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
                canon_index_path(item_path, sizeof(item_path), path, i);
                if (!json_is_object(item))
                        fail(ctx, item_path, "must be an object");
                else if (f->shape != NULL)
                        canon_check_object(ctx, item, item_path, f->shape);
        }
        if (f->unique == NULL)
                return;
        for (i = 1; i < json_array_size(v); i++) {
                const char *key = canon_str(json_array_get(v, i), f->unique);
                for (size_t j = 0; key != NULL && j < i; j++) {
                        const char *other = canon_str(json_array_get(v, j), f->unique);
                        if (other == NULL || strcmp(key, other) != 0)
                                continue;
                        canon_index_path(item_path, sizeof(item_path), path, i);
                        char key_path[192];
                        canon_errors_add(
                            ctx->errs, ctx->prefix,
                            canon_child_path(key_path, sizeof(key_path), item_path, f->unique),
                            "duplicate %s \"%s\" (also item %zu)", f->unique, key, j);
                        break;
                }
        }
}

static void check_value(const struct canon_ctx *ctx, const json_t *v, const char *path,
                        const struct canon_field *f)
{
        switch (f->kind) {
        case CK_ID:
        case CK_ID128:
        case CK_TEXT:
                check_string(ctx, v, path, f->kind);
                break;
        case CK_TYPE:
                check_type(ctx, v, path);
                break;
        case CK_SCHEMA:
                if (!json_is_integer(v) || json_integer_value(v) != CANON_SCHEMA_VERSION)
                        canon_errors_add(ctx->errs, ctx->prefix, path, "must be the integer %d",
                                         CANON_SCHEMA_VERSION);
                break;
        case CK_TIME:
                if (!json_is_string(v))
                        fail(ctx, path, "must be a string");
                else if (!canon_parse_time(json_string_value(v), NULL))
                        fail(ctx, path, "must be an RFC 3339 timestamp with a time zone");
                break;
        case CK_COUNT:
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        fail(ctx, path, "must be an integer >= 0");
                break;
        case CK_NUMBER:
                if (!json_is_number(v) || json_number_value(v) < 0)
                        fail(ctx, path, "must be a number >= 0");
                break;
        case CK_BOOL:
                if (!json_is_boolean(v))
                        fail(ctx, path, "must be true or false");
                break;
        case CK_OBJECT:
                if (!json_is_object(v))
                        fail(ctx, path, "must be an object");
                else if (f->shape != NULL)
                        canon_check_object(ctx, v, path, f->shape);
                break;
        case CK_ARRAY:
                check_array(ctx, v, path, f);
                break;
        }
}

static bool shape_has(const struct canon_shape *shape, const char *key)
{
        for (size_t i = 0; i < shape->n_fields; i++)
                if (strcmp(shape->fields[i].name, key) == 0)
                        return true;
        return false;
}

void canon_check_object(const struct canon_ctx *ctx, const json_t *obj, const char *path,
                        const struct canon_shape *shape)
{
        char child[192];
        for (size_t i = 0; i < shape->n_fields; i++) {
                const struct canon_field *f = &shape->fields[i];
                const json_t *v = json_object_get(obj, f->name);
                canon_child_path(child, sizeof(child), path, f->name);
                if (v == NULL || json_is_null(v)) {
                        if (f->required)
                                fail(ctx, child, "is required");
                        continue;
                }
                check_value(ctx, v, child, f);
        }
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)obj, key, v)
        {
                if (!shape_has(shape, key))
                        fail(ctx, canon_child_path(child, sizeof(child), path, key),
                             "unknown field");
        }
        if (shape->rules != NULL)
                shape->rules(ctx, obj, path);
}
