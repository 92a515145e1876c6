/* test_view.c — the API view of a work order (contract §4): its keys and
 * their shapes, parked envelopes, history entries and operations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"

static const struct {
        const char *key;
        json_type type;
} shape[] = {
    {"plant", JSON_STRING},     {"work_order", JSON_STRING}, {"state", JSON_STRING},
    {"revision", JSON_INTEGER}, {"holds", JSON_ARRAY},       {"parked", JSON_ARRAY},
    {"sla", JSON_OBJECT},       {"history", JSON_ARRAY},     {"operations", JSON_ARRAY},
};

static void assert_shape(const json_t *view)
{
        for (size_t i = 0; i < sizeof(shape) / sizeof(shape[0]); i++) {
                json_t *v = json_object_get(view, shape[i].key);
                if (v == NULL || json_typeof(v) != shape[i].type)
                        fail_msg("view key %s missing or of the wrong type", shape[i].key);
        }
}

static void test_view_of_a_held_order(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 3), FX_T0, NULL);
        fx_apply(&doc, &p, fx_started("s1", "0010"), FX_T0 + 1000, NULL);
        fx_apply(&doc, &p, fx_confirmed("c1", "0010", 60, 1, false), FX_T0 + 2000, NULL);
        fx_apply(&doc, &p, fx_hold("hp1", true, "H-7"), FX_T0 + 3000, NULL);
        json_t *view = orch_wo_view(doc);
        assert_shape(view);
        assert_string_equal(json_string_value(json_object_get(view, "plant")), "DE01");
        assert_string_equal(json_string_value(json_object_get(view, "work_order")), "4711");
        assert_string_equal(json_string_value(json_object_get(view, "state")), "on_hold");
        assert_int_equal(json_integer_value(json_object_get(view, "revision")), 3);
        assert_string_equal(json_string_value(json_array_get(json_object_get(view, "holds"), 0)),
                            "H-7");
        json_t *history = json_object_get(view, "history");
        assert_int_equal(json_array_size(history), 3); /* new->released->in_progress->on_hold */
        json_t *last = json_array_get(history, 2);
        assert_string_equal(json_string_value(json_object_get(last, "from")), "in_progress");
        assert_string_equal(json_string_value(json_object_get(last, "to")), "on_hold");
        assert_string_equal(json_string_value(json_object_get(last, "at")),
                            "2025-11-30T08:00:03.000Z");
        assert_string_equal(json_string_value(json_object_get(last, "cause")),
                            "quality.hold_placed hp1");
        json_t *op = json_array_get(json_object_get(view, "operations"), 0);
        assert_string_equal(json_string_value(json_object_get(op, "operation")), "0010");
        assert_string_equal(json_string_value(json_object_get(op, "work_center")), "WC-1");
        assert_true(json_is_true(json_object_get(op, "started")));
        assert_true(json_number_value(json_object_get(op, "confirmed_yield")) == 60);
        assert_true(json_number_value(json_object_get(op, "confirmed_scrap")) == 1);
        assert_false(json_is_true(json_object_get(op, "final")));
        json_t *sla = json_object_get(view, "sla");
        assert_true(json_is_object(json_object_get(sla, "acknowledge")));
        assert_true(json_is_null(json_object_get(sla, "erp_confirmation")));
        json_decref(view);
        json_decref(doc);
}

static void test_view_of_parked_events(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_ack("a1"), FX_T0, NULL);
        fx_apply(&doc, &p, fx_started("s1", "0010"), FX_T0, NULL);
        json_t *view = orch_wo_view(doc);
        assert_shape(view);
        assert_string_equal(json_string_value(json_object_get(view, "state")), "new");
        json_t *parked = json_object_get(view, "parked");
        assert_int_equal(json_array_size(parked), 2);
        assert_string_equal(canon_str(json_array_get(parked, 0), "type"),
                            "work_order.acknowledged");
        assert_int_equal(json_integer_value(json_object_get(view, "parked_count")), 2);
        assert_int_equal(json_array_size(json_object_get(view, "history")), 0);
        json_decref(view);
        json_decref(doc);
}

static void test_history_keeps_the_last_100(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        for (int i = 0; i < 60; i++) {
                char hold[16], placed[16], released[16];
                snprintf(hold, sizeof(hold), "H%d", i);
                snprintf(placed, sizeof(placed), "p%d", i);
                snprintf(released, sizeof(released), "x%d", i);
                fx_apply(&doc, &p, fx_hold(placed, true, hold), FX_T0, NULL);
                fx_apply(&doc, &p, fx_hold(released, false, hold), FX_T0, NULL);
        }
        json_t *history = json_object_get(doc, "history");
        assert_int_equal(json_array_size(history), 100);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(history, 99), "cause")),
            "quality.hold_released x59");
        assert_string_equal(orch_wo_state(doc), "released");
        json_decref(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_view_of_a_held_order),
            cmocka_unit_test(test_view_of_parked_events),
            cmocka_unit_test(test_history_keeps_the_last_100),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
