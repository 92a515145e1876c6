/* test_batch.c — the ingest group transaction: phase 1 loads work orders
 * and inbox answers, phase 2 writes everything and commits; failures roll
 * back everything; outbox ids follow put order; held postings are released
 * in order; batches wait in line; a connection lost between the phases is
 * an error, never a half-written batch; the fast path decides from cached
 * orders, and PostgreSQL refuses (nothing written, retry) what it got wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "pg_test.h"
#include "takt/store.h"

struct fixture {
        struct event_base *base;
        char *conninfo;
        struct store *store;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->base = event_base_new();
        f->conninfo = pgt_fresh_db();
        pgt_migrate(f->conninfo);
        f->store = pgt_store_ready(f->base, f->conninfo, false);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        store_free(f->store);
        event_base_free(f->base);
        free(f->conninfo);
        free(f);
        return 0;
}

/* One batch's progress, as its callbacks saw it. */
struct run {
        struct store_batch *b;
        bool loaded, committed;
        int loaded_seq, committed_seq;
        char load_error[512], commit_error[512];
        int *seq; /* shared counter across runs, may be NULL */
};

static void on_loaded(void *arg, struct store_batch *b, const char *error)
{
        struct run *r = arg;
        r->loaded = true;
        r->loaded_seq = r->seq ? (*r->seq)++ : 0;
        snprintf(r->load_error, sizeof(r->load_error), "%s", error ? error : "");
}

static void on_committed(void *arg, struct store_batch *b, const char *error)
{
        struct run *r = arg;
        r->committed = true;
        r->committed_seq = r->seq ? (*r->seq)++ : 0;
        snprintf(r->commit_error, sizeof(r->commit_error), "%s", error ? error : "");
}

static void begin_keys(struct fixture *f, struct run *r, const char *plant, const char *wo,
                       bool may_be_new, const char *source, const char *id)
{
        struct store_wo_key wk = {plant, wo, may_be_new};
        struct store_inbox_key ik = {source, id};
        r->b = store_batch_begin(f->store, &wk, plant ? 1 : 0, &ik, source ? 1 : 0, on_loaded, r);
        assert_non_null(r->b);
}

/* The order must exist: never assumed absent, so loaded unless cached. */
static void begin(struct fixture *f, struct run *r, const char *plant, const char *wo,
                  const char *source, const char *id)
{
        begin_keys(f, r, plant, wo, false, source, id);
}

static void load(struct fixture *f, struct run *r, const char *plant, const char *wo,
                 const char *source, const char *id)
{
        begin(f, r, plant, wo, source, id);
        assert_true(pgt_run_until(f->base, &r->loaded, 10000));
        assert_string_equal(r->load_error, "");
}

static void commit(struct fixture *f, struct run *r)
{
        store_batch_commit(r->b, on_committed, r);
        assert_true(pgt_run_until(f->base, &r->committed, 10000));
}

static json_t *envelope(const char *id, const char *type, const char *plant, const char *wo)
{
        json_t *e =
            json_pack("{s:s, s:s, s:i, s:s, s:s, s:{}}", "id", id, "type", type, "schema_version",
                      1, "plant", plant, "correlation_id", "corr-1", "data");
        if (wo)
                json_object_set_new(e, "work_order", json_string(wo));
        return e;
}

static void put_outbox(struct store_batch *b, const char *dest, const char *id, const char *wo,
                       bool held)
{
        json_t *e = envelope(id, "operation.confirmed", "DE01", wo);
        char lane[64];
        snprintf(lane, sizeof(lane), "DE01/%s", wo ? wo : "WC1");
        store_batch_put_outbox(b, dest, lane, e, held);
        json_decref(e);
}

static long count(struct fixture *f, const char *table)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
        return pgt_long(f->conninfo, sql);
}

static int64_t now_ms(void)
{
        struct timeval tv;
        gettimeofday(&tv, NULL);
        return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void test_roundtrip(void **state)
{
        struct fixture *f = *state;
        struct run r1 = {0};
        load(f, &r1, "DE01", "4711", "s4", "m1");
        assert_null(store_batch_work_order(r1.b, "DE01", "4711"));
        assert_null(store_batch_inbox_answer(r1.b, "s4", "m1"));

        json_t *env = envelope("m1", "work_order.released", "DE01", "4711");
        json_t *answer = json_pack("{s:s}", "status", "accepted");
        json_t *doc = json_pack("{s:s, s:i}", "state", "released", "revision", 3);
        int64_t deadline = now_ms() + 30000;
        store_batch_put_inbox(r1.b, "s4", "m1", "corr-1", 202, answer, env);
        store_batch_put_work_order(r1.b, "DE01", "4711", doc, "released", 3, deadline);
        store_batch_put_outbox(r1.b, "mes-de01", "DE01/4711", env, false);
        store_batch_put_outbox(r1.b, "events", "DE01/4711", env, false);
        store_batch_put_trace(r1.b, "corr-1", "received", now_ms(), NULL);
        store_batch_put_trace(r1.b, "corr-1", "enqueued", 0, answer);
        commit(f, &r1);
        assert_string_equal(r1.commit_error, "");

        size_t n = 0;
        const struct store_outbox_row *rows = store_batch_outbox_rows(r1.b, &n);
        assert_int_equal(n, 2);
        static const char *const dests[] = {"mes-de01", "events"};
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(rows[i].destination, dests[i]);
                assert_string_equal(rows[i].plant, "DE01");
                assert_string_equal(rows[i].work_order, "4711");
                assert_string_equal(rows[i].lane, "DE01/4711");
                assert_string_equal(rows[i].type, "work_order.released");
                assert_string_equal(rows[i].message_id, "m1");
                assert_string_equal(rows[i].correlation_id, "corr-1");
                assert_string_equal(rows[i].state, "pending");
                assert_null(rows[i].envelope); /* kept as text, parsed on demand */
                json_t *stored = json_loads(rows[i].envelope_text, 0, NULL);
                assert_true(json_equal(stored, env));
                json_decref(stored);
                assert_int_equal(rows[i].attempts, 0);
                assert_true(rows[i].created_ms > now_ms() - 60000);
                assert_true(rows[i].next_attempt_ms > 0);
        }
        assert_true(rows[0].id < rows[1].id);
        store_batch_free(r1.b);

        /* A batch that loads (here: a restarted store, nothing cached) sees
         * what the first one committed. */
        struct store *first = f->store;
        f->store = pgt_store_ready(f->base, f->conninfo, false);
        struct run r2 = {0};
        load(f, &r2, "DE01", "4711", "s4", "m1");
        assert_true(json_equal((json_t *)store_batch_work_order(r2.b, "DE01", "4711"), doc));
        json_t *want = json_pack("{s:i, s:O}", "http_status", 202, "body", answer);
        assert_true(json_equal((json_t *)store_batch_inbox_answer(r2.b, "s4", "m1"), want));
        assert_null(store_batch_inbox_answer(r2.b, "s4", "m2"));
        store_batch_free(r2.b);
        store_free(f->store);
        f->store = first;

        /* One trace row per correlation id and batch, its steps in order. */
        assert_int_equal(count(f, "trace"), 1);
        assert_int_equal(pgt_long(f->conninfo, "SELECT count(*) FROM trace, "
                                               "json_array_elements(steps) WITH ORDINALITY "
                                               "s(step, n) WHERE (n = 1 AND step->>'step' = "
                                               "'received') OR (n = 2 AND step->>'step' = "
                                               "'enqueued')"),
                         2);
        assert_int_equal(pgt_long(f->conninfo, "SELECT revision FROM work_orders"), 3);
        assert_int_equal(pgt_long(f->conninfo, "SELECT (extract(epoch FROM next_deadline_at) * "
                                               "1000)::bigint FROM work_orders"),
                         deadline);
        json_decref(want);
        json_decref(env);
        json_decref(answer);
        json_decref(doc);
}

static void test_work_order_upsert_last_put_wins(void **state)
{
        struct fixture *f = *state;
        for (int round = 1; round <= 2; round++) {
                struct run r = {0};
                load(f, &r, "DE01", "1", NULL, NULL);
                for (int rev = 1; rev <= 3; rev++) {
                        json_t *doc = json_pack("{s:i, s:i}", "rev", rev, "round", round);
                        store_batch_put_work_order(r.b, "DE01", "1", doc, "released",
                                                   round * 10 + rev, 0);
                        json_decref(doc);
                }
                commit(f, &r);
                assert_string_equal(r.commit_error, "");
                store_batch_free(r.b);
                assert_int_equal(pgt_long(f->conninfo, "SELECT revision FROM work_orders"),
                                 round * 10 + 3);
        }
        assert_int_equal(count(f, "work_orders"), 1);
        assert_int_equal(pgt_long(f->conninfo, "SELECT count(*) FROM work_orders WHERE "
                                               "next_deadline_at IS NULL"),
                         1);
}

static void test_outbox_ids_follow_put_order(void **state)
{
        struct fixture *f = *state;
        enum { N = 60 };
        struct run r = {0};
        load(f, &r, NULL, NULL, NULL, NULL);
        char dest[N][8];
        for (int i = 0; i < N; i++) {
                /* Not sorted by name, so only put order can explain the ids. */
                snprintf(dest[i], sizeof(dest[i]), "d%02d", (i * 37) % N);
                char id[16];
                snprintf(id, sizeof(id), "m%d", i);
                put_outbox(r.b, dest[i], id, "7", false);
        }
        commit(f, &r);
        assert_string_equal(r.commit_error, "");
        size_t n = 0;
        const struct store_outbox_row *rows = store_batch_outbox_rows(r.b, &n);
        assert_int_equal(n, N);
        PGresult *res = pgt_exec(f->conninfo, "SELECT id, destination FROM outbox ORDER BY id");
        assert_int_equal(PQntuples(res), N);
        for (int i = 0; i < N; i++) {
                assert_string_equal(rows[i].destination, dest[i]);
                assert_string_equal(PQgetvalue(res, i, 1), dest[i]);
                assert_int_equal(atoll(PQgetvalue(res, i, 0)), rows[i].id);
                if (i > 0)
                        assert_true(rows[i].id > rows[i - 1].id);
        }
        PQclear(res);
        store_batch_free(r.b);
}

/* Puts that make phase 2 fail at different statements. */
static void bad_trace(struct store_batch *b)
{
        store_batch_put_trace(b, NULL, "received", 0, NULL); /* correlation_id NOT NULL */
}

static void bad_outbox(struct store_batch *b)
{
        json_t *e = json_pack("{s:s, s:s}", "id", "x", "type", "t"); /* no plant */
        store_batch_put_outbox(b, "d", "lane", e, false);
        json_decref(e);
}

static void bad_inbox(struct store_batch *b)
{
        json_t *body = json_object();
        store_batch_put_inbox(b, "s4", "dup", "c", 202, body, NULL);
        store_batch_put_inbox(b, "s4", "dup", "c", 202, body, NULL); /* primary key */
        json_decref(body);
}

static void bad_work_order(struct store_batch *b)
{
        store_batch_put_work_order(b, "DE01", "9", NULL, "released", 1, 0); /* doc NOT NULL */
}

static void test_rollback_on_failure(void **state)
{
        struct fixture *f = *state;
        static const struct {
                void (*spoil)(struct store_batch *b);
                const char *error;
        } cases[] = {
            {bad_trace, "null value in column \"correlation_id\""},
            {bad_outbox, "null value in column \"plant\""},
            {bad_inbox, "duplicate key value"},
            {bad_work_order, "null value in column \"doc\""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct run r = {0};
                load(f, &r, "DE01", "1", "s4", "ok");
                json_t *body = json_object(), *doc = json_object();
                store_batch_put_inbox(r.b, "s4", "ok", "c", 202, body, NULL);
                store_batch_put_work_order(r.b, "DE01", "1", doc, "released", 1, 0);
                put_outbox(r.b, "mes", "m1", "1", false);
                store_batch_put_trace(r.b, "c", "received", 0, NULL);
                cases[i].spoil(r.b);
                json_decref(body);
                json_decref(doc);
                commit(f, &r);
                if (!strstr(r.commit_error, cases[i].error))
                        fail_msg("case %zu: error '%s', want '%s'", i, r.commit_error,
                                 cases[i].error);
                size_t n = 1;
                store_batch_outbox_rows(r.b, &n);
                assert_int_equal(n, 0);
                store_batch_free(r.b);
                static const char *const all[] = {"inbox", "work_orders", "outbox", "trace"};
                for (size_t t = 0; t < 4; t++)
                        assert_int_equal(count(f, all[t]), 0);
        }
        /* The connection and the line are usable afterwards. */
        struct run ok = {0};
        load(f, &ok, "DE01", "1", NULL, NULL);
        put_outbox(ok.b, "mes", "m1", "1", false);
        commit(f, &ok);
        assert_string_equal(ok.commit_error, "");
        store_batch_free(ok.b);
        assert_int_equal(count(f, "outbox"), 1);
}

static void test_release_held(void **state)
{
        struct fixture *f = *state;
        struct run a = {0};
        load(f, &a, "DE01", "1", NULL, NULL);
        put_outbox(a.b, "s4", "a1", "1", true);
        put_outbox(a.b, "s4", "a2", "1", true);
        put_outbox(a.b, "s4", "other", "2", true); /* another order: stays held */
        commit(f, &a);
        assert_string_equal(a.commit_error, "");
        size_t n = 0;
        const struct store_outbox_row *rows = store_batch_outbox_rows(a.b, &n);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(rows[i].state, "held");
                assert_int_equal(rows[i].next_attempt_ms, 0);
        }
        store_batch_free(a.b);

        struct run b = {0};
        load(f, &b, "DE01", "1", NULL, NULL);
        put_outbox(b.b, "s4", "b3", "1", true);
        store_batch_release_held(b.b, "DE01", "1");
        put_outbox(b.b, "s4", "b4", "1", true); /* a new hold after the release */
        commit(f, &b);
        assert_string_equal(b.commit_error, "");
        rows = store_batch_outbox_rows(b.b, &n);
        static const struct {
                const char *message_id, *state;
        } want[] = {{"a1", "pending"}, {"a2", "pending"}, {"b3", "pending"}, {"b4", "held"}};
        assert_int_equal(n, 4);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(rows[i].message_id, want[i].message_id);
                assert_string_equal(rows[i].state, want[i].state);
                if (i > 0)
                        assert_true(rows[i].id > rows[i - 1].id);
        }
        store_batch_free(b.b);
        assert_int_equal(pgt_long(f->conninfo, "SELECT count(*) FROM outbox WHERE state = 'held'"),
                         2);
}

static void test_batches_wait_in_line(void **state)
{
        struct fixture *f = *state;
        int seq = 0;
        struct run r1 = {.seq = &seq}, r2 = {.seq = &seq};
        begin(f, &r1, "DE01", "1", NULL, NULL);
        begin(f, &r2, "DE01", "1", NULL, NULL);
        assert_true(pgt_run_until(f->base, &r1.loaded, 10000));
        pgt_run_for(f->base, 200);
        assert_false(r2.loaded); /* waits while r1's transaction is open */
        json_t *doc = json_pack("{s:s}", "by", "r1");
        store_batch_put_work_order(r1.b, "DE01", "1", doc, "released", 1, 0);
        commit(f, &r1);
        assert_true(pgt_run_until(f->base, &r2.loaded, 10000));
        assert_true(r1.committed_seq < r2.loaded_seq);
        assert_true(json_equal((json_t *)store_batch_work_order(r2.b, "DE01", "1"), doc));
        store_batch_free(r1.b);
        store_batch_free(r2.b);
        json_decref(doc);
}

static void test_freed_batches_release_the_line(void **state)
{
        struct fixture *f = *state;
        /* Freed while loaded: rolled back. */
        struct run r1 = {0};
        load(f, &r1, "DE01", "1", NULL, NULL);
        put_outbox(r1.b, "mes", "never", "1", false);
        store_batch_free(r1.b);
        /* Freed while phase 1 is in flight, and while waiting in line. */
        struct run r2 = {0}, r3 = {0};
        begin(f, &r2, "DE01", "1", NULL, NULL);
        begin(f, &r3, "DE01", "1", NULL, NULL);
        store_batch_free(r3.b);
        store_batch_free(r2.b);
        struct run r4 = {0};
        load(f, &r4, "DE01", "1", NULL, NULL);
        put_outbox(r4.b, "mes", "m4", "1", false);
        commit(f, &r4);
        assert_string_equal(r4.commit_error, "");
        store_batch_free(r4.b);
        assert_false(r2.loaded || r3.loaded);
        assert_int_equal(count(f, "outbox"), 1);
}

static void test_connection_lost_between_phases(void **state)
{
        struct fixture *f = *state;
        struct run r = {0};
        load(f, &r, "DE01", "1", NULL, NULL);
        put_outbox(r.b, "mes", "lost", "1", false);
        pgt_server_stop();
        const char *reason = NULL;
        for (int i = 0; i < 100 && store_is_ready(f->store, &reason); i++)
                pgt_run_for(f->base, 50);
        assert_false(store_is_ready(f->store, &reason));
        assert_null(store_batch_begin(f->store, NULL, 0, NULL, 0, on_loaded, NULL));
        commit(f, &r);
        assert_string_equal(r.commit_error, "connection lost before commit");
        store_batch_free(r.b);

        pgt_server_start();
        for (int i = 0; i < 300 && !store_is_ready(f->store, &reason); i++)
                pgt_run_for(f->base, 50);
        assert_true(store_is_ready(f->store, &reason));
        struct run again = {0};
        load(f, &again, "DE01", "1", NULL, NULL);
        put_outbox(again.b, "mes", "after", "1", false);
        commit(f, &again);
        assert_string_equal(again.commit_error, "");
        store_batch_free(again.b);
        assert_int_equal(count(f, "outbox"), 1);
}

static void test_store_free_fails_what_is_pending(void **state)
{
        struct fixture *f = *state;
        struct run held = {0}, loading = {0}, waiting = {0};
        load(f, &held, "DE01", "1", NULL, NULL); /* loaded, kept across the free */
        store_batch_free(held.b);
        load(f, &held, "DE01", "2", NULL, NULL);
        put_outbox(held.b, "mes", "m", "2", false);
        struct pgt_json admin = {0};
        assert_int_equal(store_trace_get(f->store, "c", pgt_json_cb, &admin), 0);
        store_free(f->store);
        f->store = NULL;
        assert_true(admin.done);
        assert_string_equal(admin.error, "shutting down");

        /* The held batch outlives the store: commit fails, free works. */
        commit(f, &held);
        assert_string_equal(held.commit_error, "shutting down");
        store_batch_free(held.b);
        assert_int_equal(count(f, "outbox"), 0);

        /* A fresh store: one batch loading, one waiting, then free. */
        f->store = pgt_store_ready(f->base, f->conninfo, false);
        begin(f, &loading, "DE01", "1", NULL, NULL);
        begin(f, &waiting, "DE01", "1", NULL, NULL);
        store_free(f->store);
        f->store = NULL;
        assert_true(loading.loaded && waiting.loaded);
        assert_string_equal(waiting.load_error, "shutting down");
        assert_string_equal(loading.load_error, "shutting down");
        store_batch_free(loading.b);
        store_batch_free(waiting.b);
}

static void test_large_batch(void **state)
{
        /* 1000 messages (the ingest maximum) with 2 KB each: several MB go
         * through PQflush returning 1 (waiting for write), in one pipeline. */
        struct fixture *f = *state;
        enum { N = 1000 };
        char *filler = malloc(2048);
        memset(filler, 'x', 2047);
        filler[2047] = '\0';
        struct run r = {0};
        load(f, &r, "DE01", "1", "s4", "m0");
        for (int i = 0; i < N; i++) {
                char id[16];
                snprintf(id, sizeof(id), "m%d", i);
                json_t *e = envelope(id, "operation.confirmed", "DE01", "1");
                json_object_set_new(json_object_get(e, "data"), "filler", json_string(filler));
                store_batch_put_inbox(r.b, "s4", id, "corr-1", 202, e, e);
                store_batch_put_outbox(r.b, "s4", "DE01/1", e, false);
                store_batch_put_trace(r.b, "corr-1", "received", 0, e);
                json_decref(e);
        }
        free(filler);
        commit(f, &r);
        assert_string_equal(r.commit_error, "");
        size_t n = 0;
        const struct store_outbox_row *rows = store_batch_outbox_rows(r.b, &n);
        assert_int_equal(n, N);
        assert_string_equal(rows[N - 1].message_id, "m999");
        store_batch_free(r.b);
        static const char *const all[] = {"inbox", "outbox"};
        for (size_t t = 0; t < 2; t++)
                assert_int_equal(count(f, all[t]), N);
        assert_int_equal(pgt_long(f->conninfo, "SELECT count(*) FROM trace, "
                                               "json_array_elements(steps)"),
                         N);
}

/* A source message's batch: its order may be new. */
static void load_new(struct fixture *f, struct run *r, const char *wo, const char *id)
{
        begin_keys(f, r, "DE01", wo, true, "s4", id);
        assert_true(pgt_run_until(f->base, &r->loaded, 10000));
        assert_string_equal(r->load_error, "");
}

/* Puts an inbox entry, the order at `revision` with doc {"v": v}, and one
 * outbox row; sends the commit (write_and_commit: and waits for it). */
static void write_and_commit_async(struct run *r, const char *wo, const char *id, int64_t revision,
                                   int v)
{
        json_t *body = json_object(), *doc = json_pack("{s:i}", "v", v);
        store_batch_put_inbox(r->b, "s4", id, "c", 202, body, NULL);
        store_batch_put_work_order(r->b, "DE01", wo, doc, "released", revision, 0);
        put_outbox(r->b, "mes", id, wo, false);
        json_decref(body);
        json_decref(doc);
        store_batch_commit(r->b, on_committed, r);
}

static void write_and_commit(struct fixture *f, struct run *r, const char *wo, const char *id,
                             int64_t revision, int v)
{
        write_and_commit_async(r, wo, id, revision, v);
        assert_true(pgt_run_until(f->base, &r->committed, 10000));
}

static long v_of(struct fixture *f, const char *wo)
{
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "SELECT (doc->>'v')::bigint FROM work_orders WHERE work_order = '%s'", wo);
        return pgt_long(f->conninfo, sql);
}

static void assert_doc_v(const json_t *doc, long v)
{
        assert_non_null(doc);
        assert_int_equal(json_integer_value(json_object_get(doc, "v")), v);
}

static void test_fast_path_uses_cached_orders(void **state)
{
        struct fixture *f = *state;
        struct run r1 = {0};
        load_new(f, &r1, "7", "m1");
        assert_null(store_batch_work_order(r1.b, "DE01", "7")); /* assumed new */
        write_and_commit(f, &r1, "7", "m1", 1, 1);
        assert_string_equal(r1.commit_error, "");
        assert_false(store_batch_retry(r1.b));
        store_batch_free(r1.b);

        /* Changed behind the store's back without a new version: the next
         * batch still decides from what the store wrote (the cache), which
         * shows nothing was read; the unchanged version lets it commit. */
        PQclear(pgt_exec(f->conninfo, "UPDATE work_orders SET doc = '{\"v\": 99}'"));
        struct run r2 = {0};
        load_new(f, &r2, "7", "m2");
        assert_doc_v(store_batch_work_order(r2.b, "DE01", "7"), 1);
        write_and_commit(f, &r2, "7", "m2", 2, 2);
        assert_string_equal(r2.commit_error, "");
        store_batch_free(r2.b);
        assert_int_equal(v_of(f, "7"), 2);
        /* every write is a new version, whatever the ERP revision says */
        assert_int_equal(pgt_long(f->conninfo, "SELECT version FROM work_orders"), 2);
        assert_int_equal(count(f, "outbox"), 2);
        assert_int_equal(count(f, "inbox"), 2);

        /* Decided, nothing to write (every request failed): committed. */
        struct run r3 = {0};
        load_new(f, &r3, "7", "m3");
        commit(f, &r3);
        assert_string_equal(r3.commit_error, "");
        size_t n = 1;
        store_batch_outbox_rows(r3.b, &n);
        assert_int_equal(n, 0);
        store_batch_free(r3.b);
}

/* Each way the fast path's assumptions can be wrong: the batch is refused
 * as a whole (nothing written, store_batch_retry), and the next batch loads
 * the truth under lock. */
static void test_fast_path_refused_then_loaded(void **state)
{
        struct fixture *f = *state;
        struct run r = {0};
        load_new(f, &r, "7", "m1");
        write_and_commit(f, &r, "7", "m1", 1, 1);
        assert_string_equal(r.commit_error, "");
        store_batch_free(r.b);

        static const struct {
                const char *behind_back; /* SQL run before the fast batch */
                const char *wo, *id;
                const char *error;
                bool cached;  /* the fast batch saw a cached doc */
                int loaded_v; /* what the retry then loads (0: no order) */
        } cases[] = {
            /* a cached order moved on */
            {"UPDATE work_orders SET version = version + 1, doc = '{\"v\": 50}' "
             "WHERE work_order = '7'",
             "7", "m2", "work order changed since it was cached", true, 50},
            /* an order assumed new exists */
            {"INSERT INTO work_orders (plant, work_order, state, revision, doc) "
             "VALUES ('DE01', '8', 'released', 3, '{\"v\": 80}')",
             "8", "m3", "duplicate key value", false, 80},
            /* the inbox id is a duplicate (order 8 now cached by the retry
             * above) */
            {"SELECT 1", "8", "m1", "duplicate key value", true, 80},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                PQclear(pgt_exec(f->conninfo, cases[i].behind_back));
                long outbox = count(f, "outbox"), inbox = count(f, "inbox");
                struct run fast = {0};
                load_new(f, &fast, cases[i].wo, cases[i].id);
                bool cached = store_batch_work_order(fast.b, "DE01", cases[i].wo) != NULL;
                assert_true(cached == cases[i].cached);
                assert_null(store_batch_inbox_answer(fast.b, "s4", cases[i].id));
                write_and_commit(f, &fast, cases[i].wo, cases[i].id, 9, 9);
                if (!strstr(fast.commit_error, cases[i].error))
                        fail_msg("case %zu: error '%s', want '%s'", i, fast.commit_error,
                                 cases[i].error);
                assert_true(store_batch_retry(fast.b));
                store_batch_free(fast.b);
                assert_int_equal(count(f, "outbox"), outbox);
                assert_int_equal(count(f, "inbox"), inbox);

                struct run again = {0};
                load_new(f, &again, cases[i].wo, cases[i].id);
                assert_doc_v(store_batch_work_order(again.b, "DE01", cases[i].wo),
                             cases[i].loaded_v);
                if (strcmp(cases[i].id, "m1") == 0)
                        assert_non_null(store_batch_inbox_answer(again.b, "s4", "m1"));
                store_batch_free(again.b); /* rolled back */
        }
        /* After the retries the cache holds the truth: fast again. */
        PQclear(pgt_exec(f->conninfo, "UPDATE work_orders SET doc = '{\"v\": 77}' "
                                      "WHERE work_order = '8'"));
        struct run last = {0};
        load_new(f, &last, "8", "m4");
        assert_doc_v(store_batch_work_order(last.b, "DE01", "8"), 80);
        write_and_commit(f, &last, "8", "m4", 4, 4);
        assert_string_equal(last.commit_error, "");
        store_batch_free(last.b);
        assert_int_equal(v_of(f, "8"), 4);
}

/* A fast batch sent frees the line: the next one is decided from what the
 * first will have written, while it commits; if the first is refused, the
 * second (decided from it) is refused too and nothing of either is kept. */
static void test_fast_batches_pipeline(void **state)
{
        struct fixture *f = *state;
        struct run r1 = {0}, r2 = {0};
        load_new(f, &r1, "7", "m1");
        write_and_commit_async(&r1, "7", "m1", 1, 1);
        load_new(f, &r2, "7", "m2");
        assert_doc_v(store_batch_work_order(r2.b, "DE01", "7"), 1);
        write_and_commit_async(&r2, "7", "m2", 1, 2);
        assert_true(pgt_run_until(f->base, &r2.committed, 10000));
        assert_true(r1.committed);
        assert_string_equal(r1.commit_error, "");
        assert_string_equal(r2.commit_error, "");
        size_t n1 = 0, n2 = 0;
        const struct store_outbox_row *o1 = store_batch_outbox_rows(r1.b, &n1);
        const struct store_outbox_row *o2 = store_batch_outbox_rows(r2.b, &n2);
        assert_int_equal(n1, 1);
        assert_int_equal(n2, 1);
        assert_true(o1[0].id < o2[0].id);
        store_batch_free(r1.b);
        store_batch_free(r2.b);
        assert_int_equal(v_of(f, "7"), 2);
        assert_int_equal(pgt_long(f->conninfo, "SELECT version FROM work_orders"), 2);

        /* m1 again: refused; m3, decided from it, is refused as well. */
        struct run r3 = {0}, r4 = {0};
        load_new(f, &r3, "7", "m1");
        write_and_commit_async(&r3, "7", "m1", 1, 3);
        load_new(f, &r4, "7", "m3");
        assert_doc_v(store_batch_work_order(r4.b, "DE01", "7"), 3);
        write_and_commit_async(&r4, "7", "m3", 1, 4);
        assert_true(pgt_run_until(f->base, &r4.committed, 10000));
        assert_true(store_batch_retry(r3.b));
        assert_true(store_batch_retry(r4.b));
        assert_non_null(strstr(r4.commit_error, "work order changed"));
        store_batch_free(r3.b);
        store_batch_free(r4.b);
        assert_int_equal(v_of(f, "7"), 2);
        assert_int_equal(count(f, "outbox"), 2);
        assert_int_equal(count(f, "inbox"), 2);
}

int main(void)
{
        if (pgt_require_server())
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_work_order_upsert_last_put_wins, setup, teardown),
            cmocka_unit_test_setup_teardown(test_outbox_ids_follow_put_order, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rollback_on_failure, setup, teardown),
            cmocka_unit_test_setup_teardown(test_release_held, setup, teardown),
            cmocka_unit_test_setup_teardown(test_batches_wait_in_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_freed_batches_release_the_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_connection_lost_between_phases, setup, teardown),
            cmocka_unit_test_setup_teardown(test_store_free_fails_what_is_pending, setup, teardown),
            cmocka_unit_test_setup_teardown(test_large_batch, setup, teardown),
            cmocka_unit_test_setup_teardown(test_fast_path_uses_cached_orders, setup, teardown),
            cmocka_unit_test_setup_teardown(test_fast_path_refused_then_loaded, setup, teardown),
            cmocka_unit_test_setup_teardown(test_fast_batches_pipeline, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
