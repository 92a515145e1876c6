/* test_admin.c — the admin queries (work order, messages, trace, replay,
 * SLA) and the blocking taktd --replay, on seeded data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "pg_test.h"
#include "store_internal.h"

static const char seed_sql[] =
    "INSERT INTO work_orders (plant, work_order, state, revision, doc, next_deadline_at) VALUES"
    " ('DE01', '1', 'released', 1, '{\"k\": 1}', now() + interval '30 seconds'),"
    " ('DE01', '2', 'completed', 2, '{}', NULL),"
    " ('PL02', '3', 'completed', 5, '{\"k\": 3}', now() - interval '1 second');"
    "INSERT INTO outbox (id, destination, plant, work_order, lane, type, message_id,"
    " correlation_id, envelope, state, attempts, last_error, created_at) VALUES"
    " (1, 'mes', 'DE01', '1', 'DE01/1', 'work_order.released', 'a', 'corr-a', '{}',"
    "  'pending', 0, NULL, '2026-11-30 06:00:00.123+00'),"
    " (2, 's4', 'DE01', '1', 'DE01/1', 'operation.confirmed', 'b', 'corr-b', '{}',"
    "  'failed', 20, 'boom', now()),"
    " (3, 's4', 'DE01', '2', 'DE01/2', 'operation.confirmed', 'c', 'corr-c', '{}',"
    "  'failed', 20, 'boom', now()),"
    " (4, 'events', 'PL02', '3', 'PL02/3', 'work_order.completed', 'd', 'corr-d', '{}',"
    "  'failed', 3, 'kafka', now()),"
    " (5, 'events', 'DE01', '1', 'DE01/1', 'work_order.released', 'e', 'corr-e', '{}',"
    "  'delivered', 1, NULL, now());"
    "SELECT setval('outbox_id_seq', 5);"
    /* Rows as transactions write them (one per correlation id, steps in
     * order); the view flattens them in time order, ties in writing order. */
    "INSERT INTO trace (correlation_id, at, steps) VALUES"
    " ('corr-a', '2026-11-30 06:00:02+00', '[{\"step\": \"enqueued\", \"at_ms\": 1796018402000,"
    "   \"detail\": {\"n\": 2}}, {\"step\": \"attempt\", \"at_ms\": 1796018402000,"
    "   \"detail\": {\"n\": 3}}]'),"
    " ('corr-a', '2026-11-30 06:00:01.5+00', '[{\"step\": \"received\","
    "   \"at_ms\": 1796018401500, \"detail\": null}]')";

struct fixture {
        struct event_base *base;
        char *conninfo;
        struct store *store;
        int notifies;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->base = event_base_new();
        f->conninfo = pgt_fresh_db();
        pgt_migrate(f->conninfo);
        PQclear(pgt_exec(f->conninfo, seed_sql));
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

static void wait_json(struct fixture *f, int rc, struct pgt_json *j)
{
        assert_int_equal(rc, 0);
        assert_true(pgt_run_until(f->base, &j->done, 10000));
        assert_string_equal(j->error, "");
}

/* "[1,2,3]"-style ids of a JSON array of objects. */
static void ids_of(const json_t *arr, char *buf, size_t len)
{
        size_t i, off = 0;
        json_t *m;
        buf[0] = '\0';
        json_array_foreach(arr, i, m) off +=
            (size_t)snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
                             (long long)json_integer_value(json_object_get(m, "id")));
}

/* The view lists what still needs attention: pending, held and failed
 * deliveries (row 5 of order DE01/1 is delivered and not listed). */
static void test_work_order_get(void **state)
{
        struct fixture *f = *state;
        struct pgt_json j = {0};
        wait_json(f, store_work_order_get(f->store, "DE01", "1", pgt_json_cb, &j), &j);
        json_t *want =
            json_loads("{\"doc\": {\"k\": 1}, \"deliveries\": ["
                       "{\"id\": 1, \"destination\": \"mes\", \"type\": \"work_order.released\","
                       " \"state\": \"pending\", \"attempts\": 0, \"last_error\": null},"
                       "{\"id\": 2, \"destination\": \"s4\", \"type\": \"operation.confirmed\","
                       " \"state\": \"failed\", \"attempts\": 20, \"last_error\": \"boom\"}]}",
                       0, NULL);
        assert_true(json_equal(j.result, want));
        json_decref(want);
        pgt_json_clear(&j);

        wait_json(f, store_work_order_get(f->store, "DE01", "404", pgt_json_cb, &j), &j);
        assert_null(j.result);
        pgt_json_clear(&j);
}

static void test_messages_list(void **state)
{
        struct fixture *f = *state;
        static const struct {
                const char *state, *destination, *plant;
                int limit;
                const char *ids;
        } cases[] = {
            {"failed", NULL, NULL, 0, "4,3,2"}, {"failed", "s4", NULL, 0, "3,2"},
            {"failed", NULL, "PL02", 0, "4"},   {NULL, NULL, NULL, 2, "5,4"},
            {"pending", NULL, NULL, 10, "1"},   {"failed", "s4", "PL02", 0, ""},
            {NULL, "events", NULL, 0, "5,4"},   {"held", NULL, NULL, 0, ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct pgt_json j = {0};
                wait_json(f,
                          store_messages_list(f->store, cases[i].state, cases[i].destination,
                                              cases[i].plant, cases[i].limit, pgt_json_cb, &j),
                          &j);
                char ids[64];
                ids_of(json_object_get(j.result, "messages"), ids, sizeof(ids));
                if (strcmp(ids, cases[i].ids) != 0)
                        fail_msg("case %zu: ids %s, want %s", i, ids, cases[i].ids);
                pgt_json_clear(&j);
        }

        struct pgt_json j = {0};
        wait_json(f, store_messages_list(f->store, "pending", NULL, NULL, 0, pgt_json_cb, &j), &j);
        json_t *want = json_loads(
            "{\"id\": 1, \"destination\": \"mes\", \"plant\": \"DE01\", \"work_order\": \"1\","
            " \"type\": \"work_order.released\", \"state\": \"pending\", \"attempts\": 0,"
            " \"last_error\": null, \"created_at\": \"2026-11-30T06:00:00.123Z\"}",
            0, NULL);
        assert_true(json_equal(json_array_get(json_object_get(j.result, "messages"), 0), want));
        json_decref(want);
        pgt_json_clear(&j);
}

static void test_trace_get(void **state)
{
        struct fixture *f = *state;
        struct pgt_json j = {0};
        wait_json(f, store_trace_get(f->store, "corr-a", pgt_json_cb, &j), &j);
        json_t *want = json_loads(
            "{\"correlation_id\": \"corr-a\", \"steps\": ["
            "{\"step\": \"received\", \"at\": \"2026-11-30T06:00:01.500Z\", \"detail\": null},"
            "{\"step\": \"enqueued\", \"at\": \"2026-11-30T06:00:02.000Z\","
            " \"detail\": {\"n\": 2}},"
            "{\"step\": \"attempt\", \"at\": \"2026-11-30T06:00:02.000Z\","
            " \"detail\": {\"n\": 3}}]}",
            0, NULL);
        assert_true(json_equal(j.result, want));
        json_decref(want);
        pgt_json_clear(&j);

        wait_json(f, store_trace_get(f->store, "corr-unknown", pgt_json_cb, &j), &j);
        assert_null(j.result);
        pgt_json_clear(&j);
}

static void test_work_order_stats(void **state)
{
        struct fixture *f = *state;
        PQclear(pgt_exec(f->conninfo,
                         "INSERT INTO work_orders (plant, work_order, state, revision, doc) VALUES"
                         " ('DE01', '8', 'new', 0, '{\"parked\": [{}, {}]}'),"
                         " ('DE01', '9', 'new', 0, '{\"parked\": [{}]}')"));
        struct pgt_json j = {0};
        wait_json(f, store_work_order_stats(f->store, pgt_json_cb, &j), &j);
        assert_int_equal(json_integer_value(json_object_get(j.result, "parked")), 3);
        static const struct {
                const char *plant, *state;
                int count;
        } want[] = {{"DE01", "released", 1},
                    {"DE01", "completed", 1},
                    {"DE01", "new", 2},
                    {"PL02", "completed", 1}};
        json_t *rows = json_object_get(j.result, "work_orders");
        assert_int_equal(json_array_size(rows), 4);
        for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
                bool found = false;
                size_t i;
                json_t *row;
                json_array_foreach(rows, i, row)
                {
                        found |= strcmp(json_string_value(json_object_get(row, "plant")),
                                        want[w].plant) == 0 &&
                                 strcmp(json_string_value(json_object_get(row, "state")),
                                        want[w].state) == 0 &&
                                 json_integer_value(json_object_get(row, "count")) == want[w].count;
                }
                if (!found)
                        fail_msg("no row %s/%s = %d", want[w].plant, want[w].state, want[w].count);
        }
        pgt_json_clear(&j);
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
        ((struct fixture *)arg)->notifies++;
}

static void wait_notifies(struct fixture *f, int n)
{
        for (int i = 0; i < 100 && f->notifies < n; i++)
                pgt_run_for(f->base, 50);
        assert_int_equal(f->notifies, n);
}

static void test_message_replay(void **state)
{
        struct fixture *f = *state;
        pg_conn_listen(store_conn_listen(f->store), "takt_outbox", on_notify, f);
        pgt_run_for(f->base, 200);

        struct pgt_json j = {0};
        wait_json(f, store_message_replay(f->store, 2, pgt_json_cb, &j), &j);
        json_t *want = json_pack("{s:i, s:s}", "id", 2, "state", "pending");
        assert_true(json_equal(j.result, want));
        json_decref(want);
        pgt_json_clear(&j);
        wait_notifies(f, 1);
        assert_int_equal(pgt_long(f->conninfo, "SELECT attempts FROM outbox WHERE id = 2"), 0);
        assert_int_equal(pgt_long(f->conninfo,
                                  "SELECT count(*) FROM trace, json_array_elements(steps) s"
                                  " WHERE correlation_id = 'corr-b'"
                                  " AND s->>'step' = 'replayed'"),
                         1);

        /* Not failed (any more, or never): nothing happens, result NULL. */
        static const int64_t not_failed[] = {2, 1, 5, 999};
        for (size_t i = 0; i < sizeof(not_failed) / sizeof(not_failed[0]); i++) {
                wait_json(f, store_message_replay(f->store, not_failed[i], pgt_json_cb, &j), &j);
                assert_null(j.result);
                pgt_json_clear(&j);
        }
        assert_int_equal(pgt_long(f->conninfo,
                                  "SELECT count(*) FROM trace, json_array_elements(steps) s"
                                  " WHERE s->>'step' = 'replayed'"),
                         1);
}

static void test_sla_pending(void **state)
{
        struct fixture *f = *state;
        struct pgt_json j = {0};
        wait_json(f, store_sla_pending(f->store, pgt_json_cb, &j), &j);
        assert_int_equal(json_array_size(j.result), 2);
        static const struct {
                const char *plant, *work_order;
        } want[] = {{"PL02", "3"}, {"DE01", "1"}}; /* earliest deadline first */
        for (size_t i = 0; i < 2; i++) {
                json_t *e = json_array_get(j.result, i);
                assert_string_equal(json_string_value(json_object_get(e, "plant")), want[i].plant);
                assert_string_equal(json_string_value(json_object_get(e, "work_order")),
                                    want[i].work_order);
                assert_true(json_is_object(json_object_get(e, "doc")));
                assert_true(json_integer_value(json_object_get(e, "deadline_ms")) > 0);
        }
        pgt_json_clear(&j);
}

static void test_replay_blocking(void **state)
{
        struct fixture *f = *state;
        pg_conn_listen(store_conn_listen(f->store), "takt_outbox", on_notify, f);
        pgt_run_for(f->base, 200);
        static const struct {
                struct store_replay_selector sel;
                bool dry_run;
                int rc;
                long count;
        } cases[] = {
            {{.message_id = "3"}, true, 0, 1},
            {{.destination = "s4"}, true, 0, 2},
            {{.plant = "PL02"}, true, 0, 1},
            {{.all_failed = true}, true, 0, 3},
            {{.destination = "s4", .plant = "PL02"}, true, 0, 0},
            {{.message_id = "1"}, true, 0, 0},
            {{0}, true, -1, 0},
            {{.message_id = "abc"}, false, -1, 0},
            {{.message_id = "-1"}, false, -1, 0},
            /* for real: */
            {{.destination = "s4"}, false, 0, 2},
            {{.all_failed = true}, false, 0, 1},
            {{.all_failed = true}, false, 0, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                long count = -7;
                char err[256] = "";
                int rc = store_replay_blocking(f->conninfo, &cases[i].sel, cases[i].dry_run, &count,
                                               err, sizeof(err));
                if (rc != cases[i].rc)
                        fail_msg("case %zu: rc %d (%s)", i, rc, err);
                if (rc == 0)
                        assert_int_equal(count, cases[i].count);
                else
                        assert_true(strlen(err) > 0);
        }
        assert_int_equal(pgt_long(f->conninfo, "SELECT count(*) FROM outbox WHERE state = "
                                               "'failed'"),
                         0);
        assert_int_equal(pgt_long(f->conninfo,
                                  "SELECT count(*) FROM trace, json_array_elements(steps) s"
                                  " WHERE s->>'step' = 'replayed'"
                                  " AND s->'detail'->>'by' = 'cli'"),
                         3);
        wait_notifies(f, 2); /* one per replay that moved something */
}

static void test_admin_down(void **state)
{
        struct event_base *base = event_base_new();
        struct store *s = store_new(base, "host=127.0.0.1 port=1 dbname=x", false, NULL);
        store_start(s);
        struct pgt_json j = {0};
        assert_int_equal(store_work_order_get(s, "DE01", "1", pgt_json_cb, &j), -1);
        assert_int_equal(store_messages_list(s, NULL, NULL, NULL, 0, pgt_json_cb, &j), -1);
        assert_int_equal(store_trace_get(s, "c", pgt_json_cb, &j), -1);
        assert_int_equal(store_message_replay(s, 1, pgt_json_cb, &j), -1);
        assert_int_equal(store_sla_pending(s, pgt_json_cb, &j), -1);
        assert_int_equal(store_work_order_stats(s, pgt_json_cb, &j), -1);
        assert_false(j.done);
        store_free(s);
        event_base_free(base);
}

int main(void)
{
        if (pgt_require_server())
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_work_order_get, setup, teardown),
            cmocka_unit_test_setup_teardown(test_messages_list, setup, teardown),
            cmocka_unit_test_setup_teardown(test_trace_get, setup, teardown),
            cmocka_unit_test_setup_teardown(test_message_replay, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sla_pending, setup, teardown),
            cmocka_unit_test_setup_teardown(test_work_order_stats, setup, teardown),
            cmocka_unit_test_setup_teardown(test_replay_blocking, setup, teardown),
            cmocka_unit_test(test_admin_down),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
