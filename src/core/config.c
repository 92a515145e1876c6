/* config.c — takt_config_load(): reads the file with libyaml, sets the
 * defaults, walks the root field table (the order of that table is the order
 * of parsing: dialects_dir before anything naming a dialect, destinations
 * before plants before sources), applies the TAKT_PG_CONNINFO override, and
 * owns freeing and the lookups. The generic walk lives in config_yaml.c, the
 * values in config_values.c, the named sections in config_entities.c. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

_Static_assert(sizeof(enum takt_migrate) == sizeof(int), "cfg_h_enum stores an int");

#define CFG_OFF(member) offsetof(struct takt_config, member)
#define DAY_MS          (86400ULL * 1000)

static const struct cfg_enum migrate_modes[] = {
    {"manual", TAKT_MIGRATE_MANUAL}, {"auto", TAKT_MIGRATE_AUTO}, CFG_ENUM_END};

static const struct cfg_field tls_fields[] = {
    {"cert", cfg_h_file, CFG_OFF(listen.tls_cert), NULL},
    {"key", cfg_h_file, CFG_OFF(listen.tls_key), NULL},
    {"client_ca", cfg_h_file, CFG_OFF(listen.tls_client_ca), NULL},
    CFG_END};

static bool h_tls(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                  const struct cfg_field *f)
{
        struct takt_config *cfg = base;
        if (!cfg_map(ctx, value, base, tls_fields))
                return false;
        if (!cfg->listen.tls_cert)
                return cfg_error(ctx, cfg_line(key), "missing required key 'cert'");
        if (!cfg->listen.tls_key)
                return cfg_error(ctx, cfg_line(key), "missing required key 'key' (with 'cert')");
        return true;
}

static const struct cfg_field listen_fields[] = {
    {"address", cfg_h_string, CFG_OFF(listen.address), NULL},
    {"port", cfg_h_port, CFG_OFF(listen.port), NULL},
    {"max_body", cfg_h_size, CFG_OFF(listen.max_body), NULL},
    {"tls", h_tls, 0, NULL},
    CFG_END};

static const struct cfg_field admin_fields[] = {
    {"token_file", cfg_h_secret_file, CFG_OFF(admin.token), NULL},
    {"token_env", cfg_h_secret_env, CFG_OFF(admin.token), NULL},
    CFG_END};

static const struct cfg_field metrics_fields[] = {{"auth", cfg_h_bool, CFG_OFF(metrics.auth), NULL},
                                                  CFG_END};

/* metrics is parsed after admin: metrics.auth needs the admin token. */
static bool h_metrics(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                      void *base, const struct cfg_field *f)
{
        struct takt_config *cfg = base;
        if (!cfg_map(ctx, value, base, metrics_fields))
                return false;
        if (cfg->metrics.auth && !cfg->admin.token.value)
                return cfg_error(ctx, cfg_line(key),
                                 "auth: true needs admin.token_file or admin.token_env");
        return true;
}

static const struct cfg_field postgres_fields[] = {
    {"conninfo", cfg_h_string, CFG_OFF(postgres.conninfo), NULL},
    {"migrate", cfg_h_enum, CFG_OFF(postgres.migrate), migrate_modes},
    CFG_END};

static bool h_properties(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                         void *base, const struct cfg_field *f)
{
        struct takt_config *cfg = base;
        if (!cfg_check_mapping(ctx, value))
                return false;
        size_t n = cfg_mapping_size(value);
        cfg->kafka.properties = calloc(n ? n : 1, sizeof(*cfg->kafka.properties));
        if (!cfg->kafka.properties)
                return cfg_error(ctx, cfg_line(value), "out of memory");
        for (const yaml_node_pair_t *p = value->data.mapping.pairs.start;
             p < value->data.mapping.pairs.top; p++) {
                const yaml_node_t *k = cfg_node(ctx, p->key);
                const char *name = (const char *)k->data.scalar.value;
                struct takt_kv *kv = &cfg->kafka.properties[cfg->kafka.n_properties++];
                size_t mark = cfg_path_push(ctx, name);
                const char *text = cfg_scalar(ctx, cfg_node(ctx, p->value));
                bool ok = text && cfg_set_string(ctx, &kv->key, name, cfg_line(k)) &&
                          cfg_set_string(ctx, &kv->value, text, cfg_line(k));
                cfg_path_pop(ctx, mark);
                if (!ok)
                        return false;
        }
        return true;
}

static const struct cfg_field kafka_fields[] = {
    {"brokers", cfg_h_string, CFG_OFF(kafka.brokers), NULL},
    {"topic_prefix", cfg_h_string, CFG_OFF(kafka.topic_prefix), "empty ok"},
    {"properties", h_properties, 0, NULL},
    CFG_END};

static const struct cfg_field delivery_fields[] = {
    {"shutdown_grace", cfg_h_duration, CFG_OFF(delivery.shutdown_grace_ms), NULL}, CFG_END};

static bool h_interval(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                       void *base, const struct cfg_field *f)
{
        if (!cfg_h_duration(ctx, key, value, base, f))
                return false;
        if (((struct takt_config *)base)->retention.interval_ms < 100)
                return cfg_error(ctx, cfg_line(value), "expected 100ms or more, got '%s'",
                                 cfg_scalar(ctx, value));
        return true;
}

static const struct cfg_field retention_fields[] = {
    {"delivered", cfg_h_duration_or_forever, CFG_OFF(retention.delivered_ms), NULL},
    {"inbox", cfg_h_duration_or_forever, CFG_OFF(retention.inbox_ms), NULL},
    {"trace", cfg_h_duration_or_forever, CFG_OFF(retention.trace_ms), NULL},
    {"interval", h_interval, CFG_OFF(retention.interval_ms), NULL},
    CFG_END};

static bool h_log_level(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                        void *base, const struct cfg_field *f)
{
        const char *text = cfg_scalar(ctx, value);
        if (!text)
                return false;
        if (!takt_log_level_parse(text, &((struct takt_config *)base)->log_level))
                return cfg_error(ctx, cfg_line(value),
                                 "expected one of debug | info | warn | error, got '%s'", text);
        return true;
}

static const struct cfg_field log_fields[] = {{"level", h_log_level, 0, NULL}, CFG_END};

/* The order is the parse order; see the top of the file. */
static const struct cfg_field root_fields[] = {
    {"dialects_dir", cfg_h_dir, CFG_OFF(dialects_dir), NULL},
    {"listen", cfg_h_section, 0, listen_fields},
    {"admin", cfg_h_section, 0, admin_fields},
    {"metrics", h_metrics, 0, NULL},
    {"postgres", cfg_h_section, 0, postgres_fields},
    {"kafka", cfg_h_section, 0, kafka_fields},
    {"delivery", cfg_h_section, 0, delivery_fields},
    {"retention", cfg_h_section, 0, retention_fields},
    {"log", cfg_h_section, 0, log_fields},
    {"destinations", cfg_h_destinations, 0, NULL},
    {"plants", cfg_h_plants, 0, NULL},
    {"sources", cfg_h_sources, 0, NULL},
    CFG_END};

/* Sets cfg->path (absolute) and cfg->dir (its folder, symlinks resolved). */
static bool set_paths(struct cfg_ctx *ctx, const char *path)
{
        struct takt_config *cfg = ctx->cfg;
        cfg->path = realpath(path, NULL);
        if (!cfg->path)
                return cfg_error(ctx, 0, "cannot open: %s", strerror(errno));
        char *copy = strdup(cfg->path);
        if (!copy)
                return cfg_error(ctx, 0, "out of memory");
        cfg->dir = strdup(dirname(copy));
        free(copy);
        if (!cfg->dir)
                return cfg_error(ctx, 0, "out of memory");
        return true;
}

static bool set_defaults(struct cfg_ctx *ctx)
{
        struct takt_config *cfg = ctx->cfg;
        cfg->listen.port = 8470;
        cfg->listen.max_body = 1048576;
        cfg->postgres.migrate = TAKT_MIGRATE_MANUAL;
        cfg->delivery.shutdown_grace_ms = 10000;
        cfg->retention.delivered_ms = 7 * DAY_MS;
        cfg->retention.inbox_ms = 30 * DAY_MS;
        cfg->retention.trace_ms = 7 * DAY_MS;
        cfg->retention.interval_ms = 60 * 1000;
        cfg->log_level = TAKT_LOG_INFO;
        cfg->dialects_dir = cfg_resolve(ctx, "dialects");
        if (!cfg->dialects_dir)
                return cfg_error(ctx, 0, "out of memory");
        return cfg_set_string(ctx, &cfg->listen.address, "127.0.0.1", 0) &&
               cfg_set_string(ctx, &cfg->postgres.conninfo, "postgresql:///takt", 0) &&
               cfg_set_string(ctx, &cfg->kafka.brokers, "embedded", 0) &&
               cfg_set_string(ctx, &cfg->kafka.topic_prefix, "takt.", 0);
}

static bool apply_environment(struct cfg_ctx *ctx)
{
        const char *conninfo = getenv("TAKT_PG_CONNINFO");
        if (conninfo && conninfo[0])
                return cfg_set_string(ctx, &ctx->cfg->postgres.conninfo, conninfo, 0);
        return true;
}

static bool syntax_error(struct cfg_ctx *ctx, const yaml_parser_t *parser)
{
        const yaml_mark_t *mark = &parser->problem_mark;
        if (parser->context)
                return cfg_error(ctx, (int)mark->line + 1, "YAML syntax error: %s %s",
                                 parser->problem ? parser->problem : "unknown problem",
                                 parser->context);
        return cfg_error(ctx, (int)mark->line + 1, "YAML syntax error: %s",
                         parser->problem ? parser->problem : "unknown problem");
}

/* Parses the open file into doc (one document only). */
static bool load_document(struct cfg_ctx *ctx, FILE *fp, yaml_document_t *doc, bool *have_doc)
{
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return cfg_error(ctx, 0, "out of memory");
        yaml_parser_set_input_file(&parser, fp);
        bool ok = yaml_parser_load(&parser, doc);
        if (!ok) {
                syntax_error(ctx, &parser);
        } else {
                *have_doc = true;
                yaml_document_t next;
                if (!yaml_parser_load(&parser, &next)) {
                        ok = syntax_error(ctx, &parser);
                } else {
                        yaml_node_t *root = yaml_document_get_root_node(&next);
                        if (root)
                                ok = cfg_error(ctx, cfg_line(root),
                                               "only one YAML document is allowed");
                        yaml_document_delete(&next);
                }
        }
        yaml_parser_delete(&parser);
        return ok;
}

static bool parse_file(struct cfg_ctx *ctx, const char *path)
{
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return cfg_error(ctx, 0, "cannot open: %s", strerror(errno));
        yaml_document_t doc;
        bool have_doc = false;
        bool ok = load_document(ctx, fp, &doc, &have_doc);
        fclose(fp);
        if (ok) {
                ctx->doc = &doc;
                yaml_node_t *root = yaml_document_get_root_node(&doc);
                if (!root)
                        ok = cfg_error(ctx, 1, "the file is empty");
                else
                        ok = cfg_map(ctx, root, ctx->cfg, root_fields);
                if (ok)
                        cfg_link_destination_kinds(ctx);
                ctx->doc = NULL;
        }
        if (have_doc)
                yaml_document_delete(&doc);
        return ok;
}

struct takt_config *takt_config_load(const char *path, char *err, size_t errlen)
{
        struct takt_config *cfg = calloc(1, sizeof(*cfg));
        struct cfg_ctx ctx = {.file = path, .cfg = cfg, .err = err, .errlen = errlen};
        if (errlen > 0)
                err[0] = '\0';
        if (!cfg) {
                snprintf(err, errlen, "%s:0: out of memory", path);
                return NULL;
        }
        bool ok = set_paths(&ctx, path) && set_defaults(&ctx) && parse_file(&ctx, path) &&
                  apply_environment(&ctx);
        free(ctx.dest_kind_set);
        if (!ok) {
                takt_config_free(cfg);
                return NULL;
        }
        return cfg;
}

void takt_config_free(struct takt_config *cfg)
{
        if (!cfg)
                return;
        free(cfg->path);
        free(cfg->dir);
        free(cfg->listen.address);
        free(cfg->listen.tls_cert);
        free(cfg->listen.tls_key);
        free(cfg->listen.tls_client_ca);
        cfg_secret_free(&cfg->admin.token);
        free(cfg->postgres.conninfo);
        free(cfg->dialects_dir);
        free(cfg->kafka.brokers);
        free(cfg->kafka.topic_prefix);
        for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
                free(cfg->kafka.properties[i].key);
                free(cfg->kafka.properties[i].value);
        }
        free(cfg->kafka.properties);
        cfg_free_entities(cfg);
        free(cfg);
}

const struct takt_source *takt_config_source(const struct takt_config *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->n_sources; i++) {
                if (strcmp(cfg->sources[i].name, name) == 0)
                        return &cfg->sources[i];
        }
        return NULL;
}

const struct takt_destination *takt_config_destination(const struct takt_config *cfg,
                                                       const char *name)
{
        for (size_t i = 0; i < cfg->n_destinations; i++) {
                if (strcmp(cfg->destinations[i].name, name) == 0)
                        return &cfg->destinations[i];
        }
        return NULL;
}

const struct takt_plant *takt_config_plant(const struct takt_config *cfg, const char *code)
{
        for (size_t i = 0; i < cfg->n_plants; i++) {
                if (strcmp(cfg->plants[i].code, code) == 0)
                        return &cfg->plants[i];
        }
        return NULL;
}
