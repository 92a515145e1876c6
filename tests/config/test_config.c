/* test_config.c — takt_config_load() against inline YAML written to a
 * temporary folder: a full valid config with every field checked, defaults,
 * every error class ("FILE:LINE: message", exact line), durations and sizes,
 * relative path resolution, secret files, the TAKT_PG_CONNINFO override, and
 * the shipped conf/taktd.yaml with conf/demo.env. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "takt/config.h"

struct fixture {
        char dir[64];        /* temp folder, removed in teardown */
        char file[PATH_MAX]; /* <dir>/taktd.yaml */
        char err[1024];
};

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
}

static void make_dir(const char *dir, const char *name)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(mkdir(path, 0700), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "/tmp/takt-config-XXXXXX");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        snprintf(f->file, sizeof(f->file), "%s/taktd.yaml", f->dir);
        make_dir(f->dir, "dialects");
        write_file(f->dir, "dialects/sap-s4.yaml", "name: sap-s4\n");
        write_file(f->dir, "dialects/legacy-mes.yaml", "name: legacy-mes\n");
        write_file(f->dir, "s.token", "file-secret\n\n");
        write_file(f->dir, "crlf.token", "crlf-secret\r\n");
        write_file(f->dir, "empty.token", "\n");
        setenv("TAKT_T_TOKEN", "env-secret", 1);
        setenv("TAKT_T_HMAC", "env-hmac", 1);
        unsetenv("TAKT_T_UNSET");
        unsetenv("TAKT_PG_CONNINFO");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        int rc = system(cmd);
        free(f);
        return rc == 0 ? 0 : -1;
}

static struct takt_config *load(struct fixture *f, const char *yaml)
{
        write_file(f->dir, "taktd.yaml", yaml);
        f->err[0] = '\0';
        return takt_config_load(f->file, f->err, sizeof(f->err));
}

/* Lines 1-2: one http destination d1. */
#define BASE_DEST "destinations:\n  d1: {type: http, url: \"http://127.0.0.1:9/x\"}\n"
/* Four lines: plant P1 routing everything to d1. */
#define BASE_PLANT "plants:\n  P1:\n    routes:\n      \"*\": [d1]\n"

/* ---- a full valid config ---- */

static const char full_yaml[] =
    "# every key once\n"
    "listen:\n"
    "  address: 127.0.0.2\n"
    "  port: 9000\n"
    "  max_body: 512k\n"
    "  tls: {cert: tls/c.pem, key: tls/k.pem, client_ca: tls/ca.pem}\n"
    "admin: {token_file: s.token}\n"
    "metrics: {auth: true}\n"
    "postgres: {conninfo: \"host=127.0.0.1 dbname=t\", migrate: auto}\n"
    "dialects_dir: dialects\n"
    "kafka:\n"
    "  brokers: \"127.0.0.1:9092\"\n"
    "  topic_prefix: \"\"\n"
    "  properties: {linger.ms: 5, \"compression.type\": lz4}\n"
    "delivery: {shutdown_grace: 3s}\n"
    "log: {level: debug}\n"
    "sources:\n"
    "  s4: {kind: erp, dialect: sap-s4, token_env: TAKT_T_TOKEN}\n"
    "  mes-de01: {kind: mes, plant: DE01, token_file: s.token, hmac_secret_env: TAKT_T_HMAC}\n"
    "  mes-pl02: {kind: mes, dialect: legacy-mes, plant: PL02, hmac_secret_file: crlf.token}\n"
    "destinations:\n"
    "  mes-de01:\n"
    "    type: http\n"
    "    url: \"https://127.0.0.1:8443/orders\"\n"
    "    dialect: canonical\n"
    "    ca_file: tls/ca.pem\n"
    "    timeout: 2s\n"
    "    max_in_flight: 4\n"
    "    retry: {initial: 100ms, max: 1m, max_attempts: 7}\n"
    "    breaker: {failures: 3, open: 1m}\n"
    "    token_env: TAKT_T_TOKEN\n"
    "  s4: {type: http, url: \"http://127.0.0.1:9/s4\", dialect: sap-s4}\n"
    "  events: {type: kafka, topic: plant-events}\n"
    "  qms: {type: http, url: \"http://127.0.0.1:9/q\", kind: mes}\n"
    "plants:\n"
    "  DE01:\n"
    "    completion: operation\n"
    "    scrap: embedded\n"
    "    sla: {acknowledge: 30s, erp_confirmation: 2m}\n"
    "    routes:\n"
    "      \"work_order.*\": [mes-de01, events]\n"
    "      \"operation.confirmed\": [s4, events]\n"
    "  PL02:\n"
    "    completion: order\n"
    "    scrap: separate\n"
    "    routes: {\"*\": [events]}\n"
    "retention: {delivered: 36h, inbox: forever, trace: 2d, interval: 30s}\n";

static void test_full_config(void **state)
{
        struct fixture *f = *state;
        make_dir(f->dir, "tls");
        write_file(f->dir, "tls/c.pem", "c");
        write_file(f->dir, "tls/k.pem", "k");
        write_file(f->dir, "tls/ca.pem", "ca");
        struct takt_config *cfg = load(f, full_yaml);
        assert_non_null(cfg);
        char real[PATH_MAX], want[PATH_MAX + 64];
        assert_non_null(realpath(f->dir, real));
        assert_string_equal(cfg->dir, real);
        snprintf(want, sizeof(want), "%s/taktd.yaml", real);
        assert_string_equal(cfg->path, want);

        assert_string_equal(cfg->listen.address, "127.0.0.2");
        assert_int_equal(cfg->listen.port, 9000);
        assert_int_equal(cfg->listen.max_body, 512 * 1024);
        snprintf(want, sizeof(want), "%s/tls/c.pem", real);
        assert_string_equal(cfg->listen.tls_cert, want);
        snprintf(want, sizeof(want), "%s/tls/k.pem", real);
        assert_string_equal(cfg->listen.tls_key, want);
        snprintf(want, sizeof(want), "%s/tls/ca.pem", real);
        assert_string_equal(cfg->listen.tls_client_ca, want);
        assert_string_equal(cfg->admin.token.value, "file-secret");
        assert_int_equal(cfg->admin.token.len, 11);
        assert_true(cfg->metrics.auth);
        assert_string_equal(cfg->postgres.conninfo, "host=127.0.0.1 dbname=t");
        assert_int_equal(cfg->postgres.migrate, TAKT_MIGRATE_AUTO);
        snprintf(want, sizeof(want), "%s/dialects", real);
        assert_string_equal(cfg->dialects_dir, want);
        assert_string_equal(cfg->kafka.brokers, "127.0.0.1:9092");
        assert_string_equal(cfg->kafka.topic_prefix, "");
        assert_int_equal(cfg->kafka.n_properties, 2);
        assert_string_equal(cfg->kafka.properties[0].key, "linger.ms");
        assert_string_equal(cfg->kafka.properties[0].value, "5");
        assert_string_equal(cfg->kafka.properties[1].key, "compression.type");
        assert_string_equal(cfg->kafka.properties[1].value, "lz4");
        assert_int_equal(cfg->delivery.shutdown_grace_ms, 3000);
        assert_int_equal(cfg->retention.delivered_ms, 36 * 3600 * 1000);
        assert_int_equal(cfg->retention.inbox_ms, 0); /* forever */
        assert_int_equal(cfg->retention.trace_ms, 2 * 86400 * 1000);
        assert_int_equal(cfg->retention.interval_ms, 30000);
        assert_int_equal(cfg->log_level, TAKT_LOG_DEBUG);

        assert_int_equal(cfg->n_sources, 3);
        const struct takt_source *s4 = takt_config_source(cfg, "s4");
        assert_ptr_equal(s4, &cfg->sources[0]);
        assert_int_equal(s4->kind, TAKT_KIND_ERP);
        assert_string_equal(s4->dialect, "sap-s4");
        assert_null(s4->plant);
        assert_string_equal(s4->auth.token.value, "env-secret");
        assert_null(s4->auth.hmac_secret.value);
        assert_int_equal(s4->line, 18);
        const struct takt_source *de = takt_config_source(cfg, "mes-de01");
        assert_int_equal(de->kind, TAKT_KIND_MES);
        assert_string_equal(de->dialect, "canonical");
        assert_string_equal(de->plant, "DE01");
        assert_string_equal(de->auth.token.value, "file-secret");
        assert_string_equal(de->auth.hmac_secret.value, "env-hmac");
        const struct takt_source *pl = takt_config_source(cfg, "mes-pl02");
        assert_string_equal(pl->dialect, "legacy-mes");
        assert_string_equal(pl->auth.hmac_secret.value, "crlf-secret");
        assert_int_equal(pl->auth.hmac_secret.len, 11);
        assert_null(takt_config_source(cfg, "nope"));

        assert_int_equal(cfg->n_destinations, 4);
        const struct takt_destination *d = takt_config_destination(cfg, "mes-de01");
        assert_ptr_equal(d, &cfg->destinations[0]);
        assert_int_equal(d->line, 22);
        assert_int_equal(d->type, TAKT_DEST_HTTP);
        assert_int_equal(d->kind, TAKT_KIND_MES); /* from the source of the same name */
        assert_string_equal(d->url, "https://127.0.0.1:8443/orders");
        snprintf(want, sizeof(want), "%s/tls/ca.pem", real);
        assert_string_equal(d->ca_file, want);
        assert_int_equal(d->timeout_ms, 2000);
        assert_int_equal(d->max_in_flight, 4);
        assert_int_equal(d->retry.initial_ms, 100);
        assert_int_equal(d->retry.max_ms, 60000);
        assert_int_equal(d->retry.max_attempts, 7);
        assert_int_equal(d->breaker.failures, 3);
        assert_int_equal(d->breaker.open_ms, 60000);
        assert_string_equal(d->auth.token.value, "env-secret");
        d = takt_config_destination(cfg, "s4");
        assert_int_equal(d->kind, TAKT_KIND_ERP);
        assert_string_equal(d->dialect, "sap-s4");
        d = takt_config_destination(cfg, "events");
        assert_int_equal(d->type, TAKT_DEST_KAFKA);
        assert_int_equal(d->kind, TAKT_KIND_NONE);
        assert_string_equal(d->topic, "plant-events");
        assert_null(d->url);
        assert_int_equal(takt_config_destination(cfg, "qms")->kind, TAKT_KIND_MES);
        assert_null(takt_config_destination(cfg, "nope"));

        assert_int_equal(cfg->n_plants, 2);
        const struct takt_plant *p = takt_config_plant(cfg, "DE01");
        assert_int_equal(p->line, 36);
        assert_int_equal(p->completion, TAKT_COMPLETION_OPERATION);
        assert_int_equal(p->scrap, TAKT_SCRAP_EMBEDDED);
        assert_int_equal(p->sla.acknowledge_ms, 30000);
        assert_int_equal(p->sla.erp_confirmation_ms, 120000);
        assert_int_equal(p->n_routes, 2);
        assert_string_equal(p->routes[0].glob, "work_order.*");
        assert_int_equal(p->routes[0].line, 41);
        assert_int_equal(p->routes[0].n_destinations, 2);
        assert_int_equal(p->routes[0].destinations[0], 0);
        assert_int_equal(p->routes[0].destinations[1], 2);
        assert_string_equal(p->routes[1].glob, "operation.confirmed");
        assert_int_equal(p->routes[1].destinations[0], 1);
        p = takt_config_plant(cfg, "PL02");
        assert_int_equal(p->completion, TAKT_COMPLETION_ORDER);
        assert_int_equal(p->scrap, TAKT_SCRAP_SEPARATE);
        assert_int_equal(p->sla.acknowledge_ms, 0);
        assert_int_equal(p->n_routes, 1);
        assert_null(takt_config_plant(cfg, "XX01"));
        takt_config_free(cfg);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
        struct fixture *f = *state;
        struct takt_config *cfg = load(f, "destinations:\n"
                                          "  h: {type: http, url: \"http://127.0.0.1:9/\"}\n");
        assert_non_null(cfg);
        assert_string_equal(cfg->listen.address, "127.0.0.1");
        assert_int_equal(cfg->listen.port, 8470);
        assert_int_equal(cfg->listen.max_body, 1048576);
        assert_null(cfg->listen.tls_cert);
        assert_null(cfg->listen.tls_key);
        assert_null(cfg->listen.tls_client_ca);
        assert_null(cfg->admin.token.value);
        assert_false(cfg->metrics.auth);
        assert_string_equal(cfg->postgres.conninfo, "postgresql:///takt");
        assert_int_equal(cfg->postgres.migrate, TAKT_MIGRATE_MANUAL);
        char want[PATH_MAX + 16];
        snprintf(want, sizeof(want), "%s/dialects", cfg->dir);
        assert_string_equal(cfg->dialects_dir, want);
        assert_string_equal(cfg->kafka.brokers, "embedded");
        assert_string_equal(cfg->kafka.topic_prefix, "takt.");
        assert_int_equal(cfg->kafka.n_properties, 0);
        assert_int_equal(cfg->delivery.shutdown_grace_ms, 10000);
        assert_int_equal(cfg->retention.delivered_ms, 7 * 86400 * 1000);
        assert_int_equal(cfg->retention.inbox_ms, 30ULL * 86400 * 1000);
        assert_int_equal(cfg->retention.trace_ms, 7 * 86400 * 1000);
        assert_int_equal(cfg->retention.interval_ms, 60000);
        assert_int_equal(cfg->log_level, TAKT_LOG_INFO);
        assert_int_equal(cfg->n_sources, 0);
        assert_int_equal(cfg->n_plants, 0);
        const struct takt_destination *d = &cfg->destinations[0];
        assert_int_equal(d->kind, TAKT_KIND_NONE);
        assert_string_equal(d->dialect, "canonical");
        assert_int_equal(d->timeout_ms, 5000);
        assert_int_equal(d->max_in_flight, 16);
        assert_int_equal(d->retry.initial_ms, 500);
        assert_int_equal(d->retry.max_ms, 300000);
        assert_int_equal(d->retry.max_attempts, 20);
        assert_int_equal(d->breaker.failures, 5);
        assert_int_equal(d->breaker.open_ms, 30000);
        assert_null(d->auth.token.value);
        assert_null(d->ca_file);
        takt_config_free(cfg);
}

static void test_conninfo_env_override(void **state)
{
        struct fixture *f = *state;
        setenv("TAKT_PG_CONNINFO", "host=127.0.0.1 port=5999", 1);
        struct takt_config *cfg = load(f, "postgres: {conninfo: \"dbname=x\"}\n");
        unsetenv("TAKT_PG_CONNINFO");
        assert_non_null(cfg);
        assert_string_equal(cfg->postgres.conninfo, "host=127.0.0.1 port=5999");
        takt_config_free(cfg);
}

/* ---- errors ---- */

struct error_case {
        const char *name;
        const char *yaml;
        int line;
        const char *message; /* substring */
};

static const struct error_case error_cases[] = {
    {"syntax", "listen:\n  port: 1\n address: x\n", 3, "YAML syntax error"},
    {"syntax-flow", "listen: {port: 1\nadmin: {}\n", 2, "YAML syntax error"},
    {"unknown-root", "listen: {}\nlistn: {}\n", 2, "unknown key 'listn'"},
    {"unknown-tls", "listen:\n  tls:\n    cert: c\n    kee: k\n", 4, "unknown key 'kee'"},
    {"unknown-source", BASE_DEST BASE_PLANT "sources:\n  s1:\n    kind: mes\n    plnt: P1\n", 10,
     "sources.s1: unknown key 'plnt'"},
    {"unknown-retry", BASE_DEST "  d2:\n    type: http\n    retry: {initial: 1s, maxx: 2s}\n", 5,
     "destinations.d2.retry: unknown key 'maxx'"},
    {"unknown-sla", BASE_DEST "plants:\n  P1:\n    sla: {ack: 1s}\n", 5, "unknown key 'ack'"},
    {"map-not-scalar", "listen: 8470\n", 1, "listen: expected a mapping, got a scalar"},
    {"scalar-not-map", "listen:\n  port: {a: 1}\n", 2,
     "listen.port: expected a value, got a mapping"},
    {"list-not-map", "sources: [a, b]\n", 1, "sources: expected a mapping, got a list"},
    {"null-section", "admin:\n", 1, "admin: expected a mapping, got nothing"},
    {"empty-value", "listen:\n  address:\n", 2, "listen.address: expected a value, got nothing"},
    {"port-text", "listen: {port: http}\n", 1, "listen.port: expected an integer from 1 to 65535"},
    {"port-range", "\nlisten: {port: 70000}\n", 2, "expected an integer from 1 to 65535"},
    {"port-negative", "listen: {port: -1}\n", 1, "expected an integer"},
    {"count-zero", BASE_DEST "  d2: {type: http, max_in_flight: 0}\n", 3, "max_in_flight"},
    {"bad-enum", "postgres:\n  migrate: sometimes\n", 2,
     "expected one of manual | auto, got 'sometimes'"},
    {"bad-kind", BASE_DEST "  d2: {type: ftp}\n", 3, "expected one of http | kafka"},
    {"bad-completion", BASE_DEST "plants:\n  P1:\n    completion: shift\n", 5,
     "plants.P1.completion: expected one of operation | order"},
    {"bad-scrap", BASE_DEST "plants:\n  P1:\n    scrap: sometimes\n", 5, "embedded | separate"},
    {"bad-bool", "metrics: {auth: maybe}\n", 1, "expected true or false"},
    {"bad-log-level", "log:\n  level: loud\n", 2, "debug | info | warn | error"},
    {"bad-duration", "delivery:\n  shutdown_grace: 10 s\n", 2, "expected a duration"},
    {"bad-duration-unit", "delivery:\n  shutdown_grace: 10w\n", 2, "got '10w'"},
    {"retention-zero", "retention:\n  inbox: 0s\n", 2,
     "retention.inbox: expected forever or a duration above zero"},
    {"retention-word", "retention:\n  trace: never\n", 2, "got 'never'"},
    {"retention-unknown", "retention:\n  work_orders: 90d\n", 2, "work_orders"},
    {"retention-interval", "retention:\n  interval: 10ms\n", 2,
     "retention.interval: expected 100ms or more, got '10ms'"},
    {"bad-sla-duration", BASE_DEST "plants:\n  P1:\n    sla:\n      acknowledge: soon\n", 6,
     "plants.P1.sla.acknowledge: expected a duration"},
    {"bad-size", "listen:\n  max_body: 1x\n", 2, "expected a size"},
    {"zero-size", "listen:\n  max_body: 0\n", 2, "expected a size"},
    {"route-undefined-dest",
     BASE_DEST "plants:\n  P1:\n    routes:\n      \"*\": [d1,\n          nope]\n", 7,
     "destination 'nope' is not defined under destinations"},
    {"route-twice", BASE_DEST "plants:\n  P1:\n    routes:\n      \"*\": [d1, d1]\n", 6,
     "listed twice"},
    {"route-not-list", BASE_DEST "plants:\n  P1:\n    routes:\n      \"*\": d1\n", 6,
     "expected a list of destinations"},
    {"route-empty-list", BASE_DEST "plants:\n  P1:\n    routes:\n      \"*\": []\n", 6,
     "no destinations"},
    {"route-bad-glob", BASE_DEST "plants:\n  P1:\n    routes:\n      \"a b\": [d1]\n", 6,
     "invalid type glob"},
    {"plant-no-routes", BASE_DEST "plants:\n  P1: {completion: order}\n", 4,
     "plants.P1: missing required key 'routes'"},
    {"plant-empty-routes", BASE_DEST "plants:\n  P1:\n    routes: {}\n", 5, "at least one route"},
    {"mes-without-plant",
     BASE_DEST BASE_PLANT "sources:\n  m1:\n    kind: mes\n    token_env: TAKT_T_TOKEN\n", 8,
     "sources.m1: an MES source needs 'plant'"},
    {"mes-undefined-plant",
     BASE_DEST BASE_PLANT "sources:\n  m1:\n    kind: mes\n    plant: XX09\n", 10,
     "plant 'XX09' is not defined under plants"},
    {"mes-plant-no-plants", "sources:\n  m1: {kind: mes, plant: P1, token_env: TAKT_T_TOKEN}\n", 2,
     "plant 'P1' is not defined"},
    {"erp-with-plant", BASE_DEST BASE_PLANT "sources:\n  e1:\n    kind: erp\n    plant: P1\n", 10,
     "an ERP source serves every plant"},
    {"source-no-kind", "sources:\n  s1: {token_env: TAKT_T_TOKEN}\n", 2,
     "missing required key 'kind'"},
    {"source-unknown-dialect",
     "sources:\n  s1:\n    kind: erp\n    dialect: sap-r3\n    token_env: TAKT_T_TOKEN\n", 4,
     "unknown dialect 'sap-r3'"},
    {"source-dialect-traversal", "sources:\n  s1: {kind: erp, dialect: ../x}\n", 2,
     "invalid dialect name"},
    {"dest-unknown-dialect", "destinations:\n  d1:\n    type: http\n    dialect: nope\n", 4,
     "destinations.d1.dialect: unknown dialect 'nope'"},
    {"dialects-dir-elsewhere",
     "dialects_dir: /nonexistent\nsources:\n  s1: {kind: erp, dialect: sap-s4, token_env: "
     "TAKT_T_TOKEN}\n",
     3, "no readable /nonexistent/sap-s4.yaml"},
    {"http-no-url", "destinations:\n  d1: {type: http}\n", 2,
     "destinations.d1: an http destination needs 'url'"},
    {"http-bad-url", "destinations:\n  d1: {type: http, url: \"ftp://x\"}\n", 2,
     "url must start with http:// or https://"},
    {"http-with-topic", "destinations:\n  d1: {type: http, url: \"http://127.0.0.1/\", topic: t}\n",
     2, "'topic' is for kafka destinations only"},
    {"kafka-no-topic", "destinations:\n  d1: {type: kafka}\n", 2,
     "a kafka destination needs 'topic'"},
    {"kafka-with-url", "destinations:\n  e: {type: kafka, topic: t, url: \"http://127.0.0.1/\"}\n",
     2, "for http destinations only"},
    {"dest-no-type", "destinations:\n\n  d1: {url: \"http://127.0.0.1/\"}\n", 3,
     "missing required key 'type'"},
    {"retry-inverted",
     "destinations:\n  d1:\n    type: http\n    url: \"http://127.0.0.1/\"\n    retry: {initial: "
     "1m, max: 1s}\n",
     2, "retry.initial must not exceed retry.max"},
    {"source-no-credential", "\nsources:\n  s1: {kind: erp}\n", 3, "needs a credential"},
    {"token-env-unset", "sources:\n  s1:\n    kind: erp\n    token_env: TAKT_T_UNSET\n", 4,
     "environment variable TAKT_T_UNSET is not set"},
    {"admin-token-env-unset", "admin:\n  token_env: TAKT_T_UNSET\n", 2,
     "admin.token_env: environment variable TAKT_T_UNSET is not set"},
    {"token-file-missing", "admin:\n  token_file: missing.token\n", 2, "cannot read secret file"},
    {"token-file-empty", "admin:\n  token_file: empty.token\n", 2, "is empty"},
    {"token-file-and-env", "admin:\n  token_file: s.token\n  token_env: TAKT_T_TOKEN\n", 3,
     "use only one of"},
    {"metrics-auth-no-token", "metrics:\n  auth: true\n", 1,
     "auth: true needs admin.token_file or admin.token_env"},
    {"tls-cert-without-key", "listen:\n  tls:\n    cert: s.token\n", 2,
     "listen.tls: missing required key 'key'"},
    {"tls-file-missing", "listen:\n  tls:\n    cert: nope.pem\n    key: s.token\n", 3,
     "cannot read"},
    {"ca-file-missing",
     "destinations:\n  d1: {type: http, url: \"http://127.0.0.1/\", ca_file: ca.pem}\n", 2,
     "cannot read"},
    {"duplicate-root", "listen: {}\nadmin: {}\nlisten: {}\n", 3,
     "duplicate key 'listen' (first at line 1)"},
    {"duplicate-nested", "listen:\n  port: 1\n  port: 2\n", 3, "duplicate key 'port'"},
    {"duplicate-source",
     "sources:\n  s1: {kind: erp, token_env: TAKT_T_TOKEN}\n  s1: {kind: erp, token_env: "
     "TAKT_T_TOKEN}\n",
     3, "duplicate key 's1'"},
    {"duplicate-route", BASE_DEST "plants:\n  P1:\n    routes:\n      a: [d1]\n      a: [d1]\n", 7,
     "duplicate key 'a'"},
    {"bad-name", "destinations:\n  \"d 1\": {type: kafka, topic: t}\n", 2, "invalid name 'd 1'"},
    {"non-scalar-key", "listen:\n  [a]: 1\n", 2, "keys must be non-empty text"},
    {"properties-not-scalar", "kafka:\n  properties:\n    a: [1]\n", 3,
     "kafka.properties.a: expected a value, got a list"},
    {"two-documents", "listen: {}\n---\nadmin: {}\n", 3, "only one YAML document"},
    {"empty-file", "", 1, "the file is empty"},
    {"top-level-list", "- a\n", 1, "expected a mapping, got a list"},
};

static void test_errors(void **state)
{
        struct fixture *f = *state;
        int failures = 0;
        for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
                const struct error_case *c = &error_cases[i];
                struct takt_config *cfg = load(f, c->yaml);
                char prefix[PATH_MAX + 32];
                snprintf(prefix, sizeof(prefix), "%s:%d: ", f->file, c->line);
                if (cfg || strncmp(f->err, prefix, strlen(prefix)) != 0 ||
                    !strstr(f->err, c->message))
                        failures++, print_error("case %s: want \"%s...%s\", got \"%s\"\n", c->name,
                                                prefix, c->message, cfg ? "(loaded)" : f->err);
                takt_config_free(cfg);
        }
        assert_int_equal(failures, 0);
}

static void test_secrets_not_printed(void **state)
{
        struct fixture *f = *state;
        /* A source config with a secret and a later error: no secret in the message. */
        struct takt_config *cfg = load(
            f, "admin: {token_file: s.token}\nsources:\n  s1: {kind: erp, token_env: TAKT_T_TOKEN, "
               "hmac_secret_file: s.token, x: 1}\n");
        assert_null(cfg);
        assert_null(strstr(f->err, "file-secret"));
        assert_null(strstr(f->err, "env-secret"));
        assert_non_null(strstr(f->err, "unknown key 'x'"));
}

static void test_missing_file(void **state)
{
        (void)state;
        char err[512];
        assert_null(takt_config_load("/nonexistent/takt.yaml", err, sizeof(err)));
        assert_string_equal(err,
                            "/nonexistent/takt.yaml:0: cannot open: No such file or directory");
}

/* ---- durations and sizes ---- */

static void test_durations(void **state)
{
        static const struct {
                const char *text;
                bool ok;
                uint64_t ms;
        } cases[] = {
            {"500ms", true, 500},
            {"30s", true, 30000},
            {"5m", true, 300000},
            {"2h", true, 7200000},
            {"1d", true, 86400000},
            {"0", true, 0},
            {"15", true, 15000},
            {"0ms", true, 0},
            {"", false, 0},
            {"s", false, 0},
            {"1.5s", false, 0},
            {"-1s", false, 0},
            {"10 s", false, 0},
            {"1w", false, 0},
            {"1S", false, 0},
            {"1ms5", false, 0},
            {" 1s", false, 0},
            {"99999999999999999999", false, 0},
            {"18446744073709551615d", false, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t ms = 12345;
                bool ok = takt_parse_duration_ms(cases[i].text, &ms);
                if (ok != cases[i].ok || (ok && ms != cases[i].ms))
                        fail_msg("duration '%s': ok=%d ms=%llu", cases[i].text, ok,
                                 (unsigned long long)ms);
        }
        (void)state;
}

static void test_sizes(void **state)
{
        static const struct {
                const char *text;
                bool ok;
                size_t size;
        } cases[] = {
            {"1048576", true, 1048576},
            {"512k", true, 524288},
            {"512K", true, 524288},
            {"1m", true, 1048576},
            {"2M", true, 2097152},
            {"1g", true, 1073741824},
            {"0", true, 0},
            {"", false, 0},
            {"k", false, 0},
            {"1kb", false, 0},
            {"1t", false, 0},
            {"-1", false, 0},
            {"1.5m", false, 0},
            {"99999999999999999999g", false, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t size = 12345;
                bool ok = takt_parse_size(cases[i].text, &size);
                if (ok != cases[i].ok || (ok && size != cases[i].size))
                        fail_msg("size '%s': ok=%d size=%zu", cases[i].text, ok, size);
        }
        (void)state;
}

/* ---- paths ---- */

static void test_relative_paths(void **state)
{
        struct fixture *f = *state;
        make_dir(f->dir, "etc");
        make_dir(f->dir, "etc/dia");
        make_dir(f->dir, "etc/keys");
        write_file(f->dir, "etc/dia/mine.yaml", "x: 1\n");
        write_file(f->dir, "etc/keys/t", "rel-secret\n");
        write_file(f->dir, "etc/taktd.yaml",
                   "dialects_dir: dia\n"
                   "sources:\n"
                   "  s1: {kind: erp, dialect: mine, token_file: keys/t}\n");
        /* Load through a relative path from another working directory. */
        char old[PATH_MAX];
        assert_non_null(getcwd(old, sizeof(old)));
        assert_int_equal(chdir(f->dir), 0);
        char err[512];
        struct takt_config *cfg = takt_config_load("etc/taktd.yaml", err, sizeof(err));
        assert_int_equal(chdir("/"), 0);
        assert_non_null(cfg);
        char real[PATH_MAX], want[PATH_MAX + 32];
        assert_non_null(realpath(f->dir, real));
        snprintf(want, sizeof(want), "%s/etc", real);
        assert_string_equal(cfg->dir, want);
        snprintf(want, sizeof(want), "%s/etc/dia", real);
        assert_string_equal(cfg->dialects_dir, want);
        assert_string_equal(cfg->sources[0].dialect, "mine");
        assert_string_equal(cfg->sources[0].auth.token.value, "rel-secret");
        assert_int_equal(cfg->sources[0].auth.token.len, 10);
        takt_config_free(cfg);

        /* Errors name the file as given. */
        write_file(f->dir, "etc/bad.yaml", "listen: {port: x}\n");
        assert_int_equal(chdir(f->dir), 0);
        cfg = takt_config_load("etc/bad.yaml", err, sizeof(err));
        assert_int_equal(chdir(old), 0);
        assert_null(cfg);
        assert_true(strncmp(err, "etc/bad.yaml:1: listen.port: ", 29) == 0);
}

static void test_absolute_paths(void **state)
{
        struct fixture *f = *state;
        char yaml[PATH_MAX * 2];
        snprintf(yaml, sizeof(yaml), "admin: {token_file: %s/s.token}\ndialects_dir: %s\n", f->dir,
                 f->dir);
        struct takt_config *cfg = load(f, yaml);
        assert_non_null(cfg);
        assert_string_equal(cfg->admin.token.value, "file-secret");
        assert_string_equal(cfg->dialects_dir, f->dir);
        takt_config_free(cfg);
}

/* ---- the shipped example ---- */

/* Applies the "export NAME=value" lines of conf/demo.env to the environment. */
static void apply_demo_env(const char *path)
{
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        char line[512];
        int n = 0;
        while (fgets(line, sizeof(line), fp)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (strncmp(line, "export ", 7) != 0)
                        continue;
                char *eq = strchr(line + 7, '=');
                assert_non_null(eq);
                *eq = '\0';
                char *value = eq + 1;
                size_t len = strlen(value);
                if (len >= 2 && (value[0] == '\'' || value[0] == '"') &&
                    value[len - 1] == value[0]) {
                        value[len - 1] = '\0';
                        value++;
                }
                setenv(line + 7, value, 1);
                n++;
        }
        fclose(fp);
        assert_true(n >= 4);
}

static bool readable(const char *dir, const char *name)
{
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, R_OK) == 0;
}

static void test_shipped_example(void **state)
{
        struct fixture *f = *state;
        const char *src = getenv("TAKT_SOURCE_DIR");
        if (!src)
                fail_msg("TAKT_SOURCE_DIR is not set (ctest sets it)");
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/conf/demo.env", src);
        apply_demo_env(path);
        snprintf(path, sizeof(path), "%s/conf", src);
        if (!readable(path, "dialects/sap-s4.yaml") ||
            !readable(path, "dialects/legacy-mes.yaml")) {
                /* Dialects not shipped yet: a copy next to the fixture's stand-ins. */
                char cmd[PATH_MAX * 2 + 32];
                snprintf(cmd, sizeof(cmd), "cp '%s/taktd.yaml' '%s/taktd.yaml'", path, f->dir);
                assert_int_equal(system(cmd), 0);
                snprintf(path, sizeof(path), "%s/taktd.yaml", f->dir);
        } else {
                snprintf(path, sizeof(path), "%s/conf/taktd.yaml", src);
        }
        char err[1024];
        struct takt_config *cfg = takt_config_load(path, err, sizeof(err));
        if (!cfg)
                fail_msg("%s", err);
        assert_int_equal(cfg->n_plants, 2);
        const struct takt_plant *de = takt_config_plant(cfg, "DE01");
        const struct takt_plant *pl = takt_config_plant(cfg, "PL02");
        assert_non_null(de);
        assert_non_null(pl);
        assert_int_equal(de->completion, TAKT_COMPLETION_OPERATION);
        assert_int_equal(de->scrap, TAKT_SCRAP_EMBEDDED);
        assert_int_equal(pl->completion, TAKT_COMPLETION_ORDER);
        assert_int_equal(pl->scrap, TAKT_SCRAP_SEPARATE);
        const struct takt_source *s4 = takt_config_source(cfg, "s4");
        assert_non_null(s4);
        assert_int_equal(s4->kind, TAKT_KIND_ERP);
        assert_string_equal(s4->dialect, "sap-s4");
        assert_string_equal(takt_config_source(cfg, "mes-de01")->dialect, "canonical");
        assert_string_equal(takt_config_source(cfg, "mes-pl02")->dialect, "legacy-mes");
        assert_string_equal(takt_config_source(cfg, "mes-pl02")->plant, "PL02");
        assert_int_equal(takt_config_destination(cfg, "s4")->kind, TAKT_KIND_ERP);
        assert_int_equal(takt_config_destination(cfg, "mes-de01")->kind, TAKT_KIND_MES);
        assert_int_equal(takt_config_destination(cfg, "mes-pl02")->kind, TAKT_KIND_MES);
        assert_int_equal(takt_config_destination(cfg, "events")->type, TAKT_DEST_KAFKA);
        assert_non_null(cfg->admin.token.value);
        takt_config_free(cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
            cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
            cmocka_unit_test_setup_teardown(test_conninfo_env_override, setup, teardown),
            cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_secrets_not_printed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
            cmocka_unit_test(test_durations),
            cmocka_unit_test(test_sizes),
            cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
            cmocka_unit_test_setup_teardown(test_absolute_paths, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shipped_example, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
