/* config_entities.c — the named sections of the config: sources,
 * destinations and plants (with their routes). Each entry is parsed against a
 * field table and then checked as a whole (required keys, keys that only fit
 * one kind or type). Cross references are resolved here too: routes name
 * destinations, MES sources name plants; the root table parses destinations,
 * then plants, then sources, so each reference points backwards. */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

static const struct cfg_enum system_kinds[] = {
    {"erp", TAKT_KIND_ERP}, {"mes", TAKT_KIND_MES}, CFG_ENUM_END};
static const struct cfg_enum dest_types[] = {
    {"http", TAKT_DEST_HTTP}, {"kafka", TAKT_DEST_KAFKA}, CFG_ENUM_END};
static const struct cfg_enum completions[] = {
    {"operation", TAKT_COMPLETION_OPERATION}, {"order", TAKT_COMPLETION_ORDER}, CFG_ENUM_END};
static const struct cfg_enum scraps[] = {
    {"embedded", TAKT_SCRAP_EMBEDDED}, {"separate", TAKT_SCRAP_SEPARATE}, CFG_ENUM_END};

_Static_assert(sizeof(enum takt_system_kind) == sizeof(int), "cfg_h_enum stores an int");
_Static_assert(sizeof(enum takt_dest_type) == sizeof(int), "cfg_h_enum stores an int");
_Static_assert(sizeof(enum takt_completion) == sizeof(int), "cfg_h_enum stores an int");
_Static_assert(sizeof(enum takt_scrap) == sizeof(int), "cfg_h_enum stores an int");

/* The credential keys shared by sources and destinations. */
#define CFG_AUTH_FIELDS(type)                                                                      \
        {"token_file", cfg_h_secret_file, offsetof(type, auth.token), NULL},                       \
            {"token_env", cfg_h_secret_env, offsetof(type, auth.token), NULL},                     \
            {"hmac_secret_file", cfg_h_secret_file, offsetof(type, auth.hmac_secret), NULL},       \
        {                                                                                          \
                "hmac_secret_env", cfg_h_secret_env, offsetof(type, auth.hmac_secret), NULL        \
        }

/* ---- generic: a mapping of name -> entry ---- */

typedef bool (*entry_parser)(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                             void *elem);

/* Allocates *array with one zeroed element per key of value and parses them
 * in file order. *count grows before each parse, so a half-parsed element is
 * still freed by cfg_free_entities(). */
static bool parse_entries(struct cfg_ctx *ctx, const yaml_node_t *value, size_t elem_size,
                          void **array, size_t *count, entry_parser parse)
{
        if (!cfg_check_mapping(ctx, value))
                return false;
        size_t n = cfg_mapping_size(value);
        *array = calloc(n ? n : 1, elem_size);
        if (!*array)
                return cfg_error(ctx, cfg_line(value), "out of memory");
        for (const yaml_node_pair_t *p = value->data.mapping.pairs.start;
             p < value->data.mapping.pairs.top; p++) {
                const yaml_node_t *key = cfg_node(ctx, p->key);
                const char *name = (const char *)key->data.scalar.value;
                if (!cfg_valid_name(name))
                        return cfg_error(ctx, cfg_line(key),
                                         "invalid name '%s' (1-64 letters, digits, '.', '_', '-')",
                                         name);
                void *elem = (char *)*array + elem_size * (*count)++;
                size_t mark = cfg_path_push(ctx, name);
                bool ok = parse(ctx, key, cfg_node(ctx, p->value), elem);
                cfg_path_pop(ctx, mark);
                if (!ok)
                        return false;
        }
        return true;
}

static bool has_credential(const struct takt_auth *a)
{
        return a->token.value || a->hmac_secret.value;
}

static void free_auth(struct takt_auth *a)
{
        cfg_secret_free(&a->token);
        cfg_secret_free(&a->hmac_secret);
}

/* ---- sources ---- */

static bool h_source_plant(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                           void *base, const struct cfg_field *f)
{
        struct takt_source *s = base;
        if (s->kind == TAKT_KIND_ERP)
                return cfg_error(ctx, cfg_line(key),
                                 "an ERP source serves every plant; remove 'plant'");
        const char *code = cfg_scalar(ctx, value);
        if (!code)
                return false;
        if (!takt_config_plant(ctx->cfg, code))
                return cfg_error(ctx, cfg_line(value), "plant '%s' is not defined under plants",
                                 code);
        return cfg_set_string(ctx, &s->plant, code, cfg_line(value));
}

static const struct cfg_field source_fields[] = {
    {"kind", cfg_h_enum, offsetof(struct takt_source, kind), system_kinds},
    {"dialect", cfg_h_dialect, offsetof(struct takt_source, dialect), NULL},
    {"plant", h_source_plant, 0, NULL},
    CFG_AUTH_FIELDS(struct takt_source),
    CFG_END};

static bool parse_source(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                         void *elem)
{
        struct takt_source *s = elem;
        int line = cfg_line(key);
        s->line = line;
        s->kind = TAKT_KIND_NONE;
        if (!cfg_set_string(ctx, &s->name, (const char *)key->data.scalar.value, line) ||
            !cfg_set_string(ctx, &s->dialect, "canonical", line) ||
            !cfg_map(ctx, value, s, source_fields))
                return false;
        if (s->kind == TAKT_KIND_NONE)
                return cfg_error(ctx, line, "missing required key 'kind' (erp | mes)");
        if (s->kind == TAKT_KIND_MES && !s->plant)
                return cfg_error(ctx, line, "an MES source needs 'plant'");
        if (!has_credential(&s->auth))
                return cfg_error(ctx, line,
                                 "needs a credential: token_file, token_env, hmac_secret_file "
                                 "or hmac_secret_env");
        return true;
}

bool cfg_h_sources(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                   void *base, const struct cfg_field *f)
{
        struct takt_config *cfg = ctx->cfg;
        return parse_entries(ctx, value, sizeof(*cfg->sources), (void **)&cfg->sources,
                             &cfg->n_sources, parse_source);
}

/* ---- destinations ---- */

static const struct cfg_field retry_fields[] = {
    {"initial", cfg_h_duration, offsetof(struct takt_retry, initial_ms), NULL},
    {"max", cfg_h_duration, offsetof(struct takt_retry, max_ms), NULL},
    {"max_attempts", cfg_h_count, offsetof(struct takt_retry, max_attempts), NULL},
    CFG_END};

static const struct cfg_field breaker_fields[] = {
    {"failures", cfg_h_count, offsetof(struct takt_breaker, failures), NULL},
    {"open", cfg_h_duration, offsetof(struct takt_breaker, open_ms), NULL},
    CFG_END};

static const struct cfg_field destination_fields[] = {
    {"type", cfg_h_enum, offsetof(struct takt_destination, type), dest_types},
    {"kind", cfg_h_enum, offsetof(struct takt_destination, kind), system_kinds},
    {"dialect", cfg_h_dialect, offsetof(struct takt_destination, dialect), NULL},
    {"url", cfg_h_string, offsetof(struct takt_destination, url), NULL},
    {"ca_file", cfg_h_file, offsetof(struct takt_destination, ca_file), NULL},
    {"timeout", cfg_h_duration, offsetof(struct takt_destination, timeout_ms), NULL},
    {"max_in_flight", cfg_h_count, offsetof(struct takt_destination, max_in_flight), NULL},
    {"retry", cfg_h_section, offsetof(struct takt_destination, retry), retry_fields},
    {"breaker", cfg_h_section, offsetof(struct takt_destination, breaker), breaker_fields},
    {"topic", cfg_h_string, offsetof(struct takt_destination, topic), NULL},
    CFG_AUTH_FIELDS(struct takt_destination),
    CFG_END};

static bool check_http_destination(struct cfg_ctx *ctx, const struct takt_destination *d)
{
        if (!d->url)
                return cfg_error(ctx, d->line, "an http destination needs 'url'");
        if (strncmp(d->url, "http://", 7) != 0 && strncmp(d->url, "https://", 8) != 0)
                return cfg_error(ctx, d->line, "url must start with http:// or https://");
        if (d->topic)
                return cfg_error(ctx, d->line, "'topic' is for kafka destinations only");
        return true;
}

static bool check_kafka_destination(struct cfg_ctx *ctx, const struct takt_destination *d)
{
        if (!d->topic)
                return cfg_error(ctx, d->line, "a kafka destination needs 'topic'");
        if (!cfg_valid_name(d->topic))
                return cfg_error(ctx, d->line,
                                 "invalid topic '%s' (1-64 letters, digits, '.', '_', '-')",
                                 d->topic);
        if (d->url || d->ca_file)
                return cfg_error(ctx, d->line,
                                 "'url' and 'ca_file' are for http destinations only");
        return true;
}

static bool parse_destination(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                              void *elem)
{
        struct takt_destination *d = elem;
        struct takt_config *cfg = ctx->cfg;
        int line = cfg_line(key);
        d->line = line;
        d->kind = TAKT_KIND_NONE;
        d->timeout_ms = TAKT_DEST_DEFAULT_TIMEOUT_MS;
        d->max_in_flight = TAKT_DEST_DEFAULT_MAX_IN_FLIGHT;
        d->retry =
            (struct takt_retry){.initial_ms = 500, .max_ms = 5 * 60 * 1000, .max_attempts = 20};
        d->breaker = (struct takt_breaker){.failures = 5, .open_ms = 30 * 1000};
        if (!cfg_set_string(ctx, &d->name, (const char *)key->data.scalar.value, line) ||
            !cfg_set_string(ctx, &d->dialect, "canonical", line) ||
            !cfg_map(ctx, value, d, destination_fields))
                return false;
        ctx->dest_kind_set[cfg->n_destinations - 1] = cfg_has_key(ctx, value, "kind");
        if (!cfg_has_key(ctx, value, "type"))
                return cfg_error(ctx, line, "missing required key 'type' (http | kafka)");
        if (d->timeout_ms == 0 || d->retry.initial_ms == 0 || d->breaker.open_ms == 0)
                return cfg_error(ctx, line, "timeout, retry.initial and breaker.open must be > 0");
        if (d->retry.initial_ms > d->retry.max_ms)
                return cfg_error(ctx, line, "retry.initial must not exceed retry.max");
        return d->type == TAKT_DEST_HTTP ? check_http_destination(ctx, d)
                                         : check_kafka_destination(ctx, d);
}

bool cfg_h_destinations(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                        void *base, const struct cfg_field *f)
{
        struct takt_config *cfg = ctx->cfg;
        if (value->type == YAML_MAPPING_NODE) {
                ctx->dest_kind_set = calloc(cfg_mapping_size(value) + 1, sizeof(bool));
                if (!ctx->dest_kind_set)
                        return cfg_error(ctx, cfg_line(value), "out of memory");
        }
        return parse_entries(ctx, value, sizeof(*cfg->destinations), (void **)&cfg->destinations,
                             &cfg->n_destinations, parse_destination);
}

void cfg_link_destination_kinds(struct cfg_ctx *ctx)
{
        struct takt_config *cfg = ctx->cfg;
        for (size_t i = 0; i < cfg->n_destinations; i++) {
                struct takt_destination *d = &cfg->destinations[i];
                if (ctx->dest_kind_set && ctx->dest_kind_set[i])
                        continue;
                const struct takt_source *s = takt_config_source(cfg, d->name);
                d->kind = s ? s->kind : TAKT_KIND_NONE;
        }
}

/* ---- plants and routes ---- */

static bool valid_glob(const char *glob)
{
        for (const char *c = glob; *c; c++) {
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '*' || *c == '?'))
                        return false;
        }
        return glob[0] != '\0';
}

static bool destination_index(const struct takt_config *cfg, const char *name, size_t *out)
{
        for (size_t i = 0; i < cfg->n_destinations; i++) {
                if (strcmp(cfg->destinations[i].name, name) == 0)
                        return *out = i, true;
        }
        return false;
}

static bool parse_route(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                        struct takt_route *r)
{
        r->line = cfg_line(key);
        const char *glob = (const char *)key->data.scalar.value;
        if (!valid_glob(glob))
                return cfg_error(ctx, r->line,
                                 "invalid type glob (letters, digits, '.', '_', '*', '?')");
        if (!cfg_set_string(ctx, &r->glob, glob, r->line))
                return false;
        if (value->type != YAML_SEQUENCE_NODE)
                return cfg_error(ctx, cfg_line(value), "expected a list of destinations");
        size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
        if (n == 0)
                return cfg_error(ctx, cfg_line(value), "the route lists no destinations");
        r->destinations = calloc(n, sizeof(*r->destinations));
        if (!r->destinations)
                return cfg_error(ctx, r->line, "out of memory");
        for (const yaml_node_item_t *it = value->data.sequence.items.start;
             it < value->data.sequence.items.top; it++) {
                const yaml_node_t *item = cfg_node(ctx, *it);
                const char *name = cfg_scalar(ctx, item);
                size_t idx;
                if (!name)
                        return false;
                if (!destination_index(ctx->cfg, name, &idx))
                        return cfg_error(ctx, cfg_line(item),
                                         "destination '%s' is not defined under destinations",
                                         name);
                for (size_t j = 0; j < r->n_destinations; j++) {
                        if (r->destinations[j] == idx)
                                return cfg_error(ctx, cfg_line(item),
                                                 "destination '%s' is listed twice", name);
                }
                r->destinations[r->n_destinations++] = idx;
        }
        return true;
}

static bool h_routes(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                     void *base, const struct cfg_field *f)
{
        struct takt_plant *p = base;
        if (!cfg_check_mapping(ctx, value))
                return false;
        size_t n = cfg_mapping_size(value);
        if (n == 0)
                return cfg_error(ctx, cfg_line(key), "a plant needs at least one route");
        p->routes = calloc(n, sizeof(*p->routes));
        if (!p->routes)
                return cfg_error(ctx, cfg_line(key), "out of memory");
        for (const yaml_node_pair_t *pr = value->data.mapping.pairs.start;
             pr < value->data.mapping.pairs.top; pr++) {
                const yaml_node_t *k = cfg_node(ctx, pr->key);
                size_t mark = cfg_path_push(ctx, (const char *)k->data.scalar.value);
                bool ok = parse_route(ctx, k, cfg_node(ctx, pr->value), &p->routes[p->n_routes++]);
                cfg_path_pop(ctx, mark);
                if (!ok)
                        return false;
        }
        return true;
}

static const struct cfg_field sla_fields[] = {
    {"acknowledge", cfg_h_duration, offsetof(struct takt_sla, acknowledge_ms), NULL},
    {"erp_confirmation", cfg_h_duration, offsetof(struct takt_sla, erp_confirmation_ms), NULL},
    CFG_END};

static const struct cfg_field plant_fields[] = {
    {"completion", cfg_h_enum, offsetof(struct takt_plant, completion), completions},
    {"scrap", cfg_h_enum, offsetof(struct takt_plant, scrap), scraps},
    {"sla", cfg_h_section, offsetof(struct takt_plant, sla), sla_fields},
    {"routes", h_routes, 0, NULL},
    CFG_END};

static bool parse_plant(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                        void *elem)
{
        struct takt_plant *p = elem;
        p->line = cfg_line(key);
        p->completion = TAKT_COMPLETION_OPERATION;
        p->scrap = TAKT_SCRAP_EMBEDDED;
        if (!cfg_set_string(ctx, &p->code, (const char *)key->data.scalar.value, p->line) ||
            !cfg_map(ctx, value, p, plant_fields))
                return false;
        if (p->n_routes == 0)
                return cfg_error(ctx, p->line, "missing required key 'routes'");
        return true;
}

bool cfg_h_plants(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value, void *base,
                  const struct cfg_field *f)
{
        struct takt_config *cfg = ctx->cfg;
        return parse_entries(ctx, value, sizeof(*cfg->plants), (void **)&cfg->plants,
                             &cfg->n_plants, parse_plant);
}

void cfg_free_entities(struct takt_config *cfg)
{
        for (size_t i = 0; i < cfg->n_sources; i++) {
                struct takt_source *s = &cfg->sources[i];
                free(s->name);
                free(s->dialect);
                free(s->plant);
                free_auth(&s->auth);
        }
        free(cfg->sources);
        for (size_t i = 0; i < cfg->n_destinations; i++) {
                struct takt_destination *d = &cfg->destinations[i];
                free(d->name);
                free(d->dialect);
                free(d->url);
                free(d->ca_file);
                free(d->topic);
                free_auth(&d->auth);
        }
        free(cfg->destinations);
        for (size_t i = 0; i < cfg->n_plants; i++) {
                struct takt_plant *p = &cfg->plants[i];
                for (size_t j = 0; j < p->n_routes; j++) {
                        free(p->routes[j].glob);
                        free(p->routes[j].destinations);
                }
                free(p->routes);
                free(p->code);
        }
        free(cfg->plants);
}
