/* test_sla.c — SLA deadlines: acknowledge armed at release, erp_confirmation
 * at completion; a passed deadline is reported once as sla.breached; meeting
 * it cancels it; orch_next_deadline_ms follows; cancelling the order stops
 * them; a plant without deadlines has none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fixtures.h"

/* Runs orch_check_sla at now; stores the doc; returns the number emitted and
 * checks each is an sla.breached for the named sla. */
static size_t check(json_t **doc, const struct takt_plant *p, int64_t now, const char *sla)
{
        struct orch_output out;
        orch_check_sla(*doc, p, now, &out);
        size_t n = out.n_emit;
        for (size_t i = 0; i < n; i++) {
                const json_t *env = out.emit[i].envelope;
                assert_string_equal(canon_str(env, "type"), "sla.breached");
                assert_string_equal(canon_str(json_object_get(env, "data"), "sla"), sla);
                assert_non_null(canon_str(json_object_get(env, "data"), "deadline"));
                assert_string_equal(canon_str(json_object_get(env, "data"), "state"),
                                    orch_wo_state(*doc));
                assert_string_equal(canon_str(env, "correlation_id"), "corr-r1");
                assert_false(out.emit[i].hold);
        }
        if (n > 0) {
                assert_non_null(out.wo);
                json_decref(*doc);
                *doc = json_incref(out.wo);
        } else {
                assert_null(out.wo);
        }
        orch_output_clear(&out);
        return n;
}

static void test_acknowledge_breached_once(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        assert_int_equal(orch_next_deadline_ms(doc), FX_T0 + 30000);
        assert_int_equal(check(&doc, &p, FX_T0 + 29999, "acknowledge"), 0);
        assert_int_equal(check(&doc, &p, FX_T0 + 30000, "acknowledge"), 1);
        assert_int_equal(check(&doc, &p, FX_T0 + 90000, "acknowledge"), 0); /* once */
        assert_int_equal(orch_next_deadline_ms(doc), 0);
        json_t *view = orch_wo_view(doc);
        json_t *ack = json_object_get(json_object_get(view, "sla"), "acknowledge");
        assert_true(json_is_true(json_object_get(ack, "breached")));
        assert_false(json_is_true(json_object_get(ack, "met")));
        assert_string_equal(json_string_value(json_object_get(ack, "deadline")),
                            "2025-11-30T08:00:30.000Z");
        json_decref(view);
        /* a late acknowledgement still marks it met; the breach stays */
        fx_apply(&doc, &p, fx_ack("a1"), FX_T0 + 95000, NULL);
        ack = json_object_get(json_object_get(doc, "sla"), "acknowledge");
        assert_true(json_is_true(json_object_get(ack, "met")));
        assert_true(json_is_true(json_object_get(ack, "breached")));
        json_decref(doc);
}

static void test_met_deadlines_are_cancelled(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        fx_apply(&doc, &p, fx_ack("a1"), FX_T0 + 1000, NULL);
        assert_int_equal(orch_next_deadline_ms(doc), 0);
        assert_int_equal(check(&doc, &p, FX_T0 + 60000, "acknowledge"), 0);
        fx_apply(&doc, &p, fx_confirmed("c1", "0010", 100, 0, true), FX_T0 + 2000, NULL);
        fx_apply(&doc, &p, fx_confirmed("c2", "0020", 100, 0, true), FX_T0 + 3000, NULL);
        assert_string_equal(orch_wo_state(doc), "completed");
        assert_int_equal(orch_next_deadline_ms(doc), FX_T0 + 3000 + 120000);
        fx_deliver(&doc, &p, fx_msg("c2#completed", "work_order.completed", json_object()),
                   TAKT_KIND_ERP, FX_T0 + 4000, NULL);
        assert_string_equal(orch_wo_state(doc), "closed");
        assert_int_equal(orch_next_deadline_ms(doc), 0);
        assert_int_equal(check(&doc, &p, FX_T0 + 999999, "erp_confirmation"), 0);
        json_decref(doc);
}

static void test_erp_confirmation_breached(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_ORDER, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        json_t *release = fx_release("r1", 1);
        fx_apply(&doc, &p, release, FX_T0, NULL);
        fx_apply(&doc, &p, fx_ack("a1"), FX_T0, NULL);
        json_t *done = fx_completed("done", 97, 5);
        json_object_set_new(done, "correlation_id", json_string("corr-r1"));
        fx_apply(&doc, &p, done, FX_T0 + 10000, NULL);
        assert_int_equal(orch_next_deadline_ms(doc), FX_T0 + 130000);
        assert_int_equal(check(&doc, &p, FX_T0 + 130000, "erp_confirmation"), 1);
        assert_int_equal(check(&doc, &p, FX_T0 + 130001, "erp_confirmation"), 0);
        json_decref(doc);
}

static void test_cancel_stops_deadlines(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        fx_apply(&doc, &p, fx_cancelled("x1", 2), FX_T0 + 1000, NULL);
        assert_int_equal(orch_next_deadline_ms(doc), 0);
        assert_int_equal(check(&doc, &p, FX_T0 + 60000, "acknowledge"), 0);
        json_decref(doc);
}

static void test_plant_without_deadlines(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        p.sla.acknowledge_ms = 0;
        p.sla.erp_confirmation_ms = 0;
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        assert_int_equal(orch_next_deadline_ms(doc), 0);
        assert_int_equal(check(&doc, &p, FX_T0 + 1000000, "acknowledge"), 0);
        assert_int_equal(orch_next_deadline_ms(NULL), 0);
        struct orch_output out;
        orch_check_sla(NULL, &p, FX_T0, &out);
        assert_null(out.wo);
        assert_int_equal(out.n_emit, 0);
        json_decref(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_acknowledge_breached_once),
            cmocka_unit_test(test_met_deadlines_are_cancelled),
            cmocka_unit_test(test_erp_confirmation_breached),
            cmocka_unit_test(test_cancel_stops_deadlines),
            cmocka_unit_test(test_plant_without_deadlines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
