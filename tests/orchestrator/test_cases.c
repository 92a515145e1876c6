/* test_cases.c — the odd cases of the issue, one test each: parking and
 * replay, stale revisions, re-release, unknown operations, duplicate finals,
 * consumption before start, early acknowledgement, holds and held postings,
 * the derived completion and its deterministic ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fixtures.h"

struct fx {
        struct takt_plant plant;
        json_t *doc;
        struct orch_output out;
        char emits[512];
};

static int setup(void **state)
{
        static struct fx f;
        memset(&f, 0, sizeof(f));
        f.plant = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        orch_output_init(&f.out);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        orch_output_clear(&f->out);
        json_decref(f->doc);
        return 0;
}

/* Applies msg, keeps the output in f->out and its emits in f->emits. */
static enum orch_result step(struct fx *f, json_t *msg)
{
        orch_output_clear(&f->out);
        enum orch_result r = fx_apply(&f->doc, &f->plant, msg, FX_T0, &f->out);
        fx_emits(&f->out, f->emits, sizeof(f->emits));
        return r;
}

static void test_parked_then_applied_in_order(void **state)
{
        struct fx *f = *state;
        assert_int_equal(step(f, fx_started("s1", "0010")), ORCH_PARKED);
        assert_int_equal(step(f, fx_ack("a1")), ORCH_PARKED);
        assert_int_equal(step(f, fx_confirmed("c1", "0010", 10, 0, false)), ORCH_PARKED);
        assert_string_equal(orch_wo_state(f->doc), "new");
        assert_int_equal(orch_wo_parked_count(f->doc), 3);
        json_t *view = orch_wo_view(f->doc);
        assert_int_equal(json_array_size(json_object_get(view, "parked")), 3);
        assert_string_equal(canon_str(json_array_get(json_object_get(view, "parked"), 1), "id"),
                            "a1");
        json_decref(view);
        assert_int_equal(step(f, fx_release("r1", 1)), ORCH_ACCEPTED);
        /* arrival order: start (-> in_progress), then ack (no transition back). */
        assert_string_equal(f->emits, "REL,SC:released,STA,SC:in_progress,ACK,CNF");
        assert_string_equal(orch_wo_state(f->doc), "in_progress");
        assert_int_equal(orch_wo_parked_count(f->doc), 0);
}

static void test_parked_event_that_no_longer_fits_is_recorded(void **state)
{
        struct fx *f = *state;
        assert_int_equal(step(f, fx_confirmed("c9", "0099", 1, 0, false)), ORCH_PARKED);
        assert_int_equal(step(f, fx_release("r1", 1)), ORCH_ACCEPTED);
        assert_string_equal(f->emits, "REL,SC:released");
        json_t *rejected = json_object_get(f->doc, "rejected_parked");
        assert_int_equal(json_array_size(rejected), 1);
        assert_string_equal(canon_str(json_array_get(rejected, 0), "id"), "c9");
        assert_non_null(strstr(canon_str(json_array_get(rejected, 0), "reason"), "0099"));
}

static double orch_qty_value_of(const json_t *doc)
{
        return json_number_value(json_object_get(json_object_get(doc, "quantity"), "value"));
}

static void test_stale_revisions(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 5));
        assert_int_equal(step(f, fx_changed("ch", 5)), ORCH_STALE);
        assert_int_equal(f->out.n_emit, 0);
        assert_null(f->out.wo);
        assert_int_equal(step(f, fx_cancelled("x", 4)), ORCH_STALE);
        assert_int_equal(step(f, fx_release("r2", 5)), ORCH_STALE); /* identical release */
        assert_int_equal(step(f, fx_changed("ch2", 6)), ORCH_ACCEPTED);
        assert_string_equal(f->emits, "CHG");
        assert_int_equal(orch_wo_revision(f->doc), 6);
        assert_true(orch_qty_value_of(f->doc) == 120);
}

static void test_second_release_with_higher_revision_is_a_change(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        step(f, fx_started("s1", "0010"));
        assert_int_equal(step(f, fx_release("r2", 2)), ORCH_ACCEPTED);
        assert_string_equal(f->emits, "REL"); /* forwarded to the MES as the update */
        assert_string_equal(orch_wo_state(f->doc), "in_progress");
        assert_int_equal(orch_wo_revision(f->doc), 2);
        /* progress of kept operations survives */
        json_t *op = json_array_get(json_object_get(f->doc, "operations"), 0);
        assert_true(json_is_true(json_object_get(op, "started")));
}

static void test_change_may_not_drop_an_operation_with_progress(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        step(f, fx_started("s1", "0010"));
        json_t *chg = fx_changed("ch", 2);
        json_object_set_new(json_object_get(chg, "data"), "operations",
                            json_pack("[{s:s, s:s}]", "operation", "0020", "work_center", "WC-2"));
        assert_int_equal(step(f, chg), ORCH_CONFLICT);
        assert_non_null(strstr(f->out.reason, "0010"));
}

static void test_unknown_operation_is_named(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        assert_int_equal(step(f, fx_confirmed("c1", "0030", 1, 0, true)), ORCH_INVALID);
        assert_int_equal(f->out.errors.count, 1);
        assert_string_equal(f->out.errors.items[0].path, "/data/operation");
        assert_non_null(strstr(f->out.errors.items[0].message, "0030"));
        assert_null(f->out.wo);
        assert_int_equal(step(f, fx_started("s1", "0030")), ORCH_INVALID);
        json_t *mat = fx_consumed("m1", "MAT-2", 1);
        json_object_set_new(json_object_get(mat, "data"), "operation", json_string("0040"));
        assert_int_equal(step(f, mat), ORCH_INVALID);
        assert_non_null(strstr(f->out.errors.items[0].message, "0040"));
}

static void test_duplicate_final_confirmation_is_stale(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        assert_int_equal(step(f, fx_confirmed("c1", "0010", 100, 2, true)), ORCH_ACCEPTED);
        assert_int_equal(step(f, fx_confirmed("c1b", "0010", 100, 2, true)), ORCH_STALE);
        assert_int_equal(f->out.n_emit, 0);
        assert_int_equal(step(f, fx_confirmed("c2", "0020", 97, 3, true)), ORCH_ACCEPTED);
        assert_int_equal(step(f, fx_confirmed("c2b", "0020", 97, 3, true)), ORCH_STALE);
        assert_string_equal(orch_wo_state(f->doc), "completed");
}

static void test_scrap_separate_accepts_scrap_after_final(void **state)
{
        struct fx *f = *state;
        f->plant = fx_plant(TAKT_COMPLETION_ORDER, TAKT_SCRAP_SEPARATE);
        step(f, fx_release("r1", 1));
        step(f, fx_confirmed("c1", "0010", 100, 0, true));
        assert_int_equal(step(f, fx_confirmed("s1", "0010", 0, 2, true)), ORCH_ACCEPTED);
        json_t *op = json_array_get(json_object_get(f->doc, "operations"), 0);
        assert_true(json_number_value(json_object_get(op, "confirmed_scrap")) == 2);
        /* the same message in an embedded plant is a duplicate final */
        f->plant = fx_plant(TAKT_COMPLETION_ORDER, TAKT_SCRAP_EMBEDDED);
        assert_int_equal(step(f, fx_confirmed("s2", "0010", 0, 2, true)), ORCH_STALE);
}

static void test_consumption_before_start(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        assert_int_equal(step(f, fx_consumed("m1", "MAT-2", 5)), ORCH_ACCEPTED);
        assert_string_equal(f->emits, "CON");
        assert_string_equal(orch_wo_state(f->doc), "released");
}

static void test_ack_before_dispatch_report(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        assert_int_equal(step(f, fx_ack("a1")), ORCH_ACCEPTED);
        assert_string_equal(orch_wo_state(f->doc), "acknowledged");
        orch_output_clear(&f->out);
        fx_deliver(&f->doc, &f->plant, fx_release("r1", 1), TAKT_KIND_MES, FX_T0, &f->out);
        assert_int_equal(f->out.result, ORCH_ACCEPTED);
        assert_null(f->out.wo); /* nothing to store */
        assert_string_equal(orch_wo_state(f->doc), "acknowledged");
}

static void test_deliveries_to_other_kinds_change_nothing(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        orch_output_clear(&f->out);
        fx_deliver(&f->doc, &f->plant, fx_release("r1", 1), TAKT_KIND_NONE, FX_T0, &f->out);
        assert_null(f->out.wo);
        orch_output_clear(&f->out);
        fx_deliver(&f->doc, &f->plant, fx_release("r1", 1), TAKT_KIND_MES, FX_T0, &f->out);
        assert_string_equal(orch_wo_state(f->doc), "dispatched");
        fx_emits(&f->out, f->emits, sizeof(f->emits));
        assert_string_equal(f->emits, "SC:dispatched");
        orch_output_clear(&f->out);
        orch_delivered(NULL, &f->plant, json_object_get(f->doc, "parked"), TAKT_KIND_MES, FX_T0,
                       &f->out);
        assert_null(f->out.wo);
}

static void test_cancelled_refuses_production_reports(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        step(f, fx_cancelled("x1", 2));
        assert_int_equal(step(f, fx_ack("a1")), ORCH_CONFLICT);
        assert_non_null(strstr(f->out.reason, "cancelled"));
        assert_int_equal(step(f, fx_changed("ch", 3)), ORCH_CONFLICT);
        assert_int_equal(step(f, fx_release("r2", 3)), ORCH_CONFLICT);
}

static void test_held_postings_and_release_order(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        step(f, fx_started("s1", "0010"));
        step(f, fx_hold("hp1", true, "h1"));
        step(f, fx_hold("hp2", true, "h2"));
        assert_string_equal(f->emits, "HPL");
        step(f, fx_confirmed("c1", "0010", 100, 2, true));
        assert_string_equal(f->emits, "CNF!");
        step(f, fx_consumed("m1", "MAT-2", 5));
        assert_string_equal(f->emits, "CON!");
        step(f, fx_confirmed("c2", "0020", 97, 3, true));
        assert_string_equal(f->emits, "CNF!,CMP!"); /* completion held too */
        assert_string_equal(orch_wo_state(f->doc), "on_hold");
        assert_string_equal(json_string_value(json_object_get(f->doc, "state_before_hold")),
                            "completed");
        step(f, fx_hold("hr1", false, "h1"));
        assert_false(f->out.release_held);
        assert_string_equal(f->emits, "HRL");
        step(f, fx_hold("hr2", false, "h2"));
        assert_true(f->out.release_held);
        assert_string_equal(f->emits, "HRL,SC:completed");
        assert_string_equal(orch_wo_state(f->doc), "completed");
        assert_int_equal(step(f, fx_hold("hr3", false, "h2")), ORCH_STALE);
}

static void test_hold_released_before_placed(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        assert_int_equal(step(f, fx_hold("hr1", false, "h1")), ORCH_ACCEPTED);
        assert_int_equal(step(f, fx_hold("hp1", true, "h1")), ORCH_ACCEPTED);
        assert_string_equal(f->emits, "HPL");
        assert_string_equal(orch_wo_state(f->doc), "released");
        assert_int_equal(json_array_size(json_object_get(f->doc, "holds")), 0);
}

static void test_derived_completion_ids_and_totals(void **state)
{
        struct fx *f = *state;
        step(f, fx_release("r1", 1));
        step(f, fx_confirmed("c1", "0010", 60, 1, false));
        step(f, fx_confirmed("c2", "0010", 40, 1, true));
        step(f, fx_confirmed("c3", "0020", 97, 3, true));
        /* c1 moved it to in_progress already */
        assert_string_equal(f->emits, "CNF,CMP,SC:completed");
        const json_t *cmp = f->out.emit[1].envelope;
        assert_string_equal(canon_str(cmp, "id"), "c3#completed");
        assert_string_equal(canon_str(cmp, "correlation_id"), "corr-c3");
        assert_string_equal(canon_str(cmp, "work_order"), "4711");
        const json_t *data = json_object_get(cmp, "data");
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(data, "yield"), "value")), 97);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(data, "scrap"), "value")), 5);
        assert_string_equal(canon_str(json_object_get(data, "scrap"), "uom"), "PC");
        const json_t *sc = f->out.emit[2].envelope;
        assert_string_equal(canon_str(sc, "id"), "c3#state:completed");
        assert_string_equal(canon_str(sc, "correlation_id"), "corr-c3");
        assert_string_equal(canon_str(json_object_get(sc, "data"), "from"), "in_progress");
}

static void test_downtime_has_no_work_order(void **state)
{
        struct fx *f = *state;
        assert_int_equal(step(f, fx_downtime("d1", true)), ORCH_ACCEPTED);
        assert_null(f->out.wo);
        assert_string_equal(f->emits, "DTS");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(test_parked_then_applied_in_order),
            T(test_parked_event_that_no_longer_fits_is_recorded),
            T(test_stale_revisions),
            T(test_second_release_with_higher_revision_is_a_change),
            T(test_change_may_not_drop_an_operation_with_progress),
            T(test_unknown_operation_is_named),
            T(test_duplicate_final_confirmation_is_stale),
            T(test_scrap_separate_accepts_scrap_after_final),
            T(test_consumption_before_start),
            T(test_ack_before_dispatch_report),
            T(test_deliveries_to_other_kinds_change_nothing),
            T(test_cancelled_refuses_production_reports),
            T(test_held_postings_and_release_order),
            T(test_hold_released_before_placed),
            T(test_derived_completion_ids_and_totals),
            T(test_downtime_has_no_work_order),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
