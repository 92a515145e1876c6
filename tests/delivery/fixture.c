/* fixture.c — the delivery integration tests' shared set-up (fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

/* ---- loop helpers ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Run the loop until pred holds or timeout_ms passed; returns pred. */
bool run_until(struct fx *f, pred_fn pred, void *arg, int timeout_ms)
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

void run_for(struct fx *f, int ms)
{
        run_until(f, never, NULL, ms);
}

/* ---- SQL helpers ---- */

PGresult *sql(struct fx *f, const char *q, int n, const char *const *params)
{
        PGresult *r = PQexecParams(f->pg, q, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
                fail_msg("%s: %s", q, PQerrorMessage(f->pg));
        return r;
}

long sql_long(struct fx *f, const char *q, int n, const char *const *params)
{
        PGresult *r = sql(f, q, n, params);
        long v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? atol(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
        return v;
}

/* Insert one outbox row (pending) and, when row is not NULL, fill it for
 * delivery_submit (caller clears it). Returns the id. */
int64_t insert(struct fx *f, const char *dest, const char *wo, int seq,
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

void submit_one(struct fx *f, const char *dest, const char *wo, int seq, int64_t *id)
{
        struct store_outbox_row row;
        int64_t x = insert(f, dest, wo, seq, &row);
        delivery_submit(f->d, &row, 1);
        store_outbox_row_clear(&row);
        if (id)
                *id = x;
}

long count_state(struct fx *f, const char *state)
{
        const char *p[] = {state};
        return sql_long(f, "SELECT count(*) FROM outbox WHERE state = $1", 1, p);
}

char *row_field(struct fx *f, int64_t id, const char *col)
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

bool state_is(struct fx *f, int64_t id, const char *state)
{
        char *s = row_field(f, id, "state");
        bool ok = s && strcmp(s, state) == 0;
        free(s);
        return ok;
}

bool n_in_state(struct fx *f, void *arg)
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

struct takt_destination http_dest(const char *name, int port)
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

void start(struct fx *f, size_t n_dest)
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

void on_drained(void *arg)
{
        ((struct fx *)arg)->drained = true;
}

bool drained(struct fx *f, void *arg)
{
        return f->drained;
}

void stop(struct fx *f)
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

int group_setup(void **state)
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

int group_teardown(void **state)
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
int setup(void **state)
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

int teardown(void **state)
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

struct answer plan_ok(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200};
}

bool ids_in_state(struct fx *f, void *arg)
{
        for (struct id_state *s = arg; s->state; s++)
                if (!state_is(f, s->id, s->state))
                        return false;
        return true;
}
