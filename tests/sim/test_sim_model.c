/* test_sim_model.c — takt-sim's pure half: the MES plan (every operation
 * confirmed once finally, completion = last yield + all scrap, holds placed
 * and released), the codecs (canonical round trip, sap-s4 release and
 * postings, legacy-mes messages), the totals (what the MES sent, read back
 * as the ERP would, sums equal), the verdict and the /metrics reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "sim.h"

#define NOW_MS 1796083200123LL /* 2026-12-01T00:00:00.123Z */

static void make_order(uint64_t seed, struct sim_order_spec *o)
{
        struct sim_rng r;
        sim_rng_seed(&r, seed);
        sim_order_generate(&r, "DE01", "100000000001", NOW_MS, o);
}

struct plan_row {
        enum sim_completion completion;
        enum sim_scrap scrap;
        double hold_rate;
};
static const struct plan_row plan_rows[] = {
    {SIM_COMPLETION_OPERATION, SIM_SCRAP_EMBEDDED, 0},
    {SIM_COMPLETION_ORDER, SIM_SCRAP_SEPARATE, 0},
    {SIM_COMPLETION_OPERATION, SIM_SCRAP_SEPARATE, 1},
    {SIM_COMPLETION_ORDER, SIM_SCRAP_EMBEDDED, 1},
};

static void test_plan_confirms_every_operation_and_completes_with_the_sums(void **state)
{
        for (size_t row = 0; row < sizeof(plan_rows) / sizeof(plan_rows[0]); row++) {
                for (uint64_t seed = 1; seed <= 50; seed++) {
                        struct sim_order_spec o;
                        struct sim_event ev[SIM_MAX_EVENTS];
                        struct sim_rng r;
                        struct sim_plan_params p = {plan_rows[row].completion,
                                                    plan_rows[row].scrap,
                                                    plan_rows[row].hold_rate,
                                                    0.3,
                                                    10,
                                                    20,
                                                    500};
                        make_order(seed, &o);
                        sim_rng_seed(&r, seed * 7);
                        int n = sim_plan_build(&r, &o, &p, ev);
                        assert_true(n >= 4 && n <= SIM_MAX_EVENTS);
                        assert_int_equal(ev[0].kind, SIM_EV_ACK);
                        assert_int_equal(ev[n - 1].kind, SIM_EV_COMPLETE);
                        int finals = 0, holds = 0, unholds = 0, consumed = 0, started = 0;
                        double scrap = 0, last_yield = -1;
                        for (int i = 0; i < n; i++) {
                                if (ev[i].kind == SIM_EV_START)
                                        assert_int_equal(ev[i].op, started++);
                                if (ev[i].kind == SIM_EV_CONFIRM) {
                                        assert_int_equal(ev[i].op, started - 1);
                                        scrap += ev[i].scrap;
                                        if (p.scrap == SIM_SCRAP_SEPARATE)
                                                assert_true(ev[i].yield == 0 || ev[i].scrap == 0);
                                        if (ev[i].final) {
                                                finals++;
                                                last_yield = ev[i].yield;
                                        }
                                }
                                holds += ev[i].kind == SIM_EV_HOLD;
                                unholds += ev[i].kind == SIM_EV_UNHOLD;
                                consumed += ev[i].kind == SIM_EV_CONSUME;
                                if (i < n - 1 || p.completion == SIM_COMPLETION_ORDER)
                                        assert_true(
                                            ev[i].delay_ms >= 10 &&
                                            (ev[i].delay_ms <= 20 || ev[i].kind == SIM_EV_UNHOLD));
                        }
                        assert_int_equal(finals, o.nops);
                        assert_int_equal(consumed, o.ncomps);
                        assert_int_equal(holds, p.hold_rate == 1 ? 1 : 0);
                        assert_int_equal(unholds, holds);
                        assert_true(ev[n - 1].yield == last_yield);
                        assert_true(ev[n - 1].scrap == scrap);
                        assert_true(last_yield + scrap == o.qty.value);
                }
        }
}

static void test_canonical_release_round_trip(void **state)
{
        struct sim_order_spec o, back;
        make_order(3, &o);
        json_t *msg = sim_erp_canonical.encode_release(&o);
        assert_non_null(msg);
        assert_string_equal(sim_json_str(msg, "type"), "work_order.released");
        assert_string_equal(sim_json_str(msg, "occurred_at"), "2026-12-01T00:00:00.000Z");
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(msg, "data"), "revision")),
            20261201000000LL);
        assert_true(sim_mes_canonical.decode_release(msg, &back));
        assert_string_equal(back.plant, "DE01");
        assert_string_equal(back.work_order, o.work_order);
        assert_true(back.qty.value == o.qty.value);
        assert_int_equal(back.nops, o.nops);
        assert_int_equal(back.ncomps, o.ncomps);
        for (int i = 0; i < o.nops; i++)
                assert_string_equal(back.ops[i].work_center, o.ops[i].work_center);
        for (int i = 0; i < o.ncomps; i++)
                assert_true(back.comps[i].qty.value == o.comps[i].qty.value);
        json_decref(msg);
}

static void test_sap_s4_release_is_odata(void **state)
{
        struct sim_order_spec o;
        make_order(5, &o);
        json_t *msg = sim_erp_sap_s4.encode_release(&o);
        json_t *d = json_object_get(msg, "d");
        assert_string_equal(sim_json_str(d, "ManufacturingOrder"), o.work_order);
        assert_string_equal(sim_json_str(d, "ProductionPlant"), "DE01");
        assert_string_equal(sim_json_str(d, "ProductionUnit"), "PC");
        assert_string_equal(sim_json_str(d, "LastChangeDateTime"), "20261201000000");
        assert_string_equal(sim_json_str(d, "MfgOrderPlannedStartDate"), "/Date(1796169600000)/");
        assert_string_equal(sim_json_str(d, "MfgOrderPlannedStartTime"), "PT06H00M00S");
        assert_true(sim_json_number(json_object_get(d, "TotalQuantity")) == o.qty.value);
        assert_true(json_is_string(json_object_get(d, "TotalQuantity")));
        assert_int_equal(json_array_size(json_object_get(
                             json_object_get(d, "to_ProductionOrderOperation"), "results")),
                         (size_t)o.nops);
        json_decref(msg);
}

struct posting_row {
        const char *type, *body;
        enum sim_posting_kind kind;
        const char *work_order;
        double yield, scrap, qty;
};
static const struct posting_row s4_rows[] = {
    {"operation.confirmed",
     "{\"OrderID\":\"1000123\",\"OrderOperation\":\"0010\",\"Plant\":\"DE01\","
     "\"ConfirmationYieldQuantity\":\"495\",\"ConfirmationScrapQuantity\":\"5\"}",
     SIM_POST_CONFIRM, "1000123", 495, 5, 0},
    {"material.consumed",
     "{\"GoodsMovementCode\":\"03\",\"to_MaterialDocumentItem\":{\"results\":[{\"Material\":"
     "\"RM-7\",\"Plant\":\"DE01\",\"GoodsMovementType\":\"261\",\"ManufacturingOrder\":"
     "\"1000123\",\"QuantityInEntryUnit\":\"12.5\",\"EntryUnit\":\"KG\"}]}}",
     SIM_POST_CONSUME, "1000123", 0, 0, 12.5},
    {"work_order.completed",
     "{\"GoodsMovementCode\":\"02\",\"to_MaterialDocumentItem\":{\"results\":[{\"Plant\":"
     "\"DE01\",\"GoodsMovementType\":\"101\",\"ManufacturingOrder\":\"1000123\","
     "\"QuantityInEntryUnit\":\"495\"}]}}",
     SIM_POST_COMPLETE, "1000123", 495, 0, 0},
    {"work_order.state_changed", "{}", SIM_POST_OTHER, "", 0, 0, 0},
};

static void test_sap_s4_postings_decode(void **state)
{
        for (size_t i = 0; i < sizeof(s4_rows) / sizeof(s4_rows[0]); i++) {
                struct sim_posting p;
                json_t *body = json_loads(s4_rows[i].body, 0, NULL);
                assert_non_null(body);
                assert_true(sim_erp_sap_s4.decode_posting(s4_rows[i].type, body, &p));
                assert_int_equal(p.kind, s4_rows[i].kind);
                assert_string_equal(p.work_order, s4_rows[i].work_order);
                assert_true(p.yield == s4_rows[i].yield && p.scrap == s4_rows[i].scrap &&
                            p.qty == s4_rows[i].qty);
                json_decref(body);
        }
        struct sim_posting p;
        json_t *bad =
            json_loads("{\"OrderID\":\"1\",\"ConfirmationYieldQuantity\":\"x\"}", 0, NULL);
        assert_false(sim_erp_sap_s4.decode_posting("operation.confirmed", bad, &p));
        json_decref(bad);
}

/* What the canonical MES sends is what takt forwards to a canonical ERP:
 * read back as postings, the ERP's totals equal the MES's. */
static void test_mes_events_read_back_as_erp_totals(void **state)
{
        for (uint64_t seed = 1; seed <= 30; seed++) {
                struct sim_order_spec o;
                struct sim_event ev[SIM_MAX_EVENTS];
                struct sim_rng r;
                struct sim_plan_params p = {
                    SIM_COMPLETION_ORDER, SIM_SCRAP_SEPARATE, 0.5, 0.2, 1, 1, 1};
                struct sim_totals mes = {0}, erp = {0};
                make_order(seed, &o);
                sim_rng_seed(&r, seed);
                int n = sim_plan_build(&r, &o, &p, ev);
                for (int i = 0; i < n; i++) {
                        struct sim_posting want, got;
                        if (sim_event_posting(&o, &ev[i], &want))
                                sim_totals_add(&mes, &want);
                        json_t *m = sim_mes_canonical.encode_event(&o, &ev[i], "m-1", NOW_MS);
                        assert_non_null(m);
                        assert_true(
                            sim_erp_canonical.decode_posting(sim_json_str(m, "type"), m, &got));
                        sim_totals_add(&erp, &got);
                        json_decref(m);
                }
                assert_true(sim_totals_equal(&mes, &erp));
                assert_int_equal(mes.completions, 1);
                assert_true(mes.completed_yield + mes.scrap == o.qty.value);
                erp.yield += 1;
                assert_false(sim_totals_equal(&mes, &erp));
        }
}

static void test_legacy_mes_messages(void **state)
{
        struct sim_order_spec o;
        make_order(9, &o);
        o.ncomps = 1;
        o.comps[0] = (struct sim_component){"RM-7", {12.5, "KG"}, "0010"};
        struct sim_event scrap = {SIM_EV_CONFIRM, 0, -1, 0, 3, false, 0};
        struct sim_event yield = {SIM_EV_CONFIRM, 0, -1, 97, 0, true, 0};
        struct sim_event consume = {SIM_EV_CONSUME, 0, 0, 0, 0, false, 0};
        struct sim_event done = {SIM_EV_COMPLETE, -1, -1, 97, 3, false, 0};
        json_t *m = sim_mes_legacy.encode_event(&o, &scrap, "L-1", NOW_MS);
        assert_string_equal(sim_json_str(m, "msg_type"), "SCRAP");
        assert_string_equal(sim_json_str(m, "qty"), "3");
        assert_string_equal(sim_json_str(m, "uom"), "PCS");
        assert_string_equal(sim_json_str(m, "date"), "20261201");
        assert_string_equal(sim_json_str(m, "time"), "000000");
        json_decref(m);
        m = sim_mes_legacy.encode_event(&o, &yield, "L-2", NOW_MS);
        assert_string_equal(sim_json_str(m, "msg_type"), "YIELD");
        assert_true(json_is_true(json_object_get(m, "last")));
        json_decref(m);
        m = sim_mes_legacy.encode_event(&o, &consume, "L-3", NOW_MS);
        assert_string_equal(sim_json_str(m, "msg_type"), "CONSUME");
        assert_string_equal(sim_json_str(json_array_get(json_object_get(m, "items"), 0), "uom"),
                            "KGM");
        json_decref(m);
        m = sim_mes_legacy.encode_event(&o, &done, "L-4", NOW_MS);
        assert_string_equal(sim_json_str(m, "msg_type"), "DONE");
        assert_string_equal(sim_json_str(m, "good_qty"), "97");
        json_decref(m);

        struct sim_order_spec back;
        json_t *order = json_loads(
            "{\"msg_type\":\"ORDER\",\"action\":\"NEW\",\"msg_id\":\"x\",\"site\":\"PL02\","
            "\"order_no\":\"1000123\",\"material\":\"FG-100\",\"qty\":\"500\",\"uom\":\"PCS\","
            "\"ops\":[{\"op_no\":\"0010\",\"wc\":\"LATHE-3\"},{\"op_no\":\"0020\",\"wc\":\"A\"}],"
            "\"bom\":[{\"mat\":\"RM-7\",\"qty\":\"12.5\",\"uom\":\"KGM\",\"op_no\":\"0010\"}]}",
            0, NULL);
        assert_true(sim_mes_legacy.decode_release(order, &back));
        assert_string_equal(back.plant, "PL02");
        assert_true(back.qty.value == 500);
        assert_string_equal(back.qty.uom, "EA");
        assert_int_equal(back.nops, 2);
        assert_true(back.comps[0].qty.value == 12.5);
        assert_string_equal(back.comps[0].qty.uom, "KG");
        json_object_set_new(order, "action", json_string("CANCEL"));
        assert_false(sim_mes_legacy.decode_release(order, &back));
        json_decref(order);
}

static void test_verdict_and_report(void **state)
{
        struct sim_stats s;
        memset(&s, 0, sizeof(s));
        s.nplants = 1;
        strcpy(s.plants[0], "DE01");
        s.mes[0].confirmations = s.erp[0].confirmations = 4;
        s.mes[0].yield = s.erp[0].yield = 400;
        s.sla_breaches = 0;
        s.released = s.closed = 2;
        assert_true(sim_stats_ok(&s));
        json_t *r = sim_report_json(&s);
        assert_true(json_is_true(json_object_get(r, "ok")));
        assert_true(json_is_true(
            json_object_get(json_object_get(json_object_get(r, "plants"), "DE01"), "equal")));
        json_decref(r);
        /* each of these alone fails the verdict */
        long *spoilers[] = {&s.open, &s.releases_unanswered, &s.release_rejected, &s.mes_rejected};
        for (size_t i = 0; i < sizeof(spoilers) / sizeof(spoilers[0]); i++) {
                *spoilers[i] = 1;
                assert_false(sim_stats_ok(&s));
                *spoilers[i] = 0;
        }
        s.released = 0;
        assert_false(sim_stats_ok(&s));
        s.released = 2;
        s.erp[0].yield = 399;
        assert_false(sim_stats_ok(&s));
        r = sim_report_json(&s);
        assert_true(json_is_false(json_object_get(r, "ok")));
        json_decref(r);
}

static void test_metric_sum(void **state)
{
        static const char text[] =
            "# HELP takt_sla_breaches_total SLA breaches\n"
            "# TYPE takt_sla_breaches_total counter\n"
            "takt_sla_breaches_total{plant=\"DE01\",sla=\"acknowledge\"} 2\n"
            "takt_sla_breaches_total{plant=\"PL02\",sla=\"erp_confirmation\"} 3\n"
            "takt_sla_breaches_total_other 100\n"
            "takt_parked_events 7\n";
        assert_true(sim_metric_sum(text, strlen(text), "takt_sla_breaches_total") == 5);
        assert_true(sim_metric_sum(text, strlen(text), "takt_parked_events") == 7);
        assert_true(sim_metric_sum(text, strlen(text), "takt_nothing") == -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plan_confirms_every_operation_and_completes_with_the_sums),
            cmocka_unit_test(test_canonical_release_round_trip),
            cmocka_unit_test(test_sap_s4_release_is_odata),
            cmocka_unit_test(test_sap_s4_postings_decode),
            cmocka_unit_test(test_mes_events_read_back_as_erp_totals),
            cmocka_unit_test(test_legacy_mes_messages),
            cmocka_unit_test(test_verdict_and_report),
            cmocka_unit_test(test_metric_sum),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
