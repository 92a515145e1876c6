/* test_pg_conn.c — one asynchronous libpq connection (src/store/pg_conn.c)
 * against a real server: pipelines, errors inside a pipeline, FIFO order,
 * many requests in flight at once,
 * submit while down, LISTEN/NOTIFY, and reconnecting after the server
 * restarts (tests/harness/pg-stop.sh, pg-start.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "pg_conn.h"
#include "pg_test.h"

/* What one request's callback saw. */
struct reply {
        bool done;
        int order; /* position among the replies of the test */
        size_t n;
        ExecStatusType status[4];
        char value[4][64];
        char error[512];
};

struct conn_fixture {
        struct event_base *base;
        char *conninfo;
        struct pg_conn *conn;
        bool up;
        int ups, downs;
        int replies;
        int notifies;
        char payload[64];
};

static void on_state(void *arg, struct pg_conn *c, bool up)
{
        struct conn_fixture *f = arg;
        f->up = up;
        if (up)
                f->ups++;
        else
                f->downs++;
}

struct reply_ctx {
        struct conn_fixture *f;
        struct reply *r;
};

static void on_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct reply_ctx *ctx = arg;
        struct reply *r = ctx->r;
        r->done = true;
        r->order = ctx->f->replies++;
        r->n = n;
        for (size_t i = 0; i < n && i < 4; i++) {
                r->status[i] = results[i] ? PQresultStatus(results[i]) : PGRES_EMPTY_QUERY;
                if (results[i] && PQresultStatus(results[i]) == PGRES_TUPLES_OK &&
                    PQntuples(results[i]) > 0)
                        snprintf(r->value[i], sizeof(r->value[i]), "%s",
                                 PQgetisnull(results[i], 0, 0) ? "(null)"
                                                               : PQgetvalue(results[i], 0, 0));
        }
        snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
        struct conn_fixture *f = arg;
        f->notifies++;
        snprintf(f->payload, sizeof(f->payload), "%s:%s", channel, payload);
}

static int setup(void **state)
{
        struct conn_fixture *f = calloc(1, sizeof(*f));
        f->base = event_base_new();
        f->conninfo = pgt_fresh_db();
        f->conn = pg_conn_new(f->base, f->conninfo, "test", on_state, f);
        assert_true(pgt_run_until(f->base, &f->up, 10000));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct conn_fixture *f = *state;
        pg_conn_free(f->conn);
        event_base_free(f->base);
        free(f->conninfo);
        free(f);
        return 0;
}

/* Submit stmts and run the loop until the reply arrived. */
static void run_request(struct conn_fixture *f, const struct pg_stmt *stmts, size_t n,
                        struct reply *r)
{
        struct reply_ctx ctx = {f, r};
        assert_int_equal(pg_conn_submit(f->conn, stmts, n, on_done, &ctx), 0);
        assert_true(pgt_run_until(f->base, &r->done, 10000));
}

static void test_pipeline_results(void **state)
{
        struct conn_fixture *f = *state;
        const char *p41[] = {"41"};
        const char *pnull[] = {NULL};
        const struct pg_stmt stmts[] = {
            {"SELECT 'one'", 0, NULL},
            {"SELECT $1::int + 1", 1, p41},
            {"SELECT $1::text", 1, pnull},
            {"CREATE TEMP TABLE t (x int)", 0, NULL},
        };
        struct reply r = {0};
        run_request(f, stmts, 4, &r);
        assert_string_equal(r.error, "");
        assert_int_equal(r.n, 4);
        static const struct {
                ExecStatusType status;
                const char *value;
        } want[] = {{PGRES_TUPLES_OK, "one"},
                    {PGRES_TUPLES_OK, "42"},
                    {PGRES_TUPLES_OK, "(null)"},
                    {PGRES_COMMAND_OK, ""}};
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(r.status[i], want[i].status);
                assert_string_equal(r.value[i], want[i].value);
        }
}

/* Parameterized statements are prepared once per connection and reused; a
 * statement that cannot be prepared still runs (and reports its own error). */
static void test_statements_are_prepared_once(void **state)
{
        struct conn_fixture *f = *state;
        const char *p1[] = {"1"};
        const struct pg_stmt twice[] = {
            {"SELECT $1::int * 2", 1, p1},
            {"SELECT $1::int * 2", 1, p1},
        };
        for (int round = 0; round < 3; round++) {
                struct reply r = {0};
                run_request(f, twice, 2, &r);
                assert_string_equal(r.error, "");
                assert_string_equal(r.value[0], "2");
                assert_string_equal(r.value[1], "2");
        }
        const struct pg_stmt count = {
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", 1,
            (const char *[]){"SELECT $1::int * 2"}};
        struct reply c = {0};
        run_request(f, &count, 1, &c);
        assert_string_equal(c.error, "");
        assert_string_equal(c.value[0], "1");

        const struct pg_stmt bad = {"SELECT $1::int FROM no_such_table", 1, p1};
        struct reply b = {0};
        run_request(f, &bad, 1, &b);
        assert_non_null(strstr(b.error, "no_such_table"));
        const struct pg_stmt after = {"SELECT $1::int + 1", 1, p1};
        struct reply a = {0};
        run_request(f, &after, 1, &a);
        assert_string_equal(a.error, "");
        assert_string_equal(a.value[0], "2");
}

static void test_error_aborts_rest_of_pipeline(void **state)
{
        struct conn_fixture *f = *state;
        const struct pg_stmt stmts[] = {
            {"SELECT 1", 0, NULL},
            {"SELECT 1/0", 0, NULL},
            {"SELECT 3", 0, NULL},
        };
        struct reply r = {0};
        run_request(f, stmts, 3, &r);
        assert_non_null(strstr(r.error, "division by zero"));
        assert_int_equal(r.status[0], PGRES_TUPLES_OK);
        assert_int_equal(r.status[1], PGRES_FATAL_ERROR);
        assert_int_equal(r.status[2], PGRES_PIPELINE_ABORTED);

        /* The connection stays usable. */
        const struct pg_stmt again = {"SELECT 'still here'", 0, NULL};
        struct reply r2 = {0};
        run_request(f, &again, 1, &r2);
        assert_string_equal(r2.error, "");
        assert_string_equal(r2.value[0], "still here");
}

static void test_fifo_order(void **state)
{
        struct conn_fixture *f = *state;
        enum { N = 6 };
        struct reply r[N];
        struct reply_ctx ctx[N];
        memset(r, 0, sizeof(r));
        for (int i = 0; i < N; i++) {
                char sql[64];
                snprintf(sql, sizeof(sql), "SELECT %d, pg_sleep(%s)", i, i == 0 ? "0.2" : "0");
                const struct pg_stmt stmt = {sql, 0, NULL};
                ctx[i] = (struct reply_ctx){f, &r[i]};
                assert_int_equal(pg_conn_submit(f->conn, &stmt, 1, on_done, &ctx[i]), 0);
        }
        assert_true(pgt_run_until(f->base, &r[N - 1].done, 10000));
        for (int i = 0; i < N; i++) {
                char want[8];
                snprintf(want, sizeof(want), "%d", i);
                assert_true(r[i].done);
                assert_int_equal(r[i].order, i);
                assert_string_equal(r[i].value[0], want);
        }
}

/* Many requests in flight at once (more than the connection sends before
 * the first answer): each gets its own results, in order; an error ends
 * only its own request; a statement first seen behind others is prepared
 * and runs. */
static void test_requests_in_flight_together(void **state)
{
        struct conn_fixture *f = *state;
        enum { N = 20 };
        struct reply r[N];
        struct reply_ctx ctx[N];
        memset(r, 0, sizeof(r));
        for (int i = 0; i < N; i++) {
                char num[8];
                snprintf(num, sizeof(num), "%d", i);
                const char *param[] = {num};
                const struct pg_stmt fails[] = {{"SELECT 1/0", 0, NULL}, {"SELECT 2", 0, NULL}};
                const struct pg_stmt plain = {i % 2 ? "SELECT $1::int * 10" : "SELECT $1::int", 1,
                                              param};
                ctx[i] = (struct reply_ctx){f, &r[i]};
                if (i % 5 == 3)
                        assert_int_equal(pg_conn_submit(f->conn, fails, 2, on_done, &ctx[i]), 0);
                else
                        assert_int_equal(pg_conn_submit(f->conn, &plain, 1, on_done, &ctx[i]), 0);
        }
        assert_true(pgt_run_until(f->base, &r[N - 1].done, 10000));
        for (int i = 0; i < N; i++) {
                assert_true(r[i].done);
                assert_int_equal(r[i].order, i);
                if (i % 5 == 3) {
                        assert_non_null(strstr(r[i].error, "division by zero"));
                        assert_int_equal(r[i].status[1], PGRES_PIPELINE_ABORTED);
                        continue;
                }
                char want[8];
                snprintf(want, sizeof(want), "%d", i % 2 ? i * 10 : i);
                assert_string_equal(r[i].error, "");
                assert_string_equal(r[i].value[0], want);
        }
}

static void test_submit_while_down(void **state)
{
        struct event_base *base = event_base_new();
        struct conn_fixture f = {0};
        /* Nothing listens on port 1 of the loopback address. */
        struct pg_conn *c = pg_conn_new(base, "host=127.0.0.1 port=1 dbname=x connect_timeout=2",
                                        "down", on_state, &f);
        const struct pg_stmt stmt = {"SELECT 1", 0, NULL};
        assert_false(pg_conn_is_up(c));
        assert_int_equal(pg_conn_submit(c, &stmt, 1, on_done, NULL), -1);
        pgt_run_for(base, 300);
        assert_false(pg_conn_is_up(c));
        assert_true(strlen(pg_conn_last_error(c)) > 0);
        assert_int_equal(f.ups, 0);
        assert_int_equal(f.downs, 0); /* never up, so never "lost" */
        pg_conn_free(c);
        event_base_free(base);
}

static void notify_from_outside(const char *conninfo, const char *payload)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "NOTIFY takt_test, '%s'", payload);
        PQclear(pgt_exec(conninfo, sql));
}

static void test_listen_notify(void **state)
{
        struct conn_fixture *f = *state;
        pg_conn_listen(f->conn, "takt_test", on_notify, f);
        pgt_run_for(f->base, 200); /* LISTEN is queued on the connection */
        notify_from_outside(f->conninfo, "hello");
        bool got = false;
        for (int i = 0; i < 100 && !got; i++) {
                pgt_run_for(f->base, 50);
                got = f->notifies > 0;
        }
        assert_true(got);
        assert_string_equal(f->payload, "takt_test:hello");
}

static void test_reconnect_after_server_restart(void **state)
{
        struct conn_fixture *f = *state;
        pg_conn_listen(f->conn, "takt_test", on_notify, f);

        /* A request in flight when the server goes away gets an error. */
        const struct pg_stmt slow = {"SELECT pg_sleep(30)", 0, NULL};
        struct reply r = {0};
        struct reply_ctx ctx = {f, &r};
        assert_int_equal(pg_conn_submit(f->conn, &slow, 1, on_done, &ctx), 0);
        pgt_run_for(f->base, 200);
        pgt_server_stop();
        assert_true(pgt_run_until(f->base, &r.done, 10000));
        assert_true(strlen(r.error) > 0);
        bool down = false;
        for (int i = 0; i < 100 && !down; i++) {
                down = !f->up;
                if (!down)
                        pgt_run_for(f->base, 50);
        }
        assert_true(down);
        assert_int_equal(f->downs, 1);
        const struct pg_stmt one = {"SELECT 1", 0, NULL};
        assert_int_equal(pg_conn_submit(f->conn, &one, 1, on_done, NULL), -1);

        /* Let it fail a few reconnects (backoff grows), then come back. */
        pgt_run_for(f->base, 500);
        pgt_server_start();
        assert_true(pgt_run_until(f->base, &f->up, 15000));
        assert_int_equal(f->ups, 2);
        struct reply r2 = {0};
        run_request(f, &one, 1, &r2);
        assert_string_equal(r2.value[0], "1");

        /* LISTEN was renewed on the new session. */
        notify_from_outside(f->conninfo, "again");
        bool got = false;
        for (int i = 0; i < 100 && !got; i++) {
                pgt_run_for(f->base, 50);
                got = f->notifies > 0;
        }
        assert_true(got);
        assert_string_equal(f->payload, "takt_test:again");
}

int main(void)
{
        if (pgt_require_server())
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_pipeline_results, setup, teardown),
            cmocka_unit_test_setup_teardown(test_statements_are_prepared_once, setup, teardown),
            cmocka_unit_test_setup_teardown(test_error_aborts_rest_of_pipeline, setup, teardown),
            cmocka_unit_test_setup_teardown(test_fifo_order, setup, teardown),
            cmocka_unit_test_setup_teardown(test_requests_in_flight_together, setup, teardown),
            cmocka_unit_test(test_submit_while_down),
            cmocka_unit_test_setup_teardown(test_listen_notify, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reconnect_after_server_restart, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
