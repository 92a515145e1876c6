/* test_plans.c — the delivery connection's outcome UPDATE touches rows by
 * id, whatever the outbox holds: its work (shared buffers) per outcome
 * batch stays bounded when the table is large and the open-state index is
 * full of entries for delivered rows that VACUUM has not yet removed (the
 * state a busy plant is in between two autovacuum runs). The statement is
 * prepared and run as the daemon runs it: on a connection set up with
 * store_keyed_session_sql, as a generic plan, made while the table was
 * empty and kept as it grew. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pg_test.h"
#include "store_internal.h"

enum { DELIVERED_ROWS = 20000, BATCH = 40 };

static PGresult *run(PGconn *c, const char *sql)
{
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                fail_msg("%s: %s", sql, PQerrorMessage(c));
        return r;
}

static void exec_ok(PGconn *c, const char *sql)
{
        PQclear(run(c, sql));
}

/* n pending rows with envelopes of a realistic size (about 1 kB: some
 * seven rows per heap page); their ids as a PostgreSQL array literal
 * (caller frees). */
static char *insert_pending(PGconn *c, int n)
{
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "WITH r AS (INSERT INTO outbox (destination, plant, work_order, lane, type, "
                 "message_id, envelope, state, next_attempt_at) "
                 "SELECT 'mes', 'DE01', 'WO-' || g, 'WO-' || g, 'work_order.released', "
                 "'m-' || g, json_build_object('pad', repeat('x', 1000)), 'pending', now() "
                 "FROM generate_series(1, %d) g "
                 "RETURNING id) SELECT array_agg(id ORDER BY id)::text FROM r",
                 n);
        PGresult *r = run(c, sql);
        char *ids = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
        return ids;
}

/* EXPLAIN (ANALYZE, BUFFERS) of the prepared outcome update delivering
 * ids: shared buffers it hit or read, and the rows it updated. */
static long outcome_buffers(PGconn *c, const char *ids, long *updated)
{
        char sql[4096];
        snprintf(sql, sizeof(sql),
                 "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE outcome('%s', "
                 "array_fill('delivered'::text, ARRAY[%d]), array_fill(1, ARRAY[%d]), "
                 "array_fill(NULL::bigint, ARRAY[%d]), array_fill(NULL::text, ARRAY[%d]), "
                 "array_fill(1700000000000::bigint, ARRAY[%d]), "
                 "array_fill('pending'::text, ARRAY[%d]))",
                 ids, BATCH, BATCH, BATCH, BATCH, BATCH, BATCH);
        PGresult *r = run(c, sql);
        json_t *plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        PQclear(r);
        assert_non_null(plan);
        json_t *top = json_object_get(json_array_get(plan, 0), "Plan");
        /* the Update node's own rows are 0; its child's are the rows joined */
        json_t *join = json_array_get(json_object_get(top, "Plans"), 0);
        *updated = (long)json_integer_value(json_object_get(join, "Actual Rows"));
        long buffers = (long)json_integer_value(json_object_get(top, "Shared Hit Blocks")) +
                       (long)json_integer_value(json_object_get(top, "Shared Read Blocks"));
        print_message("outcome update: %ld rows, %ld buffers\n", *updated, buffers);
        json_decref(plan);
        return buffers;
}

static void test_outcome_update_reads_rows_by_id(void **state)
{
        (void)state;
        char *ci = pgt_fresh_db();
        pgt_migrate(ci);
        PGconn *c = PQconnectdb(ci);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        /* No VACUUM may clean up behind the test's back. */
        exec_ok(c, "ALTER TABLE outbox SET (autovacuum_enabled = false)");
        exec_ok(c, store_keyed_session_sql);
        exec_ok(c, "SET plan_cache_mode = force_generic_plan");
        char prepare[2048];
        snprintf(prepare, sizeof(prepare), "PREPARE outcome AS %s", store_outcome_update_sql);
        exec_ok(c, prepare);

        /* Planned on the empty table (as on a new database). */
        char *ids = insert_pending(c, BATCH);
        long updated = 0;
        long small = outcome_buffers(c, ids, &updated);
        assert_int_equal(updated, BATCH);
        free(ids);

        /* Many delivered rows: each still has its 'pending' entry in the
         * open-state index, dead, until VACUUM. Statistics as autovacuum's
         * ANALYZE would leave them. */
        char *bulk = insert_pending(c, DELIVERED_ROWS);
        free(bulk);
        exec_ok(c, "UPDATE outbox SET state = 'delivered', delivered_at = now() "
                   "WHERE state = 'pending'");
        exec_ok(c, "ANALYZE outbox");
        ids = insert_pending(c, BATCH);
        long large = outcome_buffers(c, ids, &updated);
        assert_int_equal(updated, BATCH);
        /* A row costs a few index pages and a heap page or two (measured
         * about 10); reading the index by state alone visits every delivered
         * row's heap page (3,000+ here). */
        assert_true(large <= 15 * BATCH);
        assert_true(large <= 2 * small + 100);

        /* Rows no longer pending are left alone. */
        long again = outcome_buffers(c, ids, &updated);
        assert_int_equal(updated, 0);
        assert_true(again <= 15 * BATCH);
        free(ids);
        PQfinish(c);
        free(ci);
}

int main(void)
{
        if (pgt_require_server() != 0)
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_outcome_update_reads_rows_by_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
