/* test_canon_model.c — the type table (names, parsing, senders), the error
 * list and its JSON form, JSON Pointer escaping, lane keys and envelopes
 * emitted by takt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "takt/canon.h"

static const struct {
        enum canon_type type;
        const char *name;
        unsigned senders;
} types[] = {
    {CANON_WORK_ORDER_RELEASED, "work_order.released", CANON_SENDER_ERP},
    {CANON_WORK_ORDER_CHANGED, "work_order.changed", CANON_SENDER_ERP},
    {CANON_WORK_ORDER_CANCELLED, "work_order.cancelled", CANON_SENDER_ERP},
    {CANON_WORK_ORDER_ACKNOWLEDGED, "work_order.acknowledged", CANON_SENDER_MES},
    {CANON_OPERATION_STARTED, "operation.started", CANON_SENDER_MES},
    {CANON_OPERATION_CONFIRMED, "operation.confirmed", CANON_SENDER_MES},
    {CANON_MATERIAL_CONSUMED, "material.consumed", CANON_SENDER_MES},
    {CANON_QUALITY_HOLD_PLACED, "quality.hold_placed", CANON_SENDER_MES},
    {CANON_QUALITY_HOLD_RELEASED, "quality.hold_released", CANON_SENDER_MES},
    {CANON_WORK_ORDER_COMPLETED, "work_order.completed", CANON_SENDER_MES | CANON_SENDER_TAKT},
    {CANON_DOWNTIME_STARTED, "downtime.started", CANON_SENDER_MES},
    {CANON_DOWNTIME_ENDED, "downtime.ended", CANON_SENDER_MES},
    {CANON_WORK_ORDER_STATE_CHANGED, "work_order.state_changed", CANON_SENDER_TAKT},
    {CANON_SLA_BREACHED, "sla.breached", CANON_SENDER_TAKT},
};

static void test_type_table(void **state)
{
        assert_int_equal(sizeof(types) / sizeof(types[0]), CANON_TYPE_COUNT);
        for (size_t i = 0; i < CANON_TYPE_COUNT; i++) {
                enum canon_type t = CANON_TYPE_COUNT;
                assert_string_equal(canon_type_name(types[i].type), types[i].name);
                assert_true(canon_type_parse(types[i].name, &t));
                assert_int_equal(t, types[i].type);
                assert_int_equal(canon_type_senders(types[i].type), types[i].senders);
        }
        static const char *const unknown[] = {
            "",        "work_order", "work_order.*", "WORK_ORDER.RELEASED", "work_order.released ",
            "downtime"};
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
                assert_false(canon_type_parse(unknown[i], NULL));
        assert_false(canon_type_parse(NULL, NULL));
        assert_string_equal(canon_type_name(CANON_TYPE_COUNT), "unknown");
        assert_int_equal(canon_type_senders(CANON_TYPE_COUNT), 0);
}

static void test_errors_json(void **state)
{
        struct canon_errors errs = {0};
        canon_errors_add(&errs, "/3", "/data/quantity/value", "must be a number >= %d", 0);
        canon_errors_add(&errs, "", "/id", "is required");
        canon_errors_add(&errs, NULL, NULL, "whole");
        json_t *j = canon_errors_json(&errs);
        json_t *want = json_loads("{\"status\":\"invalid\",\"errors\":["
                                  "{\"path\":\"/3/data/quantity/value\","
                                  "\"message\":\"must be a number >= 0\"},"
                                  "{\"path\":\"/id\",\"message\":\"is required\"},"
                                  "{\"path\":\"\",\"message\":\"whole\"}]}",
                                  0, NULL);
        assert_non_null(want);
        assert_true(json_equal(j, want));
        json_decref(j);
        json_decref(want);

        struct canon_errors empty = {0};
        j = canon_errors_json(&empty);
        assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
        json_decref(j);
}

static void test_errors_cap(void **state)
{
        struct canon_errors errs = {0};
        for (int i = 0; i < CANON_MAX_ERRORS + 5; i++)
                canon_errors_add(&errs, "", "/x", "error %d", i);
        assert_int_equal(errs.count, CANON_MAX_ERRORS);
        assert_string_equal(errs.items[CANON_MAX_ERRORS - 1].message, "error 19");
        /* overlong paths and messages are truncated, still terminated */
        char long_text[600];
        memset(long_text, 'p', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        struct canon_errors one = {0};
        canon_errors_add(&one, long_text, long_text, "%s", long_text);
        assert_int_equal(strlen(one.items[0].path), sizeof(one.items[0].path) - 1);
        assert_int_equal(strlen(one.items[0].message), sizeof(one.items[0].message) - 1);
}

static void test_pointer_escaping(void **state)
{
        static const struct {
                const char *base, *token, *want;
        } table[] = {
            {"", "data", "/data"}, {"/data", "quantity", "/data/quantity"},
            {"", "a/b", "/a~1b"},  {"", "m~n", "/m~0n"},
            {"", "~/", "/~0~1"},   {"", "/~", "/~1~0"},
            {"", "", "/"},         {"/3", "0", "/3/0"},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                char buf[64];
                strcpy(buf, table[i].base);
                assert_string_equal(canon_pointer_append(buf, sizeof(buf), table[i].token),
                                    table[i].want);
        }
        /* never overflows, never splits an escape */
        char small[5] = "/ab";
        assert_string_equal(canon_pointer_append(small, sizeof(small), "x"), "/ab/");
        char tiny[6] = "/a";
        assert_string_equal(canon_pointer_append(tiny, sizeof(tiny), "b/"), "/a/b");
}

static void test_lane_key(void **state)
{
        static const struct {
                const char *json, *want;
        } table[] = {
            {"{\"type\":\"work_order.released\",\"plant\":\"DE01\",\"work_order\":\"1000123\"}",
             "DE01/1000123"},
            {"{\"type\":\"downtime.started\",\"plant\":\"DE01\",\"work_order\":\"1000123\","
             "\"data\":{\"work_center\":\"WC-1\"}}",
             "DE01/WC-1"},
            {"{\"type\":\"downtime.ended\",\"plant\":\"PL02\",\"data\":{\"work_center\":\"P-7\"}}",
             "PL02/P-7"},
            {"{\"type\":\"operation.started\",\"plant\":\"DE01\"}", "DE01/"},
            {"{}", "/"},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                json_t *env = json_loads(table[i].json, 0, NULL);
                char buf[64];
                assert_ptr_equal(canon_lane_key(env, buf, sizeof(buf)), buf);
                assert_string_equal(buf, table[i].want);
                json_decref(env);
        }
}

static void test_str(void **state)
{
        json_t *env = json_loads("{\"a\":\"x\",\"b\":1,\"c\":null}", 0, NULL);
        assert_string_equal(canon_str(env, "a"), "x");
        assert_null(canon_str(env, "b"));
        assert_null(canon_str(env, "c"));
        assert_null(canon_str(env, "d"));
        assert_null(canon_str(NULL, "a"));
        json_decref(env);
}

static void test_envelope_new(void **state)
{
        json_t *data = json_pack("{s:s, s:s}", "from", "released", "to", "dispatched");
        json_t *env = canon_envelope_new("m-7", CANON_WORK_ORDER_STATE_CHANGED, "DE01", "1000123",
                                         1796021102123, "corr-1", data);
        json_t *want =
            json_loads("{\"id\":\"m-7\",\"type\":\"work_order.state_changed\",\"schema_version\":1,"
                       "\"plant\":\"DE01\",\"work_order\":\"1000123\","
                       "\"occurred_at\":\"2026-11-30T06:45:02.123Z\",\"correlation_id\":\"corr-1\","
                       "\"data\":{\"from\":\"released\",\"to\":\"dispatched\"}}",
                       0, NULL);
        assert_true(json_equal(env, want));
        json_decref(want);
        json_decref(env);

        /* no work order, no correlation id, no data */
        env = canon_envelope_new("m-8", CANON_SLA_BREACHED, "DE01", NULL, 0, NULL, NULL);
        assert_null(json_object_get(env, "work_order"));
        assert_null(json_object_get(env, "correlation_id"));
        assert_true(json_is_object(json_object_get(env, "data")));
        assert_string_equal(canon_str(env, "occurred_at"), "1970-01-01T00:00:00.000Z");
        json_decref(env);

        /* an emitted work_order.completed validates like one from the MES */
        data = json_pack("{s:{s:i, s:s}, s:{s:i, s:s}}", "yield", "value", 97, "uom", "PCE",
                         "scrap", "value", 3, "uom", "PCE");
        env = canon_envelope_new("m-9", CANON_WORK_ORDER_COMPLETED, "DE01", "1000123",
                                 1796021102123, "corr-1", data);
        struct canon_errors errs = {0};
        enum canon_type t;
        assert_true(canon_validate(env, "", &t, &errs));
        assert_int_equal(t, CANON_WORK_ORDER_COMPLETED);
        json_decref(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_type_table),   cmocka_unit_test(test_errors_json),
            cmocka_unit_test(test_errors_cap),   cmocka_unit_test(test_pointer_escaping),
            cmocka_unit_test(test_lane_key),     cmocka_unit_test(test_str),
            cmocka_unit_test(test_envelope_new),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
