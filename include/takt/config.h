/* config.h — the YAML configuration (contract §5) as typed structs.
 *
 * takt_config_load() parses and validates one file completely; on any error
 * it returns NULL and writes "FILE:LINE: message" into err. A loaded config is
 * immutable and owned by whoever loaded it (free with takt_config_free()).
 * Every relative path in the file resolves against the file's folder.
 * Secrets are read at load time; they are never logged or printed. */
#ifndef TAKT_CONFIG_H
#define TAKT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "takt/log.h"

enum takt_system_kind { TAKT_KIND_NONE, TAKT_KIND_ERP, TAKT_KIND_MES };
enum takt_dest_type { TAKT_DEST_HTTP, TAKT_DEST_KAFKA };
enum takt_completion { TAKT_COMPLETION_OPERATION, TAKT_COMPLETION_ORDER };
enum takt_scrap { TAKT_SCRAP_EMBEDDED, TAKT_SCRAP_SEPARATE };
enum takt_migrate { TAKT_MIGRATE_MANUAL, TAKT_MIGRATE_AUTO };

/* A secret loaded from a file (trailing newline stripped) or an environment
 * variable. value is NULL when not configured. */
struct takt_secret {
        char *value; /* owned, NUL-terminated */
        size_t len;
};

/* Credentials: a bearer token and/or an HMAC secret (keys token_file,
 * token_env, hmac_secret_file, hmac_secret_env). */
struct takt_auth {
        struct takt_secret token;
        struct takt_secret hmac_secret;
};

struct takt_source {
        char *name;
        enum takt_system_kind kind; /* erp | mes (required) */
        char *dialect;              /* "canonical" (default) or a file in dialects_dir */
        char *plant;                /* required for mes, NULL for erp */
        struct takt_auth auth;      /* at least one credential is required */
        int line;                   /* line of the source's key in the file */
};

struct takt_retry {
        uint64_t initial_ms;   /* default 500ms */
        uint64_t max_ms;       /* default 5m */
        unsigned max_attempts; /* default 20 */
};

struct takt_breaker {
        unsigned failures; /* consecutive failures that open it; default 5 */
        uint64_t open_ms;  /* how long it stays open before a probe; default 30s */
};

struct takt_destination {
        char *name;
        enum takt_dest_type type;
        /* The system behind it: "kind: erp|mes"; defaults to the kind of the
         * source with the same name, else TAKT_KIND_NONE (event streams). */
        enum takt_system_kind kind;
        char *dialect; /* default "canonical" */
        /* http */
        char *url;              /* required for http */
        char *ca_file;          /* optional, resolved path */
        uint64_t timeout_ms;    /* takt_dest_timeout_ms() */
        unsigned max_in_flight; /* takt_dest_max_in_flight() */
        struct takt_retry retry;
        struct takt_breaker breaker;
        struct takt_auth auth; /* optional credentials sent to the destination */
        /* kafka */
        char *topic; /* required for kafka (without prefix) */
        int line;
};

/* The defaults of a destination's limits. The parser fills them in; these
 * also cover a destination built in code with the fields left zero. */
#define TAKT_DEST_DEFAULT_TIMEOUT_MS    5000
#define TAKT_DEST_DEFAULT_MAX_IN_FLIGHT 16

static inline uint64_t takt_dest_timeout_ms(const struct takt_destination *d)
{
        return d->timeout_ms ? d->timeout_ms : TAKT_DEST_DEFAULT_TIMEOUT_MS;
}

static inline unsigned takt_dest_max_in_flight(const struct takt_destination *d)
{
        return d->max_in_flight ? d->max_in_flight : TAKT_DEST_DEFAULT_MAX_IN_FLIGHT;
}

struct takt_route {
        char *glob;           /* canonical type glob: '*' and '?' */
        size_t *destinations; /* owned; indices into config->destinations */
        size_t n_destinations;
        int line;
};

struct takt_sla {
        uint64_t acknowledge_ms;      /* 0 = no deadline */
        uint64_t erp_confirmation_ms; /* 0 = no deadline */
};

struct takt_plant {
        char *code;
        enum takt_completion completion; /* default operation */
        enum takt_scrap scrap;           /* default embedded */
        struct takt_sla sla;
        struct takt_route *routes; /* owned, in file order, at least one */
        size_t n_routes;
        int line;
};

struct takt_kv {
        char *key;
        char *value;
};

struct takt_config {
        char *path; /* absolute path of the file */
        char *dir;  /* its folder: the base of relative paths */
        struct {
                char *address;   /* default 127.0.0.1 */
                uint16_t port;   /* default 8470 */
                size_t max_body; /* default 1048576; accepts 1048576, 512k, 1m */
                char *tls_cert;  /* optional (listen.tls.cert), resolved */
                char *tls_key;   /* required with tls_cert */
                char *tls_client_ca;
        } listen;
        struct {
                struct takt_secret token;
        } admin;
        struct {
                bool auth; /* metrics.auth: true requires the admin token; default false */
        } metrics;
        struct {
                char *conninfo; /* default "postgresql:///takt"; env TAKT_PG_CONNINFO overrides */
                enum takt_migrate migrate;
        } postgres;
        char *dialects_dir; /* resolved; default "<dir>/dialects" */
        struct {
                char *brokers;              /* "embedded" or "host:port,..."; default embedded */
                char *topic_prefix;         /* default "takt." */
                struct takt_kv *properties; /* passed to librdkafka as is */
                size_t n_properties;
        } kafka;
        struct {
                uint64_t shutdown_grace_ms; /* delivery.shutdown_grace, default 10s */
        } delivery;
        /* retention: how long finished rows are kept, 0 = forever
         * (docs/storage.md "Retention"). Pending, held and failed outbox
         * messages, work orders and open orders' inbox records are never
         * pruned. */
        struct {
                uint64_t delivered_ms; /* delivered outbox messages, from delivery; default 7d */
                uint64_t inbox_ms;     /* inbox records of finished orders; default 30d */
                uint64_t trace_ms;     /* trace rows; default 7d */
                uint64_t interval_ms;  /* between prune rounds when caught up; default 1m */
        } retention;
        enum takt_log_level log_level; /* log.level, default info */

        struct takt_source *sources;
        size_t n_sources;
        struct takt_destination *destinations;
        size_t n_destinations;
        struct takt_plant *plants;
        size_t n_plants;
};

/* Load and validate path. Returns NULL and writes "FILE:LINE: message" to err
 * on failure (FILE as given; LINE 0 when the file cannot be opened). Reads the
 * environment (secrets, TAKT_PG_CONNINFO); no other side effects, so a reload
 * may call it while the old config is in use. docs/configuration.md lists
 * every key. */
struct takt_config *takt_config_load(const char *path, char *err, size_t errlen);
void takt_config_free(struct takt_config *cfg);

/* Lookups by name; NULL when absent. Pointers live as long as cfg. */
const struct takt_source *takt_config_source(const struct takt_config *cfg, const char *name);
const struct takt_destination *takt_config_destination(const struct takt_config *cfg,
                                                       const char *name);
const struct takt_plant *takt_config_plant(const struct takt_config *cfg, const char *code);

/* Parses "500ms", "30s", "5m", "2h", "1d" (and a bare number of seconds).
 * Returns false on anything else. */
bool takt_parse_duration_ms(const char *text, uint64_t *out_ms);
/* Parses "1048576", "512k", "1m", "1g" (binary multiples). */
bool takt_parse_size(const char *text, size_t *out);

#endif
