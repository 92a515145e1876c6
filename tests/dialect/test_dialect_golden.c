/* test_dialect_golden.c — every shipped dialect in both directions against
 * golden files: tests/dialect/golden/<dialect>/<case>.in.json is mapped
 * (inbound when <case> starts with "in-", outbound when it starts with
 * "out-") and compared with <case>.out.json using json_equal. Every inbound
 * output must also pass canon_validate. With TAKT_GOLDEN_UPDATE=1 a missing
 * .out.json is written (review it before committing). Also: which types the
 * shipped dialects accept outbound, and the built-in canonical identity. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect_test_util.h"

static const char *const shipped[] = {"sap-s4", "legacy-mes"};

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one case; returns 1 when it ran. */
static void run_case(const struct dialect *d, const char *dir, const char *base)
{
        char in_path[2300], out_path[2300];
        snprintf(in_path, sizeof(in_path), "%s/%s.in.json", dir, base);
        snprintf(out_path, sizeof(out_path), "%s/%s.out.json", dir, base);
        json_t *in = test_read_json(in_path);
        assert_non_null(in);
        struct canon_errors errs = {0};
        bool inbound = strncmp(base, "in-", 3) == 0;
        json_t *got = inbound ? dialect_inbound(d, in, "", &errs) : dialect_outbound(d, in, &errs);
        if (got == NULL)
                fail_msg("%s: mapping failed: %s: %s", in_path,
                         errs.count ? errs.items[0].path : "",
                         errs.count ? errs.items[0].message : "");
        if (inbound) {
                size_t i;
                json_t *env;
                assert_true(json_array_size(got) >= 1);
                json_array_foreach(got, i, env)
                {
                        struct canon_errors verrs = {0};
                        enum canon_type t;
                        if (!canon_validate(env, "", &t, &verrs))
                                fail_msg("%s: output %zu invalid: %s: %s", in_path, i,
                                         verrs.items[0].path, verrs.items[0].message);
                }
        }
        json_t *want = test_read_json(out_path);
        if (want == NULL && getenv("TAKT_GOLDEN_UPDATE") != NULL) {
                json_dump_file(got, out_path, JSON_INDENT(2) | JSON_SORT_KEYS);
                want = json_incref(got);
        }
        assert_non_null(want);
        if (!json_equal(got, want)) {
                char *text = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
                print_error("%s: got\n%s\n", out_path, text);
                free(text);
                fail_msg("%s differs from the golden output", base);
        }
        json_decref(want);
        json_decref(got);
        json_decref(in);
}

static void test_golden(void **state)
{
        (void)state;
        for (size_t k = 0; k < sizeof(shipped) / sizeof(shipped[0]); k++) {
                struct dialect *d = test_load_shipped(shipped[k]);
                char rel[256], dir[1024];
                snprintf(rel, sizeof(rel), "tests/dialect/golden/%s", shipped[k]);
                test_source_path(dir, sizeof(dir), rel);
                DIR *dp = opendir(dir);
                assert_non_null(dp);
                char *names[256];
                size_t n = 0, n_in = 0, n_out = 0;
                struct dirent *de;
                while ((de = readdir(dp)) != NULL && n < 256) {
                        size_t len = strlen(de->d_name);
                        if (len > 8 && strcmp(de->d_name + len - 8, ".in.json") == 0)
                                names[n++] = strndup(de->d_name, len - 8);
                }
                closedir(dp);
                qsort(names, n, sizeof(names[0]), compare_names);
                for (size_t i = 0; i < n; i++) {
                        run_case(d, dir, names[i]);
                        n_in += strncmp(names[i], "in-", 3) == 0;
                        n_out += strncmp(names[i], "out-", 4) == 0;
                        free(names[i]);
                }
                assert_true(n_in > 0); /* both directions covered */
                assert_true(n_out > 0);
                dialect_free(d);
        }
}

static void test_accepts(void **state)
{
        (void)state;
        static const struct {
                const char *dialect;
                enum canon_type type;
                bool accepts;
        } table[] = {
            {"sap-s4", CANON_OPERATION_CONFIRMED, true},
            {"sap-s4", CANON_MATERIAL_CONSUMED, true},
            {"sap-s4", CANON_WORK_ORDER_COMPLETED, true},
            {"sap-s4", CANON_WORK_ORDER_RELEASED, false},
            {"sap-s4", CANON_OPERATION_STARTED, false},
            {"sap-s4", CANON_QUALITY_HOLD_PLACED, false},
            {"sap-s4", CANON_WORK_ORDER_STATE_CHANGED, false},
            {"legacy-mes", CANON_WORK_ORDER_RELEASED, true},
            {"legacy-mes", CANON_WORK_ORDER_CHANGED, true},
            {"legacy-mes", CANON_WORK_ORDER_CANCELLED, true},
            {"legacy-mes", CANON_OPERATION_CONFIRMED, false},
            {"legacy-mes", CANON_SLA_BREACHED, false},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                struct dialect *d = test_load_shipped(table[i].dialect);
                if (dialect_accepts(d, table[i].type) != table[i].accepts)
                        fail_msg("%s accepts %s: expected %d", table[i].dialect,
                                 canon_type_name(table[i].type), table[i].accepts);
                assert_false(dialect_accepts(d, CANON_TYPE_COUNT));
                dialect_free(d);
        }
        for (int t = 0; t < CANON_TYPE_COUNT; t++)
                assert_true(dialect_accepts(NULL, (enum canon_type)t));
}

/* The built-in canonical dialect (NULL) is the identity both ways. */
static void test_canonical_identity(void **state)
{
        (void)state;
        json_t *env = json_pack("{s:s, s:s}", "id", "m-1", "type", "work_order.acknowledged");
        struct canon_errors errs = {0};
        json_t *in = dialect_inbound(NULL, env, "", &errs);
        assert_int_equal(json_array_size(in), 1);
        assert_ptr_equal(json_array_get(in, 0), env);
        json_t *out = dialect_outbound(NULL, env, &errs);
        assert_ptr_equal(out, env);
        assert_int_equal(errs.count, 0);
        assert_string_equal(dialect_name(NULL), "canonical");
        json_decref(out);
        json_decref(in);
        json_decref(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_golden),
            cmocka_unit_test(test_accepts),
            cmocka_unit_test(test_canonical_identity),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
