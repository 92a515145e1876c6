/* test_store_unit.c — the store's pure helpers, no server: splitting SQL
 * scripts into statements, array literals, the embedded migrations, the
 * work-order cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "migrate.h"
#include "pg_array.h"
#include "takt/store.h"
#include "trace_rows.h"
#include "wo_cache.h"

static void test_split(void **state)
{
        static const struct {
                const char *sql;
                int rc;
                size_t n;
                const char *first, *last;
        } cases[] = {
            {"", 0, 0, NULL, NULL},
            {"  -- only a comment\n", 0, 0, NULL, NULL},
            {"SELECT 1", 0, 1, "SELECT 1", "SELECT 1"},
            {"SELECT 1; SELECT 2;", 0, 2, "SELECT 1", "SELECT 2"},
            {"SELECT 1;;; \n ;", 0, 1, "SELECT 1", "SELECT 1"},
            {"SELECT 'a;b'; SELECT 2", 0, 2, "SELECT 'a;b'", "SELECT 2"},
            {"SELECT 'it''s;'; SELECT 2", 0, 2, "SELECT 'it''s;'", "SELECT 2"},
            {"SELECT E'\\';'; SELECT 2", 0, 2, "SELECT E'\\';'", "SELECT 2"},
            {"SELECT \"a;\" FROM t; SELECT 2", 0, 2, "SELECT \"a;\" FROM t", "SELECT 2"},
            {"-- a; b\nSELECT 1; -- c;\n", 0, 1, "-- a; b\nSELECT 1", "-- a; b\nSELECT 1"},
            {"/* a; /* nested; */ b; */ SELECT 1; SELECT 2", 0, 2,
             "/* a; /* nested; */ b; */ SELECT 1", "SELECT 2"},
            {"DO $$ BEGIN PERFORM 1; END $$; SELECT 2", 0, 2, "DO $$ BEGIN PERFORM 1; END $$",
             "SELECT 2"},
            {"DO $f$ x; $$ y; $f$; SELECT $1", 0, 2, "DO $f$ x; $$ y; $f$", "SELECT $1"},
            {"SELECT 'open", -1, 0, NULL, NULL},
            {"SELECT 1 /* open", -1, 0, NULL, NULL},
            {"DO $x$ open", -1, 0, NULL, NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct store_sql_list l = {0};
                int rc = store_sql_split(cases[i].sql, &l);
                assert_int_equal(rc, cases[i].rc);
                if (rc == 0) {
                        assert_int_equal(l.n, cases[i].n);
                        if (l.n) {
                                assert_string_equal(l.stmts[0], cases[i].first);
                                assert_string_equal(l.stmts[l.n - 1], cases[i].last);
                        }
                }
                store_sql_list_clear(&l);
        }
}

static void test_array_literal(void **state)
{
        static const struct {
                const char *elems[4];
                size_t n;
                const char *want;
        } cases[] = {
            {{NULL}, 0, "{}"},
            {{"a"}, 1, "{\"a\"}"},
            {{"a", NULL, "c"}, 3, "{\"a\",NULL,\"c\"}"},
            {{"NULL"}, 1, "{\"NULL\"}"},
            {{"q\"uote", "back\\slash", "{,}"}, 3, "{\"q\\\"uote\",\"back\\\\slash\",\"{,}\"}"},
            {{""}, 1, "{\"\"}"},
            /* escapes at the ends and back to back (runs of plain bytes
             * are copied whole) */
            {{"\"lead", "trail\\", "\"\"\\"}, 3, "{\"\\\"lead\",\"trail\\\\\",\"\\\"\\\"\\\\\"}"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct pg_array a;
                pg_array_init(&a);
                for (size_t e = 0; e < cases[i].n; e++)
                        pg_array_add(&a, cases[i].elems[e]);
                assert_string_equal(pg_array_text(&a), cases[i].want);
                assert_int_equal(a.n, cases[i].n);
                pg_array_clear(&a);
                assert_string_equal(pg_array_text(&a), "{}");
                pg_array_free(&a);
        }
}

static void test_array_json_and_int(void **state)
{
        struct pg_array a;
        pg_array_init(&a);
        json_t *j = json_pack("{s:s}", "k", "v\"");
        pg_array_add_json(&a, j);
        pg_array_add_json(&a, NULL);
        pg_array_add_int(&a, -42);
        pg_array_add_int(&a, INT64_MIN);
        /* integers go in bare: digits need no quotes */
        assert_string_equal(pg_array_text(&a), "{\"{\\\"k\\\":\\\"v\\\\\\\"\\\"}\",NULL,-42,"
                                               "-9223372036854775808}");
        json_decref(j);
        pg_array_free(&a);
}

static void test_migrations_embedded(void **state)
{
        assert_int_equal(store_schema_version_known(), (int)store_migrations_count);
        assert_true(store_migrations_count >= 1);
        for (size_t i = 0; i < store_migrations_count; i++) {
                assert_int_equal(store_migrations[i].version, (int)i + 1);
                struct store_sql_list l = {0};
                assert_int_equal(store_sql_split(store_migrations[i].sql, &l), 0);
                assert_true(l.n > 0);
                store_sql_list_clear(&l);
        }
        /* The plan from 0 ends with the last schema_version row. */
        struct store_sql_list plan = {0};
        assert_int_equal(store_migrate_plan(0, &plan), 0);
        assert_non_null(strstr(plan.stmts[plan.n - 1], "INSERT INTO schema_version"));
        store_sql_list_clear(&plan);
        assert_int_equal(store_migrate_plan(store_schema_version_known(), &plan), 0);
        assert_int_equal(plan.n, 0);
}

/* get/put/forget, revisions, and eviction of the oldest inserted entry;
 * keys are pairs, so ("ab", "c") and ("a", "bc") are different orders. */
static void test_wo_cache(void **state)
{
        struct wo_cache *c = wo_cache_new(3);
        json_t *d1 = json_pack("{s:i}", "v", 1), *d2 = json_pack("{s:i}", "v", 2);
        int64_t rev = -7;
        assert_null(wo_cache_get(c, "DE01", "1", &rev));
        assert_int_equal(rev, -7);

        wo_cache_put(c, "DE01", "1", d1, 4);
        assert_ptr_equal(wo_cache_get(c, "DE01", "1", &rev), d1);
        assert_int_equal(rev, 4);
        assert_int_equal(d1->refcount, 2); /* the cache holds its own reference */

        wo_cache_put(c, "ab", "c", d1, 1);
        assert_null(wo_cache_get(c, "a", "bc", &rev));
        wo_cache_put(c, "a", "bc", d2, 2);
        assert_ptr_equal(wo_cache_get(c, "ab", "c", &rev), d1);
        assert_int_equal(rev, 1);
        assert_ptr_equal(wo_cache_get(c, "a", "bc", &rev), d2);
        assert_int_equal(wo_cache_size(c), 3);

        /* Replacing DE01/1 makes it the newest: ("ab","c") is now oldest. */
        wo_cache_put(c, "DE01", "1", d2, 5);
        assert_int_equal(wo_cache_size(c), 3);
        wo_cache_put(c, "DE01", "2", d1, 1);
        assert_int_equal(wo_cache_size(c), 3);
        assert_null(wo_cache_get(c, "ab", "c", &rev));
        assert_non_null(wo_cache_get(c, "a", "bc", &rev));
        assert_ptr_equal(wo_cache_get(c, "DE01", "1", &rev), d2);
        assert_int_equal(rev, 5);

        wo_cache_forget(c, "DE01", "1");
        wo_cache_forget(c, "DE01", "unknown");
        assert_null(wo_cache_get(c, "DE01", "1", &rev));
        assert_int_equal(wo_cache_size(c), 2);
        wo_cache_free(c);
        assert_int_equal(d1->refcount, 1);
        assert_int_equal(d2->refcount, 1);
        json_decref(d1);
        json_decref(d2);
}

/* Steps grouped one row per correlation id, in order of first appearance,
 * each row's steps in the order added and its time its first step's; a
 * step without a correlation id is a row of its own; the literal holds
 * the rows as JSON text. Adding after writing the rows out goes on. */
static void test_trace_rows(void **state)
{
        struct trace_rows *t = trace_rows_new();
        trace_rows_add(t, "c1", "received", 100, NULL);
        trace_rows_add(t, "c2", "received", 200, "{\"n\":2}");
        trace_rows_add(t, NULL, "lonely", 250, "{}");
        trace_rows_add(t, "c1", "enqueued", 300, "{\"to\":\"mes\"}");
        struct pg_array cols[3];
        for (int i = 0; i < 3; i++)
                pg_array_init(&cols[i]);
        assert_int_equal(trace_rows_to_arrays(t, cols), 3);
        assert_string_equal(pg_array_text(&cols[0]), "{\"c1\",\"c2\",NULL}");
        assert_string_equal(pg_array_text(&cols[1]), "{100,200,250}");
        assert_string_equal(
            pg_array_text(&cols[2]),
            "{\"[{\\\"step\\\":\\\"received\\\",\\\"at_ms\\\":100,\\\"detail\\\":null},"
            "{\\\"step\\\":\\\"enqueued\\\",\\\"at_ms\\\":300,\\\"detail\\\":{\\\"to\\\":"
            "\\\"mes\\\"}}]\","
            "\"[{\\\"step\\\":\\\"received\\\",\\\"at_ms\\\":200,\\\"detail\\\":{\\\"n\\\":2}}]\","
            "\"[{\\\"step\\\":\\\"lonely\\\",\\\"at_ms\\\":250,\\\"detail\\\":{}}]\"}");
        for (int i = 0; i < 3; i++)
                pg_array_clear(&cols[i]);
        trace_rows_add(t, "c2", "delivered", 400, NULL);
        assert_int_equal(trace_rows_to_arrays(t, cols), 3);
        assert_non_null(strstr(pg_array_text(&cols[2]),
                               "{\\\"n\\\":2}},{\\\"step\\\":\\\"delivered\\\",\\\"at_ms\\\":400,"
                               "\\\"detail\\\":null}]"));
        for (int i = 0; i < 3; i++)
                pg_array_free(&cols[i]);
        trace_rows_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_split),
            cmocka_unit_test(test_array_literal),
            cmocka_unit_test(test_array_json_and_int),
            cmocka_unit_test(test_migrations_embedded),
            cmocka_unit_test(test_wo_cache),
            cmocka_unit_test(test_trace_rows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
