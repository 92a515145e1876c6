/* test_plans.c — statements whose work must not grow with the tables.
 *
 * The delivery connection's outcome UPDATE touches rows by id, whatever the
 * outbox holds: its work (shared buffers) per outcome batch stays bounded
 * when the table is large and the open-state index is full of entries for
 * delivered rows that VACUUM has not yet removed (the state a busy plant is
 * in between two autovacuum runs). The statement is prepared and run as the
 * daemon runs it: on a connection set up with store_keyed_session_sql, as a
 * generic plan, made while the table was empty and kept as it grew.
 *
 * The pruner's statement (store_prune_sql) deletes the oldest rows past
 * their retention, at most a batch per table, and keeps everything else;
 * caught up, it reads a few pages however many young rows there are. */
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
#include "takt/prune_pace.h"

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

/* EXPLAIN (ANALYZE, BUFFERS) of statement (which runs it): its top plan
 * node (the caller's reference) and the shared buffers it hit or read. */
static json_t *explain(PGconn *c, const char *statement, long *buffers)
{
        char *sql = NULL;
        assert_true(asprintf(&sql, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) %s", statement) > 0);
        PGresult *r = run(c, sql);
        free(sql);
        json_t *plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        PQclear(r);
        assert_non_null(plan);
        json_t *top = json_incref(json_object_get(json_array_get(plan, 0), "Plan"));
        json_decref(plan);
        assert_non_null(top);
        *buffers = (long)json_integer_value(json_object_get(top, "Shared Hit Blocks")) +
                   (long)json_integer_value(json_object_get(top, "Shared Read Blocks"));
        return top;
}

/* A fresh migrated database (*ci: its conninfo, the caller's) and a
 * connection to it; no autovacuum on the outbox, inbox and trace, so that
 * nothing cleans up behind a test's back. */
static PGconn *fresh_db(char **ci)
{
        *ci = pgt_fresh_db();
        pgt_migrate(*ci);
        PGconn *c = PQconnectdb(*ci);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        exec_ok(c, "ALTER TABLE outbox SET (autovacuum_enabled = false)");
        exec_ok(c, "ALTER TABLE inbox SET (autovacuum_enabled = false)");
        exec_ok(c, "ALTER TABLE trace SET (autovacuum_enabled = false)");
        return c;
}

/* The prepared outcome update delivering ids: shared buffers it used, and
 * the rows it updated. */
static long outcome_buffers(PGconn *c, const char *ids, long *updated)
{
        char sql[4096];
        snprintf(sql, sizeof(sql),
                 "EXECUTE outcome('%s', "
                 "array_fill('delivered'::text, ARRAY[%d]), array_fill(1, ARRAY[%d]), "
                 "array_fill(NULL::bigint, ARRAY[%d]), array_fill(NULL::text, ARRAY[%d]), "
                 "array_fill(1700000000000::bigint, ARRAY[%d]), "
                 "array_fill('pending'::text, ARRAY[%d]))",
                 ids, BATCH, BATCH, BATCH, BATCH, BATCH, BATCH);
        long buffers;
        json_t *top = explain(c, sql, &buffers);
        /* the Update node's own rows are 0; its child's are the rows joined */
        json_t *join = json_array_get(json_object_get(top, "Plans"), 0);
        *updated = (long)json_integer_value(json_object_get(join, "Actual Rows"));
        print_message("outcome update: %ld rows, %ld buffers\n", *updated, buffers);
        json_decref(top);
        return buffers;
}

static void test_outcome_update_reads_rows_by_id(void **state)
{
        (void)state;
        char *ci;
        PGconn *c = fresh_db(&ci);
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

/* The daemon's batch (prune_pace.h), old rows for two and a half rounds. */
enum {
        PRUNE_LIMIT = PRUNE_BATCH_ROWS,
        OLD_ROWS = 5 * PRUNE_LIMIT / 2,
        YOUNG_ROWS = 60000,
        OPEN_ROWS = 300,
        OPEN_ORDER_INBOX = 30 /* old inbox records of an order still open */
};

/* One round of the prepared prune statement with the default retention
 * (7 days delivered, 30 days inbox, 7 days trace), run by EXPLAIN ANALYZE:
 * rows deleted per table (outbox, inbox, trace) and the shared buffers the
 * round used. */
static long prune_round(PGconn *c, long deleted[3])
{
        char sql[128];
        snprintf(sql, sizeof(sql), "EXECUTE prune('604800000', '2592000000', '604800000', '%d')",
                 PRUNE_LIMIT);
        long buffers;
        json_t *top = explain(c, sql, &buffers);
        /* The three CTEs' Delete nodes, in statement order. */
        json_t *plans = json_object_get(top, "Plans");
        int k = 0;
        for (size_t i = 0; i < json_array_size(plans) && k < 3; i++) {
                json_t *node = json_array_get(plans, i);
                if (strcmp(json_string_value(json_object_get(node, "Node Type")), "ModifyTable"))
                        continue;
                json_t *child = json_array_get(json_object_get(node, "Plans"), 0);
                deleted[k++] = (long)json_integer_value(json_object_get(child, "Actual Rows"));
        }
        assert_int_equal(k, 3);
        print_message("prune round: outbox %ld, inbox %ld, trace %ld rows, %ld buffers\n",
                      deleted[0], deleted[1], deleted[2], buffers);
        json_decref(top);
        return buffers;
}

static void test_prune_deletes_oldest_past_retention_only(void **state)
{
        (void)state;
        char *ci;
        PGconn *c = fresh_db(&ci);
        char sql[2048];
        /* Old rows first (low ids), as time makes them: delivered 10 days
         * ago, received 40 days ago; then open rows as old, which are never
         * pruned; then young rows (an hour old), most of the tables. */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO outbox (destination, plant, work_order, lane, type, message_id, "
                 "envelope, state, delivered_at, created_at) "
                 "SELECT 'mes', 'DE01', 'WO-' || g, 'WO-' || g, 'work_order.released', 'm-' || g, "
                 "json_build_object('pad', repeat('x', 1000)), "
                 "CASE WHEN g <= %d THEN 'delivered' WHEN g <= %d THEN "
                 "(ARRAY['pending', 'held', 'failed'])[1 + g %% 3] ELSE 'delivered' END, "
                 "CASE WHEN g <= %d THEN now() - interval '10 days' WHEN g > %d THEN "
                 "now() - interval '1 hour' END, now() - interval '11 days' "
                 "FROM generate_series(1, %d) g",
                 OLD_ROWS, OLD_ROWS + OPEN_ROWS, OLD_ROWS, OLD_ROWS + OPEN_ROWS,
                 OLD_ROWS + OPEN_ROWS + YOUNG_ROWS);
        exec_ok(c, sql);
        /* Old inbox records of a closed order, then of an open one, then
         * young ones; a record names its order in its envelope. */
        exec_ok(c, "INSERT INTO work_orders (plant, work_order, state, doc) VALUES "
                   "('DE01', 'WO-DONE', 'closed', '{}'), ('DE01', 'WO-OPEN', 'in_progress', '{}')");
        snprintf(sql, sizeof(sql),
                 "INSERT INTO inbox (source, message_id, http_status, answer, envelope, "
                 "received_at) SELECT 'erp', 'm-' || g, 202, '{}', json_build_object('plant', "
                 "'DE01', 'work_order', CASE WHEN g <= %d THEN 'WO-DONE' ELSE 'WO-OPEN' END, "
                 "'pad', repeat('x', 600)), CASE WHEN g <= %d THEN now() - interval '40 days' "
                 "ELSE now() - interval '1 hour' END FROM generate_series(1, %d) g",
                 OLD_ROWS, OLD_ROWS + OPEN_ORDER_INBOX, OLD_ROWS + OPEN_ORDER_INBOX + YOUNG_ROWS);
        exec_ok(c, sql);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO trace (correlation_id, at, steps) SELECT 'c-' || g, CASE WHEN g "
                 "<= %d THEN now() - interval '10 days' ELSE now() - interval '1 hour' END, "
                 "'[{\"step\":\"received\"}]' FROM generate_series(1, %d) g",
                 OLD_ROWS, OLD_ROWS + YOUNG_ROWS);
        exec_ok(c, sql);
        exec_ok(c, "VACUUM ANALYZE outbox, inbox, trace");
        snprintf(sql, sizeof(sql), "PREPARE prune(text, text, text, text) AS %s", store_prune_sql);
        exec_ok(c, sql);

        /* Full batches until the old rows are gone, then less. */
        long deleted[3], total[3] = {0, 0, 0};
        for (int round = 0; round < 3; round++) {
                long buffers = prune_round(c, deleted);
                for (int t = 0; t < 3; t++) {
                        long want =
                            OLD_ROWS - total[t] < PRUNE_LIMIT ? OLD_ROWS - total[t] : PRUNE_LIMIT;
                        assert_int_equal(deleted[t], want);
                        total[t] += deleted[t];
                }
                /* A deleted row costs a few index and heap pages (measured
                 * 4.5 a row, an inbox record's work-order lookup included):
                 * a round's work follows what it deletes. */
                assert_true(buffers <= 6 * (deleted[0] + deleted[1] + deleted[2]) + 200);
        }
        assert_int_equal(total[0], OLD_ROWS);
        /* Everything young and every open message stays. */
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM outbox WHERE state = 'delivered'"),
                         YOUNG_ROWS);
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM outbox WHERE state <> 'delivered'"),
                         OPEN_ROWS);
        /* An open order's records stay, however old: a resend is still a
         * duplicate. */
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM inbox"), OPEN_ORDER_INBOX + YOUNG_ROWS);
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM trace"), YOUNG_ROWS);

        /* Caught up (and vacuumed, as autovacuum will have): a round reads
         * the first batch of trace rows and the open order's old inbox
         * records (measured: 131 pages in all), not the young rows (with
         * "id IN (SELECT ...)" for the outbox: 1,853). */
        exec_ok(c, "VACUUM outbox, inbox, trace");
        long buffers = prune_round(c, deleted);
        assert_int_equal(deleted[0] + deleted[1] + deleted[2], 0);
        assert_true(buffers < 400);

        /* Forever (NULL) deletes nothing, however old. */
        exec_ok(c, "UPDATE inbox SET received_at = now() - interval '1000 days'");
        PGresult *r = run(c, "EXECUTE prune(NULL, NULL, NULL, '1000')");
        assert_string_equal(PQgetvalue(r, 0, 0), "{\"inbox\": 0, \"trace\": 0, \"outbox\": 0}");
        PQclear(r);
        PQfinish(c);
        free(ci);
}

int main(void)
{
        if (pgt_require_server() != 0)
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_outcome_update_reads_rows_by_id),
            cmocka_unit_test(test_prune_deletes_oldest_past_retention_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
