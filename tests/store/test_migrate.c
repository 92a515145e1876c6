/* test_migrate.c — schema migrations and readiness: a fresh database, a
 * second run (idempotent), two processes migrating at once, a schema newer
 * than the build, and the daemon's readiness (manual: not ready until
 * someone migrates; auto: migrates itself; unreachable). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "migrate.h"
#include "pg_test.h"
#include "takt/store.h"

static const char *const tables[] = {"inbox", "work_orders", "outbox", "trace", "schema_version"};

static void assert_schema_complete(const char *ci)
{
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
                char sql[128];
                snprintf(sql, sizeof(sql), "SELECT (to_regclass('%s') IS NOT NULL)::int",
                         tables[i]);
                assert_int_equal(pgt_long(ci, sql), 1);
        }
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM schema_version"),
                         store_schema_version_known());
        assert_int_equal(pgt_long(ci, "SELECT max(version) FROM schema_version"),
                         store_schema_version_known());
}

static void test_fresh_and_idempotent(void **state)
{
        char *ci = pgt_fresh_db();
        for (int run = 0; run < 2; run++) {
                pgt_migrate(ci);
                assert_schema_complete(ci);
        }
        free(ci);
}

/* A database at version 2 with trace rows of the old shape (a row per
 * step) keeps them through 003: each becomes a one-step row. */
static void test_upgrade_keeps_trace(void **state)
{
        char *ci = pgt_fresh_db();
        PQclear(pgt_exec(ci, STORE_SCHEMA_VERSION_CREATE_SQL));
        for (size_t i = 0; i < 2; i++) {
                PQclear(pgt_exec(ci, store_migrations[i].sql));
                char row[160];
                snprintf(row, sizeof(row),
                         "INSERT INTO schema_version (version, name) VALUES (%d, '%s')",
                         store_migrations[i].version, store_migrations[i].name);
                PQclear(pgt_exec(ci, row));
        }
        PQclear(pgt_exec(ci, "INSERT INTO trace (correlation_id, step, at, detail) VALUES "
                             "('c', 'received', '2026-11-30 06:00:01.5+00', NULL), "
                             "('c', 'enqueued', '2026-11-30 06:00:02+00', '{\"n\": 2}')"));
        pgt_migrate(ci);
        assert_schema_complete(ci);
        assert_int_equal(
            pgt_long(ci, "SELECT count(*) FROM trace WHERE json_array_length(steps) = 1"), 2);
        assert_int_equal(pgt_long(ci,
                                  "SELECT count(*) FROM trace WHERE steps::jsonb = "
                                  "'[{\"step\": \"enqueued\", \"at_ms\": 1796018402000, "
                                  "\"detail\": {\"n\": 2}}]' AND at = '2026-11-30 06:00:02+00'"),
                         1);
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM trace WHERE steps->0->>'step' = "
                                      "'received' AND (steps->0->>'at_ms')::bigint = 1796018401500 "
                                      "AND (steps->0->'detail')::jsonb = 'null'"),
                         1);
        free(ci);
}

static void test_concurrent_migrate(void **state)
{
        char *ci = pgt_fresh_db();
        enum { N = 3 };
        pid_t pids[N];
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        char err[512];
                        int version = 0;
                        int rc = store_migrate_blocking(ci, &version, err, sizeof(err));
                        if (rc != 0)
                                fprintf(stderr, "child migrate: %s\n", err);
                        _exit(rc == 0 && version == store_schema_version_known() ? 0 : 1);
                }
        }
        for (int i = 0; i < N; i++) {
                int status = 0;
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        assert_schema_complete(ci);
        free(ci);
}

static void test_newer_schema_refused(void **state)
{
        char *ci = pgt_fresh_db();
        pgt_migrate(ci);
        char sql[128], want[128], err[512] = "";
        int known = store_schema_version_known();
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, name) VALUES (%d, 'x')",
                 known + 1);
        PQclear(pgt_exec(ci, sql));
        int version = -1;
        assert_int_equal(store_migrate_blocking(ci, &version, err, sizeof(err)), -1);
        snprintf(want, sizeof(want), "schema version %d is newer than this build knows (%d)",
                 known + 1, known);
        assert_string_equal(err, want);
        assert_int_equal(version, -1);

        /* The daemon refuses it too, with the same reason. */
        struct event_base *base = event_base_new();
        struct store *s = store_new(base, ci, true, NULL);
        store_start(s);
        const char *reason = NULL;
        for (int i = 0; i < 100; i++) {
                pgt_run_for(base, 50);
                store_is_ready(s, &reason);
                if (reason && strstr(reason, "newer"))
                        break;
        }
        assert_false(store_is_ready(s, &reason));
        assert_string_equal(reason, want);
        store_free(s);
        event_base_free(base);
        free(ci);
}

static void test_unreachable_reason(void **state)
{
        struct event_base *base = event_base_new();
        struct store *s = store_new(base, "host=127.0.0.1 port=1 dbname=x", false, NULL);
        store_start(s);
        pgt_run_for(base, 300);
        const char *reason = NULL;
        assert_false(store_is_ready(s, &reason));
        assert_non_null(reason);
        assert_true(strncmp(reason, "postgres unreachable: ", 22) == 0);
        assert_null(store_batch_begin(s, NULL, 0, NULL, 0, NULL, NULL));
        store_free(s);
        event_base_free(base);
}

struct readiness {
        int calls;
        bool ready;
        char reason[256];
};

static void on_ready(void *arg, bool ready, const char *reason)
{
        struct readiness *r = arg;
        r->calls++;
        r->ready = ready;
        snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

static void test_manual_becomes_ready_after_migrate(void **state)
{
        char *ci = pgt_fresh_db();
        struct event_base *base = event_base_new();
        struct store *s = store_new(base, ci, false, NULL);
        struct readiness r = {0};
        store_set_ready_cb(s, on_ready, &r);
        store_start(s);
        for (int i = 0; i < 100 && strcmp(r.reason, "schema not migrated: run taktd --migrate");
             i++)
                pgt_run_for(base, 50);
        assert_string_equal(r.reason, "schema not migrated: run taktd --migrate");
        assert_false(r.ready);
        assert_null(store_batch_begin(s, NULL, 0, NULL, 0, NULL, NULL));

        pgt_migrate(ci); /* someone runs taktd --migrate */
        assert_true(pgt_run_until(base, &r.ready, 5000));
        const char *reason = "x";
        assert_true(store_is_ready(s, &reason));
        assert_null(reason);
        store_free(s);
        event_base_free(base);
        free(ci);
}

static void test_auto_migrate(void **state)
{
        char *ci = pgt_fresh_db();
        struct event_base *base = event_base_new();
        struct store *s = pgt_store_ready(base, ci, true);
        assert_schema_complete(ci);
        store_free(s);
        event_base_free(base);
        free(ci);
}

static void test_auto_migrate_failure_is_the_reason(void **state)
{
        char *ci = pgt_fresh_db();
        PQclear(pgt_exec(ci, "CREATE TABLE inbox (x int)")); /* in the migration's way */
        struct event_base *base = event_base_new();
        struct store *s = store_new(base, ci, true, NULL);
        struct readiness r = {0};
        store_set_ready_cb(s, on_ready, &r);
        store_start(s);
        for (int i = 0; i < 100 && !strstr(r.reason, "migration failed"); i++)
                pgt_run_for(base, 50);
        assert_string_equal(r.reason, "migration failed: relation \"inbox\" already exists");
        /* It stays the reason (no retry storm, no flip to "not migrated"). */
        int calls = r.calls;
        pgt_run_for(base, 2500);
        assert_int_equal(r.calls, calls);
        assert_int_equal(pgt_long(ci, "SELECT count(*) FROM pg_tables WHERE tablename = 'outbox'"),
                         0); /* the failed migration left nothing behind */

        /* An operator fixes it and migrates by hand: ready. */
        PQclear(pgt_exec(ci, "DROP TABLE inbox"));
        pgt_migrate(ci);
        assert_true(pgt_run_until(base, &r.ready, 5000));
        store_free(s);
        event_base_free(base);
        free(ci);
}

int main(void)
{
        if (pgt_require_server())
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fresh_and_idempotent),
            cmocka_unit_test(test_upgrade_keeps_trace),
            cmocka_unit_test(test_concurrent_migrate),
            cmocka_unit_test(test_newer_schema_refused),
            cmocka_unit_test(test_unreachable_reason),
            cmocka_unit_test(test_manual_becomes_ready_after_migrate),
            cmocka_unit_test(test_auto_migrate),
            cmocka_unit_test(test_auto_migrate_failure_is_the_reason),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
