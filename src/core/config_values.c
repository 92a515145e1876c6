/* config_values.c — config values that need more than a YAML scalar:
 * durations and sizes (exported), paths resolved against the config file's
 * folder, secrets read from files or the environment (never printed), dialect
 * names checked against dialects_dir, and entity names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"

/* Reads an unsigned decimal prefix; returns the first non-digit or NULL on
 * no digits / overflow. */
static const char *parse_digits(const char *text, uint64_t *out)
{
        uint64_t v = 0;
        const char *p = text;
        for (; *p >= '0' && *p <= '9'; p++) {
                unsigned d = (unsigned)(*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return NULL;
                v = v * 10 + d;
        }
        if (p == text)
                return NULL;
        *out = v;
        return p;
}

static bool scaled(uint64_t v, uint64_t unit, uint64_t *out)
{
        if (unit != 0 && v > UINT64_MAX / unit)
                return false;
        *out = v * unit;
        return true;
}

bool takt_parse_duration_ms(const char *text, uint64_t *out_ms)
{
        static const struct {
                const char *suffix;
                uint64_t ms;
        } units[] = {{"", 1000},       {"ms", 1},          {"s", 1000},
                     {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400ULL * 1000}};
        uint64_t v;
        const char *rest = text ? parse_digits(text, &v) : NULL;
        if (!rest)
                return false;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(rest, units[i].suffix) == 0)
                        return scaled(v, units[i].ms, out_ms);
        }
        return false;
}

bool takt_parse_size(const char *text, size_t *out)
{
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = {{'\0', 0}, {'k', 10}, {'K', 10}, {'m', 20}, {'M', 20}, {'g', 30}, {'G', 30}};
        uint64_t v, r;
        const char *rest = text ? parse_digits(text, &v) : NULL;
        if (!rest || (rest[0] != '\0' && rest[1] != '\0'))
                return false;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (rest[0] == units[i].suffix) {
                        if (!scaled(v, (uint64_t)1 << units[i].shift, &r) || r > SIZE_MAX)
                                return false;
                        *out = (size_t)r;
                        return true;
                }
        }
        return false;
}

char *cfg_resolve(const struct cfg_ctx *ctx, const char *text)
{
        if (text[0] == '/')
                return strdup(text);
        char *out = NULL;
        if (asprintf(&out, "%s/%s", ctx->cfg->dir, text) < 0)
                return NULL;
        return out;
}

static char **field_string(void *base, const struct cfg_field *f)
{
        return (char **)((char *)base + f->offset);
}

/* Stores the resolved path of value into the field; checks readability when
 * must_read. */
static bool set_path(struct cfg_ctx *ctx, const yaml_node_t *value, void *base,
                     const struct cfg_field *f, bool must_read)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        char *path = cfg_resolve(ctx, text);
        if (!path)
                return cfg_error(ctx, cfg_line(value), "out of memory");
        if (must_read && access(path, R_OK) != 0) {
                int e = errno;
                cfg_error(ctx, cfg_line(value), "cannot read '%s': %s", path, strerror(e));
                free(path);
                return false;
        }
        char **slot = field_string(base, f);
        free(*slot);
        *slot = path;
        return true;
}

bool cfg_h_file(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                const struct cfg_field *f)
{
        return set_path(ctx, value, base, f, true);
}

bool cfg_h_dir(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
               const struct cfg_field *f)
{
        return set_path(ctx, value, base, f, false);
}

void cfg_secret_free(struct takt_secret *s)
{
        if (s->value) {
                explicit_bzero(s->value, s->len);
                free(s->value);
        }
        s->value = NULL;
        s->len = 0;
}

enum { SECRET_MAX = 64 * 1024 };

/* Reads a whole secret file into a NUL-terminated buffer, trailing newlines
 * (\n, \r\n) stripped. Returns 0 or an errno; EFBIG when too large. */
static int read_secret_file(const char *path, struct takt_secret *out)
{
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return errno;
        char *buf = malloc(SECRET_MAX + 1);
        if (!buf) {
                fclose(fp);
                return ENOMEM;
        }
        size_t n = fread(buf, 1, SECRET_MAX + 1, fp);
        int e = ferror(fp) ? EIO : 0;
        fclose(fp);
        if (!e && n > SECRET_MAX)
                e = EFBIG;
        if (e) {
                explicit_bzero(buf, SECRET_MAX + 1);
                free(buf);
                return e;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        buf[n] = '\0';
        out->value = buf;
        out->len = n;
        return 0;
}

static bool secret_slot(struct cfg_ctx *ctx, const yaml_node_t *key, void *base,
                        const struct cfg_field *f, struct takt_secret **out)
{
        *out = (struct takt_secret *)((char *)base + f->offset);
        if ((*out)->value)
                return cfg_error(ctx, cfg_line(key),
                                 "the secret is already set by its sibling key; use only one of "
                                 "*_file and *_env");
        return true;
}

bool cfg_h_secret_file(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                       void *base, const struct cfg_field *f)
{
        struct takt_secret *s;
        if (!secret_slot(ctx, key, base, f, &s))
                return false;
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        char *path = cfg_resolve(ctx, text);
        if (!path)
                return cfg_error(ctx, cfg_line(value), "out of memory");
        int e = read_secret_file(path, s);
        if (e)
                cfg_error(ctx, cfg_line(value), "cannot read secret file '%s': %s", path,
                          e == EFBIG ? "larger than 64 KiB" : strerror(e));
        else if (s->len == 0)
                cfg_error(ctx, cfg_line(value), "secret file '%s' is empty", path);
        free(path);
        if (ctx->failed)
                cfg_secret_free(s);
        return !ctx->failed;
}

bool cfg_h_secret_env(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                      void *base, const struct cfg_field *f)
{
        struct takt_secret *s;
        if (!secret_slot(ctx, key, base, f, &s))
                return false;
        const char *name = cfg_scalar(ctx, value);
        if (!name)
                return false;
        const char *v = getenv(name);
        if (!v)
                return cfg_error(ctx, cfg_line(value), "environment variable %s is not set", name);
        if (!v[0])
                return cfg_error(ctx, cfg_line(value), "environment variable %s is empty", name);
        s->value = strdup(v);
        if (!s->value)
                return cfg_error(ctx, cfg_line(value), "out of memory");
        s->len = strlen(v);
        return true;
}

bool cfg_valid_name(const char *name)
{
        size_t n = 0;
        for (; name[n]; n++) {
                char c = name[n];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return n >= 1 && n <= 64;
}

bool cfg_h_dialect(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                   void *base, const struct cfg_field *f)
{
        const char *name = cfg_scalar(ctx, value);
        if (!name)
                return false;
        if (strcmp(name, "canonical") != 0) {
                if (!cfg_valid_name(name) || name[0] == '.')
                        return cfg_error(ctx, cfg_line(value),
                                         "invalid dialect name '%s' (letters, digits, '.', '_', "
                                         "'-'; not starting with '.')",
                                         name);
                char *path = NULL;
                if (asprintf(&path, "%s/%s.yaml", ctx->cfg->dialects_dir, name) < 0)
                        return cfg_error(ctx, cfg_line(value), "out of memory");
                if (access(path, R_OK) != 0)
                        cfg_error(ctx, cfg_line(value),
                                  "unknown dialect '%s' (not 'canonical' and no readable %s)", name,
                                  path);
                free(path);
                if (ctx->failed)
                        return false;
        }
        return cfg_set_string(ctx, field_string(base, f), name, cfg_line(value));
}
