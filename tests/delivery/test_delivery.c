/* test_delivery.c — the dispatcher end to end: real PostgreSQL
 * (TAKT_PG_CONNINFO from tests/harness/with-postgres.sh; FAIL without it),
 * in-process HTTP receivers on 127.0.0.1 and an rdkafka mock cluster created
 * here, read back with a consumer. Outbox rows are inserted with SQL; some
 * are handed over with delivery_submit (hot path), the rest found by resume
 * or NOTIFY. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "receiver.h"
#include "takt/dialect.h"
#include "takt/auth.h"
#include "takt/delivery.h"
#include "takt/metrics.h"
#include "takt/store.h"

struct fx {
        const char *conninfo;
        struct event_base *base;
        struct store *store;
        struct metrics *metrics;
        PGconn *pg; /* blocking: setup and inspection between loop runs */
        struct takt_config cfg;
        struct takt_destination dest[2];
        struct delivery *d;
        int delivered_calls;
        bool ready, drained;
        /* per-test plan state */
        int64_t up_at_ms;
        bool accept_bad;
};

/* ---- loop helpers ---- */

typedef bool (*pred_fn)(struct fx *f, void *arg);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Run the loop until pred holds or timeout_ms passed; returns pred. */
static bool run_until(struct fx *f, pred_fn pred, void *arg, int timeout_ms)
{
        struct event *tick = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
        struct timeval tv = {0, 10000};
        event_add(tick, &tv);
        int64_t end = test_mono_ms() + timeout_ms;
        bool ok;
        while (!(ok = pred(f, arg)) && test_mono_ms() < end)
                event_base_loop(f->base, EVLOOP_ONCE);
        event_free(tick);
        return ok;
}

static bool never(struct fx *f, void *arg)
{
        return false;
}

static void run_for(struct fx *f, int ms)
{
        run_until(f, never, NULL, ms);
}

/* ---- SQL helpers ---- */

static PGresult *sql(struct fx *f, const char *q, int n, const char *const *params)
{
        PGresult *r = PQexecParams(f->pg, q, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
                fail_msg("%s: %s", q, PQerrorMessage(f->pg));
        return r;
}

static long sql_long(struct fx *f, const char *q, int n, const char *const *params)
{
        PGresult *r = sql(f, q, n, params);
        long v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? atol(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
        return v;
}

/* Insert one outbox row (pending) and, when row is not NULL, fill it for
 * delivery_submit (caller clears it). Returns the id. */
static int64_t insert(struct fx *f, const char *dest, const char *wo, int seq,
                      struct store_outbox_row *row)
{
        char env[512], lane[64], mid[32], cid[32];
        snprintf(lane, sizeof(lane), "DE01/%s", wo);
        snprintf(mid, sizeof(mid), "m-%s-%d", wo, seq);
        snprintf(cid, sizeof(cid), "c-%s-%d", wo, seq);
        snprintf(env, sizeof(env),
                 "{\"id\":\"%s\",\"type\":\"work_order.released\",\"schema_version\":1,"
                 "\"plant\":\"DE01\",\"work_order\":\"%s\",\"occurred_at\":"
                 "\"2026-11-30T06:00:00Z\",\"correlation_id\":\"%s\",\"data\":{\"seq\":%d}}",
                 mid, wo, cid, seq);
        const char *p[] = {dest, wo, lane, mid, cid, env};
        PGresult *r = sql(f,
                          "INSERT INTO outbox (destination, plant, work_order, lane, type,"
                          " message_id, correlation_id, envelope) VALUES ($1, 'DE01', $2, $3,"
                          " 'work_order.released', $4, $5, $6::jsonb) RETURNING id,"
                          " (extract(epoch from created_at) * 1000)::bigint",
                          6, p);
        int64_t id = atoll(PQgetvalue(r, 0, 0));
        if (row) {
                memset(row, 0, sizeof(*row));
                row->id = id;
                row->destination = strdup(dest);
                row->plant = strdup("DE01");
                row->work_order = strdup(wo);
                row->lane = strdup(lane);
                row->type = strdup("work_order.released");
                row->message_id = strdup(mid);
                row->correlation_id = strdup(cid);
                row->envelope = json_loads(env, 0, NULL);
                row->state = strdup("pending");
                row->created_ms = atoll(PQgetvalue(r, 0, 1));
        }
        PQclear(r);
        return id;
}

static void submit_one(struct fx *f, const char *dest, const char *wo, int seq, int64_t *id)
{
        struct store_outbox_row row;
        int64_t x = insert(f, dest, wo, seq, &row);
        delivery_submit(f->d, &row, 1);
        store_outbox_row_clear(&row);
        if (id)
                *id = x;
}

static long count_state(struct fx *f, const char *state)
{
        const char *p[] = {state};
        return sql_long(f, "SELECT count(*) FROM outbox WHERE state = $1", 1, p);
}

static char *row_field(struct fx *f, int64_t id, const char *col)
{
        char q[128], ids[24];
        snprintf(q, sizeof(q), "SELECT %s::text FROM outbox WHERE id = $1", col);
        snprintf(ids, sizeof(ids), "%lld", (long long)id);
        const char *p[] = {ids};
        PGresult *r = sql(f, q, 1, p);
        char *v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
        PQclear(r);
        return v;
}

static bool state_is(struct fx *f, int64_t id, const char *state)
{
        char *s = row_field(f, id, "state");
        bool ok = s && strcmp(s, state) == 0;
        free(s);
        return ok;
}

struct count_arg {
        const char *state;
        long n;
};
static bool n_in_state(struct fx *f, void *arg)
{
        struct count_arg *c = arg;
        return count_state(f, c->state) == c->n;
}

/* ---- delivery set-up ---- */

static void on_delivered(void *arg, const struct store_outbox_row *row,
                         const struct takt_destination *dest)
{
        struct fx *f = arg;
        f->delivered_calls++;
}

static struct takt_destination http_dest(const char *name, int port)
{
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/orders", port);
        return (struct takt_destination){
            .name = strdup(name),
            .type = TAKT_DEST_HTTP,
            .url = strdup(url),
            .timeout_ms = 2000,
            .max_in_flight = 4,
            .retry = {.initial_ms = 20, .max_ms = 100, .max_attempts = 10},
            .breaker = {.failures = 100, .open_ms = 1000},
        };
}

static void start(struct fx *f, size_t n_dest)
{
        f->cfg.destinations = f->dest;
        f->cfg.n_destinations = n_dest;
        f->cfg.kafka.topic_prefix = "takt.";
        f->cfg.delivery.shutdown_grace_ms = 2000;
        char err[256] = "";
        f->d = delivery_new(f->base, f->store, f->metrics, &f->cfg, NULL, err, sizeof(err));
        if (f->d == NULL)
                fail_msg("delivery_new: %s", err);
        delivery_set_delivered_cb(f->d, on_delivered, f);
        delivery_resume(f->d);
}

static void on_drained(void *arg)
{
        ((struct fx *)arg)->drained = true;
}

static bool drained(struct fx *f, void *arg)
{
        return f->drained;
}

static void stop(struct fx *f)
{
        f->drained = false;
        delivery_shutdown(f->d, on_drained, f);
        assert_true(run_until(f, drained, NULL, 5000));
}

/* ---- fixtures ---- */

static void on_ready(void *arg, bool ready, const char *reason)
{
        ((struct fx *)arg)->ready = ready;
}

static bool is_ready(struct fx *f, void *arg)
{
        return f->ready;
}

static int group_setup(void **state)
{
        static struct fx f;
        f.conninfo = getenv("TAKT_PG_CONNINFO");
        if (f.conninfo == NULL || *f.conninfo == '\0') {
                fprintf(stderr,
                        "TAKT_PG_CONNINFO unset: run under tests/harness/with-postgres.sh\n");
                return -1;
        }
        int version;
        char err[256];
        if (store_migrate_blocking(f.conninfo, &version, err, sizeof(err)) != 0) {
                fprintf(stderr, "migrate: %s\n", err);
                return -1;
        }
        f.pg = PQconnectdb(f.conninfo);
        if (PQstatus(f.pg) != CONNECTION_OK)
                return -1;
        f.base = event_base_new();
        *state = &f;
        return 0;
}

static int group_teardown(void **state)
{
        struct fx *f = *state;
        if (f == NULL)
                return 0; /* group setup failed */
        if (f->base)
                event_base_free(f->base);
        PQfinish(f->pg);
        return 0;
}

/* A store (and metrics registry) per test: the store's LISTEN registration
 * cannot be withdrawn, so the store goes with the test's dispatcher. */
static int setup(void **state)
{
        struct fx *f = *state;
        PQclear(sql(f, "TRUNCATE outbox, trace", 0, NULL));
        f->delivered_calls = 0;
        f->accept_bad = false;
        f->up_at_ms = 0;
        memset(&f->cfg, 0, sizeof(f->cfg));
        f->ready = false;
        f->metrics = metrics_new();
        f->store = store_new(f->base, f->conninfo, false, f->metrics);
        store_set_ready_cb(f->store, on_ready, f);
        store_start(f->store);
        if (!run_until(f, is_ready, NULL, 10000)) {
                fprintf(stderr, "store never became ready\n");
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        /* the daemon's order: the store first (its pending callbacks and
         * LISTEN still reach the dispatcher), then the dispatcher */
        if (f->store)
                store_free(f->store);
        f->store = NULL;
        delivery_free(f->d);
        f->d = NULL;
        for (size_t i = 0; i < 2; i++) {
                free(f->dest[i].name);
                free(f->dest[i].url);
                free(f->dest[i].auth.token.value);
                free(f->dest[i].auth.hmac_secret.value);
                free(f->dest[i].topic);
        }
        memset(f->dest, 0, sizeof(f->dest));
        metrics_free(f->metrics);
        f->metrics = NULL;
        return 0;
}

static struct answer plan_ok(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200};
}

/* ---- ordering within a lane under concurrency ---- */

static struct answer plan_jitter(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200, .delay_ms = (int)((n * 7) % 23)};
}

static void test_order_within_lane(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_jitter, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].auth.token.value = strdup("s3cret");
        static const char *const wos[] = {"WO-1", "WO-2", "WO-3", "WO-4"};
        /* half the backlog is in PostgreSQL before the dispatcher starts */
        for (int seq = 0; seq < 8; seq++)
                for (size_t w = 0; w < 4; w++)
                        insert(f, "mes", wos[w], seq, NULL);
        start(f, 1);
        for (int seq = 8; seq < 16; seq++)
                for (size_t w = 0; w < 4; w++)
                        submit_one(f, "mes", wos[w], seq, NULL);
        struct count_arg all = {"delivered", 64};
        assert_true(run_until(f, n_in_state, &all, 20000));
        assert_int_equal(receiver_count(r), 64);
        assert_true(receiver_max_concurrent(r) >= 2);
        /* keep-alive: the 64 requests share the pool's 4 connections (ASan's
         * quarantine keeps freed addresses from coming back) */
        size_t conns = 0;
        for (size_t i = 0; i < receiver_count(r); i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = receiver_get(r, j)->conn == receiver_get(r, i)->conn;
                conns += !seen;
        }
        assert_true(conns <= 4);
        for (size_t w = 0; w < 4; w++) {
                int64_t last = 0;
                int seen = 0;
                for (size_t i = 0; i < receiver_count(r); i++) {
                        const struct rreq *q = receiver_get(r, i);
                        if (strcmp(q->work_order, wos[w]) != 0)
                                continue;
                        assert_true(q->idem > last); /* commit order, no duplicates */
                        last = q->idem;
                        seen++;
                }
                assert_int_equal(seen, 16);
        }
        const struct rreq *q0 = receiver_get(r, 0);
        assert_string_equal(q0->content_type, "application/json");
        char host[32];
        snprintf(host, sizeof(host), "127.0.0.1:%d", receiver_port(r));
        assert_string_equal(q0->host, host);
        assert_string_equal(q0->authorization, "Bearer s3cret");
        assert_string_equal(q0->type, "work_order.released");
        assert_int_equal(strlen(q0->traceparent), 55);
        json_t *body = json_loads(q0->body, 0, NULL);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "plant")), "DE01");
        json_decref(body);
        stop(f);
        assert_int_equal(f->delivered_calls, 64);
        assert_int_equal(
            sql_long(f, "SELECT count(*) FROM trace WHERE step = 'delivered'", 0, NULL), 64);
        receiver_free(r);
}

/* ---- 503 three times, then 200 ---- */

static struct answer plan_503x3(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n < 3 ? 503 : 200};
}

static void test_retry_then_delivered(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_503x3, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        int64_t id;
        submit_one(f, "mes", "WO-9", 1, &id);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 4);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(receiver_get(r, i)->idem, id); /* same key every time */
        char *att = row_field(f, id, "attempts");
        assert_string_equal(att, "4");
        free(att);
        stop(f);
        assert_int_equal(f->delivered_calls, 1);
        assert_int_equal(sql_long(f, "SELECT count(*) FROM trace WHERE step = 'attempt'", 0, NULL),
                         4);
        assert_int_equal(
            sql_long(f, "SELECT count(*) FROM trace WHERE step = 'delivered'", 0, NULL), 1);
        size_t len;
        char *text = metrics_render(f->metrics, &len);
        assert_non_null(strstr(text, "takt_delivery_attempts_total{destination=\"mes\","
                                     "result=\"retry\"} 3\n"));
        assert_non_null(strstr(text, "takt_delivery_attempts_total{destination=\"mes\","
                                     "result=\"delivered\"} 1\n"));
        assert_non_null(strstr(text, "takt_end_to_end_seconds_count{destination=\"mes\"} 1\n"));
        free(text);
        receiver_free(r);
}

/* ---- 400 fails at once, holds its lane only, replay resumes it ---- */

static struct answer plan_bad(void *arg, const struct rreq *q, size_t n)
{
        struct fx *f = arg;
        bool bad = strcmp(q->work_order, "WO-BAD") == 0 && !f->accept_bad;
        return (struct answer){.status = bad ? 400 : 200};
}

struct id_state {
        int64_t id;
        const char *state;
};
static bool ids_in_state(struct fx *f, void *arg)
{
        for (struct id_state *s = arg; s->state; s++)
                if (!state_is(f, s->id, s->state))
                        return false;
        return true;
}

static void test_client_error_fails_lane_only(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_bad, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        int64_t bad1, bad2, ok1, ok2;
        submit_one(f, "mes", "WO-BAD", 1, &bad1);
        submit_one(f, "mes", "WO-BAD", 2, &bad2);
        submit_one(f, "mes", "WO-OK", 1, &ok1);
        submit_one(f, "mes", "WO-OK", 2, &ok2);
        struct id_state want[] = {{bad1, "failed"}, {ok1, "delivered"}, {ok2, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, want, 10000));
        run_for(f, 200);
        assert_true(state_is(f, bad2, "pending")); /* held back behind the failure */
        for (size_t i = 0; i < receiver_count(r); i++)
                assert_true(receiver_get(r, i)->idem != bad2);
        char *err = row_field(f, bad1, "last_error");
        assert_non_null(err);
        assert_non_null(strstr(err, "400"));
        free(err);
        char *att = row_field(f, bad1, "attempts");
        assert_string_equal(att, "1"); /* not retried */
        free(att);

        /* replay (what taktd --replay does): NOTIFY wakes the dispatcher */
        f->accept_bad = true;
        size_t before = receiver_count(r);
        char ids[24];
        snprintf(ids, sizeof(ids), "%lld", (long long)bad1);
        struct store_replay_selector sel = {.message_id = ids};
        long count = 0;
        char e[256];
        assert_int_equal(store_replay_blocking(f->conninfo, &sel, false, &count, e, sizeof(e)), 0);
        assert_int_equal(count, 1);
        struct id_state done[] = {{bad1, "delivered"}, {bad2, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        assert_int_equal(receiver_count(r), before + 2);
        assert_int_equal(receiver_get(r, before)->idem, bad1);
        assert_int_equal(receiver_get(r, before + 1)->idem, bad2);
        stop(f);
        receiver_free(r);
}

/* ---- https with certificate and name verification, HMAC auth ---- */

/* A self-signed certificate for IP 127.0.0.1 in a fresh folder (blocking,
 * outside the loop). Returns the folder (caller frees) or NULL. */
static char *make_cert(void)
{
        char tmpl[] = "/tmp/takt-tls.XXXXXX";
        if (mkdtemp(tmpl) == NULL)
                return NULL;
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                 " -keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1"
                 " -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
                 tmpl, tmpl);
        return system(cmd) == 0 ? strdup(tmpl) : NULL;
}

static void remove_cert(char *dir)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        free(dir);
}

static void test_https_verified_with_hmac(void **state)
{
        struct fx *f = *state;
        char *dir = make_cert();
        assert_non_null(dir);
        char cert[256], key[256], url[128];
        snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
        snprintf(key, sizeof(key), "%s/key.pem", dir);
        struct receiver *good = receiver_new_tls(f->base, plan_ok, f, cert, key);
        struct receiver *untrusted = receiver_new_tls(f->base, plan_ok, f, cert, key);
        assert_non_null(good);
        assert_non_null(untrusted);
        f->dest[0] = http_dest("s4", 0);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/odata", receiver_port(good));
        free(f->dest[0].url);
        f->dest[0].url = strdup(url);
        f->dest[0].ca_file = cert;
        f->dest[0].auth.hmac_secret.value = strdup("hmac-key");
        f->dest[0].auth.hmac_secret.len = 8;
        /* the same server, but its certificate is not trusted (default CAs) */
        f->dest[1] = http_dest("mes", 0);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/api", receiver_port(untrusted));
        free(f->dest[1].url);
        f->dest[1].url = strdup(url);
        f->dest[1].retry.max_attempts = 0; /* keeps retrying: stays pending */
        start(f, 2);
        int64_t ok, refused;
        submit_one(f, "s4", "WO-TLS", 1, &ok);
        submit_one(f, "mes", "WO-TLS", 1, &refused);
        struct id_state done[] = {{ok, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        run_for(f, 300);
        assert_int_equal(receiver_count(good), 1);
        assert_int_equal(receiver_count(untrusted), 0); /* handshake refused */
        assert_true(state_is(f, refused, "pending"));
        char *att = row_field(f, refused, "attempts");
        assert_true(atoi(att) >= 1);
        free(att);

        /* X-Takt-Signature: t=<unix>,v1=HMAC(secret, t + "." + body) */
        const struct rreq *q = receiver_get(good, 0);
        assert_non_null(q->signature);
        long long t = atoll(q->signature + 2);
        char want[AUTH_SIGNATURE_MAX];
        struct takt_secret secret = {.value = "hmac-key", .len = 8};
        assert_int_equal(auth_sign(&secret, t, q->body, strlen(q->body), want, sizeof(want)), 0);
        assert_string_equal(q->signature, want);
        assert_null(q->authorization);
        stop(f);
        receiver_free(good);
        receiver_free(untrusted);
        remove_cert(dir);
}

/* ---- the destination's dialect at send time; a mapping error fails ---- */

static void test_dialect_mapping(void **state)
{
        struct fx *f = *state;
        char dir[] = "/tmp/takt-dialect.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/tiny-mes.yaml", dir);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("value_maps:\n"
              "  seqs: {\"1\": one}\n"
              "outbound:\n"
              "  work_order.released:\n"
              "    Order: /work_order\n"
              "    Seq: {from: /data/seq, map: seqs}\n",
              fp);
        fclose(fp);
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].dialect = "tiny-mes";
        f->cfg.dialects_dir = dir;
        f->cfg.destinations = f->dest;
        f->cfg.n_destinations = 1;
        char err[256] = "";
        struct dialect_set *set = dialect_set_load(&f->cfg, err, sizeof(err));
        if (set == NULL)
                fail_msg("dialect_set_load: %s", err);
        f->cfg.kafka.topic_prefix = "takt.";
        f->cfg.delivery.shutdown_grace_ms = 2000;
        f->d = delivery_new(f->base, f->store, f->metrics, &f->cfg, set, err, sizeof(err));
        assert_non_null(f->d);
        delivery_resume(f->d);
        int64_t bad, good;
        submit_one(f, "mes", "WO-MAP", 2, &bad); /* seq 2 has no entry in the map */
        submit_one(f, "mes", "WO-MAP2", 1, &good);
        struct id_state want[] = {{bad, "failed"}, {good, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, want, 10000));
        assert_int_equal(receiver_count(r), 1);
        json_t *body = json_loads(receiver_get(r, 0)->body, 0, NULL);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "Order")), "WO-MAP2");
        assert_string_equal(json_string_value(json_object_get(body, "Seq")), "one");
        json_decref(body);
        char *e = row_field(f, bad, "last_error");
        assert_non_null(e);
        assert_non_null(strstr(e, "mapping"));
        free(e);
        stop(f);
        store_free(f->store); /* before the dispatcher, then the dialects */
        f->store = NULL;
        delivery_free(f->d);
        f->d = NULL;
        dialect_set_free(set);
        f->dest[0].dialect = NULL;
        unlink(path);
        rmdir(dir);
        receiver_free(r);
}

/* ---- a destination that hangs: timeout, then retried ---- */

static struct answer plan_hang_once(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n == 0 ? 0 : 200};
}

static void test_timeout(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_hang_once, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 300;
        start(f, 1);
        int64_t id;
        submit_one(f, "mes", "WO-H", 1, &id);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 2);
        assert_true(receiver_get(r, 1)->at_ms - receiver_get(r, 0)->at_ms >= 280);
        assert_int_equal(sql_long(f,
                                  "SELECT count(*) FROM trace WHERE step = 'attempt'"
                                  " AND detail->>'error' = 'timeout'",
                                  0, NULL),
                         1);
        stop(f);
        receiver_free(r);
}

/* ---- a destination down for a while: the breaker limits the probes ---- */

static struct answer plan_down_until(void *arg, const struct rreq *q, size_t n)
{
        struct fx *f = arg;
        return (struct answer){.status = q->at_ms < f->up_at_ms ? 503 : 200};
}

static void test_breaker(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_down_until, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].max_in_flight = 1;
        f->dest[0].retry = (struct takt_retry){.initial_ms = 10, .max_ms = 30, .max_attempts = 0};
        f->dest[0].breaker = (struct takt_breaker){.failures = 3, .open_ms = 400};
        f->up_at_ms = test_mono_ms() + 2000;
        start(f, 1);
        for (int i = 0; i < 5; i++) {
                char wo[16];
                snprintf(wo, sizeof(wo), "WO-%d", i);
                submit_one(f, "mes", wo, 1, NULL);
        }
        struct count_arg all = {"delivered", 5};
        assert_true(run_until(f, n_in_state, &all, 15000));
        size_t during = 0;
        for (size_t i = 0; i < receiver_count(r); i++)
                during += receiver_get(r, i)->at_ms < f->up_at_ms;
        /* 3 failures open it, then one probe per 400 ms over 2 s: ~3 + 5.
         * Without a breaker the 10-30 ms backoff would make ~100 attempts. */
        assert_true(during >= 3 + 3);
        assert_true(during <= 3 + 7);
        stop(f);
        receiver_free(r);
}

/* ---- Retry-After is honoured ---- */

static struct answer plan_429(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n == 0 ? 429 : 200, .retry_after = n == 0 ? "1" : NULL};
}

static void test_retry_after_honoured(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_429, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        submit_one(f, "mes", "WO-R", 1, NULL);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 2);
        assert_true(receiver_get(r, 1)->at_ms - receiver_get(r, 0)->at_ms >= 950);
        stop(f);
        receiver_free(r);
}

/* ---- a row committed after a page's snapshot, submitted while paging ---- */

/* answers after the row's transaction committed (the outcome must find it) */
static struct answer plan_2500ms(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200, .delay_ms = 2500};
}

static void test_submit_during_rescan(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_2500ms, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 5000;
        start(f, 1);
        run_for(f, 100);
        /* the row exists but is not committed while the pages are read */
        PQclear(sql(f, "BEGIN", 0, NULL));
        struct store_outbox_row row;
        int64_t id = insert(f, "mes", "WO-RACE", 1, &row);
        delivery_resume(f->d); /* a rescan, as after a NOTIFY */
        delivery_submit(f->d, &row, 1);
        store_outbox_row_clear(&row);
        run_for(f, 1500); /* pages done: they could not see the row */
        PQclear(sql(f, "COMMIT", 0, NULL));
        struct id_state done[] = {{id, "delivered"}, {0}};
        /* far below the 30 s safety sweep */
        assert_true(run_until(f, ids_in_state, done, 8000));
        assert_int_equal(receiver_count(r), 1);
        stop(f);
        receiver_free(r);
}

/* ---- a backlog larger than a page: paged in id order, each once ---- */

static void test_backlog_paging(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].max_in_flight = 16;
        PQclear(sql(f,
                    "INSERT INTO outbox (destination, plant, work_order, lane, type, message_id,"
                    " correlation_id, envelope) SELECT 'mes', 'DE01', 'WO-' || (g % 40),"
                    " 'DE01/WO-' || (g % 40), 'work_order.released', 'm-' || g, 'c-' || g,"
                    " jsonb_build_object('id', 'm-' || g, 'plant', 'DE01', 'work_order',"
                    " 'WO-' || (g % 40)) FROM generate_series(1, 2500) g",
                    0, NULL));
        start(f, 1);
        /* fresh rows while the backlog is being paged: ignored above the
         * horizon, found by the pages */
        for (int i = 0; i < 20; i++)
                submit_one(f, "mes", "WO-NEW", i, NULL);
        struct count_arg all = {"delivered", 2520};
        assert_true(run_until(f, n_in_state, &all, 120000));
        assert_int_equal(receiver_count(r), 2520);
        stop(f);
        receiver_free(r);
}

/* ---- a held message holds back its lane until released ---- */

static void test_held_then_released(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("erp", receiver_port(r));
        start(f, 1);
        struct store_outbox_row held, after;
        int64_t held_id = insert(f, "erp", "WO-HOLD", 1, &held);
        PQclear(sql(f, "UPDATE outbox SET state = 'held' WHERE work_order = 'WO-HOLD'", 0, NULL));
        free(held.state);
        held.state = strdup("held");
        int64_t after_id = insert(f, "erp", "WO-HOLD", 2, &after);
        int64_t other;
        delivery_submit(f->d, &held, 1);
        delivery_submit(f->d, &after, 1);
        submit_one(f, "erp", "WO-FREE", 1, &other);
        struct id_state free_done[] = {{other, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, free_done, 10000));
        run_for(f, 200);
        assert_true(state_is(f, after_id, "pending")); /* waits behind the held one */
        assert_int_equal(receiver_count(r), 1);

        /* the hold is released (what store_batch_release_held does) */
        char ids[24];
        snprintf(ids, sizeof(ids), "%lld", (long long)held_id);
        const char *p[] = {ids};
        PQclear(sql(f, "UPDATE outbox SET state = 'pending' WHERE id = $1", 1, p));
        free(held.state);
        held.state = strdup("pending");
        delivery_submit(f->d, &held, 1);
        struct id_state done[] = {{held_id, "delivered"}, {after_id, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        assert_int_equal(receiver_count(r), 3);
        assert_int_equal(receiver_get(r, 1)->idem, held_id);
        assert_int_equal(receiver_get(r, 2)->idem, after_id);
        store_outbox_row_clear(&held);
        store_outbox_row_clear(&after);
        stop(f);
        receiver_free(r);
}

/* ---- shutdown: in-flight work finishes within the grace, the rest stays ---- */

static struct answer plan_slow(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200,
                               .delay_ms = strcmp(q->work_order, "WO-SLOW") == 0 ? 3000 : 200};
}

static void test_shutdown_grace(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_slow, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 10000;
        start(f, 1);
        int64_t quick, slow, later;
        submit_one(f, "mes", "WO-QUICK", 1, &quick);
        submit_one(f, "mes", "WO-SLOW", 1, &slow);
        submit_one(f, "mes", "WO-QUICK", 2, &later);
        run_for(f, 50); /* both lanes in flight */
        assert_int_equal(receiver_count(r), 2);
        f->cfg.delivery.shutdown_grace_ms = 1000;
        int64_t t0 = test_mono_ms();
        f->drained = false;
        delivery_shutdown(f->d, on_drained, f);
        assert_true(run_until(f, drained, NULL, 5000));
        int64_t took = test_mono_ms() - t0;
        assert_true(took >= 900 && took < 2500);
        assert_true(state_is(f, quick, "delivered")); /* finished within the grace */
        assert_true(state_is(f, slow, "pending"));    /* cut off: stays pending */
        assert_true(state_is(f, later, "pending"));   /* never started */
        assert_int_equal(receiver_count(r), 2);
        receiver_free(r);
}

/* ---- Kafka: broker down and back, nothing lost ---- */

struct kmsg {
        char key[64];
        int64_t id;
        char type[64];
        char tp[64];
};

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
        const void *v;
        size_t n;
        buf[0] = '\0';
        if (h && rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR)
                snprintf(buf, len, "%.*s", (int)n, (const char *)v);
        return buf;
}

/* Read up to want records from topic (blocking: outside the loop). */
static size_t consume(const char *bootstrap, const char *topic, struct kmsg *out, size_t want)
{
        char err[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
        rd_kafka_conf_set(conf, "group.id", "delivery-test", err, sizeof(err));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
        rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        assert_non_null(c);
        rd_kafka_poll_set_consumer(c);
        rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(c, t);
        rd_kafka_topic_partition_list_destroy(t);
        size_t n = 0;
        int64_t end = test_mono_ms() + 20000;
        while (n < want && test_mono_ms() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
                if (m == NULL)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        rd_kafka_headers_t *h = NULL;
                        rd_kafka_message_headers(m, &h);
                        char id[32], sv[8];
                        snprintf(out[n].key, sizeof(out[n].key), "%.*s", (int)m->key_len,
                                 (const char *)m->key);
                        out[n].id = atoll(header(h, "takt-message-id", id, sizeof(id)));
                        header(h, "takt-type", out[n].type, sizeof(out[n].type));
                        header(h, "traceparent", out[n].tp, sizeof(out[n].tp));
                        assert_string_equal(header(h, "takt-schema-version", sv, sizeof(sv)), "1");
                        json_t *v = json_loadb(m->payload, m->len, 0, NULL);
                        assert_non_null(v); /* the canonical envelope */
                        assert_string_equal(json_string_value(json_object_get(v, "plant")), "DE01");
                        json_decref(v);
                        n++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return n;
}

static void test_kafka_broker_down_and_back(void **state)
{
        struct fx *f = *state;
        char err[256];
        rd_kafka_conf_t *mconf = rd_kafka_conf_new();
        rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
        assert_non_null(mrk);
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
        assert_non_null(mc);
        rd_kafka_mock_topic_create(mc, "takt.events", 2, 1);
        char *bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(mc));

        f->dest[0] = (struct takt_destination){.name = strdup("events"),
                                               .type = TAKT_DEST_KAFKA,
                                               .topic = strdup("events"),
                                               .max_in_flight = 16,
                                               .retry = {10, 100, 0},
                                               .breaker = {100, 1000}};
        f->cfg.kafka.brokers = bootstrap;
        start(f, 1);
        assert_null(delivery_kafka_bootstrap(f->d)); /* real brokers: no embedded cluster */
        for (int seq = 0; seq < 5; seq++) {
                submit_one(f, "events", "WO-K1", seq, NULL);
                submit_one(f, "events", "WO-K2", seq, NULL);
        }
        struct count_arg first = {"delivered", 10};
        assert_true(run_until(f, n_in_state, &first, 15000));

        rd_kafka_mock_broker_set_down(mc, 1);
        for (int seq = 5; seq < 10; seq++) {
                submit_one(f, "events", "WO-K1", seq, NULL);
                submit_one(f, "events", "WO-K2", seq, NULL);
        }
        run_for(f, 1500);
        assert_int_equal(count_state(f, "delivered"), 10); /* nothing marked while down */
        assert_int_equal(count_state(f, "failed"), 0);
        rd_kafka_mock_broker_set_up(mc, 1);
        struct count_arg all = {"delivered", 20};
        assert_true(run_until(f, n_in_state, &all, 30000));
        stop(f);

        struct kmsg got[40];
        size_t n = consume(bootstrap, "takt.events", got, 20);
        assert_true(n >= 20); /* at-least-once: nothing lost */
        for (const char *key = "DE01/WO-K1"; key;
             key = strcmp(key, "DE01/WO-K1") == 0 ? "DE01/WO-K2" : NULL) {
                int64_t last = 0;
                size_t seen = 0;
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(got[i].key, key) != 0)
                                continue;
                        assert_true(got[i].id > last); /* per-key order, no duplicate */
                        last = got[i].id;
                        seen++;
                        assert_string_equal(got[i].type, "work_order.released");
                        assert_int_equal(strlen(got[i].tp), 55);
                }
                assert_int_equal(seen, 10);
        }
        free(bootstrap);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
}

/* ---- embedded brokers start the mock cluster ---- */

static void test_kafka_embedded(void **state)
{
        struct fx *f = *state;
        f->dest[0] = (struct takt_destination){.name = strdup("events"),
                                               .type = TAKT_DEST_KAFKA,
                                               .topic = strdup("demo"),
                                               .retry = {10, 100, 0},
                                               .breaker = {100, 1000}};
        f->cfg.kafka.brokers = "embedded";
        start(f, 1);
        const char *bootstrap = delivery_kafka_bootstrap(f->d);
        assert_non_null(bootstrap);
        submit_one(f, "events", "WO-E", 1, NULL);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 15000));
        stop(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_order_within_lane, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_then_delivered, setup, teardown),
            cmocka_unit_test_setup_teardown(test_client_error_fails_lane_only, setup, teardown),
            cmocka_unit_test_setup_teardown(test_https_verified_with_hmac, setup, teardown),
            cmocka_unit_test_setup_teardown(test_dialect_mapping, setup, teardown),
            cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_breaker, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup, teardown),
            cmocka_unit_test_setup_teardown(test_backlog_paging, setup, teardown),
            cmocka_unit_test_setup_teardown(test_submit_during_rescan, setup, teardown),
            cmocka_unit_test_setup_teardown(test_held_then_released, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shutdown_grace, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kafka_broker_down_and_back, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kafka_embedded, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
