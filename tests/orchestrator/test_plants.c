/* test_plants.c — plant semantics: the same physical production reported
 * by plants with completion: operation|order and scrap: embedded|separate
 * gives the ERP the same confirmation totals (yield per operation, scrap)
 * and the same completion, and the order ends completed (closed once the
 * completion reaches the ERP). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"

/* One physical report of an operation. */
struct report {
        const char *op;
        double yield, scrap;
        bool final;
};

static const struct report production[] = {
    {"0010", 60, 1, false},
    {"0010", 40, 1, true},
    {"0020", 97, 3, true},
};

/* What the ERP received. */
struct erp_totals {
        double yield_0010, yield_0020, scrap, consumed;
        double completion_yield, completion_scrap;
        int completions;
};

static void add_postings(struct erp_totals *t, const struct orch_output *out)
{
        for (size_t i = 0; i < out->n_emit; i++) {
                const json_t *env = out->emit[i].envelope;
                const json_t *data = json_object_get(env, "data");
                const char *type = canon_str(env, "type");
                double y =
                    json_number_value(json_object_get(json_object_get(data, "yield"), "value"));
                double s =
                    json_number_value(json_object_get(json_object_get(data, "scrap"), "value"));
                if (strcmp(type, "operation.confirmed") == 0) {
                        if (strcmp(canon_str(data, "operation"), "0010") == 0)
                                t->yield_0010 += y;
                        else
                                t->yield_0020 += y;
                        t->scrap += s;
                } else if (strcmp(type, "material.consumed") == 0) {
                        t->consumed += json_number_value(
                            json_object_get(json_object_get(data, "quantity"), "value"));
                } else if (strcmp(type, "work_order.completed") == 0) {
                        t->completion_yield = y;
                        t->completion_scrap = s;
                        t->completions++;
                }
        }
}

struct plant_case {
        enum takt_completion completion;
        enum takt_scrap scrap;
        bool scrap_after_yield; /* separate plants: scrap message after the yield one */
};

static const struct plant_case cases[] = {
    {TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED, false},
    {TAKT_COMPLETION_OPERATION, TAKT_SCRAP_SEPARATE, false},
    {TAKT_COMPLETION_ORDER, TAKT_SCRAP_EMBEDDED, false},
    {TAKT_COMPLETION_ORDER, TAKT_SCRAP_SEPARATE, true},
    {TAKT_COMPLETION_ORDER, TAKT_SCRAP_SEPARATE, false},
};

static void feed(json_t **doc, const struct takt_plant *p, json_t *msg, struct erp_totals *t)
{
        struct orch_output out;
        enum orch_result r = fx_apply(doc, p, msg, FX_T0, &out);
        if (r != ORCH_ACCEPTED)
                fail_msg("not accepted (%d): %s", r, out.reason);
        add_postings(t, &out);
        orch_output_clear(&out);
}

/* The plant's MES reports production in its own way. */
static void report(json_t **doc, const struct takt_plant *p, const struct plant_case *c,
                   const struct report *r, int n, struct erp_totals *t)
{
        char id[32], sid[32];
        snprintf(id, sizeof(id), "c%d", n);
        snprintf(sid, sizeof(sid), "s%d", n);
        if (c->scrap == TAKT_SCRAP_EMBEDDED) {
                feed(doc, p, fx_confirmed(id, r->op, r->yield, r->scrap, r->final), t);
                return;
        }
        if (!c->scrap_after_yield)
                feed(doc, p, fx_confirmed(sid, r->op, 0, r->scrap, false), t);
        feed(doc, p, fx_confirmed(id, r->op, r->yield, 0, r->final), t);
        if (c->scrap_after_yield)
                feed(doc, p, fx_confirmed(sid, r->op, 0, r->scrap, false), t);
}

static void run_case(const struct plant_case *c, struct erp_totals *t, json_t **doc)
{
        struct takt_plant p = fx_plant(c->completion, c->scrap);
        memset(t, 0, sizeof(*t));
        feed(doc, &p, fx_release("r1", 1), t);
        feed(doc, &p, fx_ack("a1"), t);
        feed(doc, &p, fx_started("st1", "0010"), t);
        feed(doc, &p, fx_consumed("m1", "MAT-2", 5), t);
        for (size_t i = 0; i < sizeof(production) / sizeof(production[0]); i++) {
                if (i == 2)
                        feed(doc, &p, fx_started("st2", "0020"), t);
                report(doc, &p, c, &production[i], (int)i, t);
        }
        if (c->completion == TAKT_COMPLETION_ORDER)
                feed(doc, &p, fx_completed("done", 97, 5), t);
        assert_string_equal(orch_wo_state(*doc), "completed");
        json_t *completion = json_object_get(*doc, "completion");
        fx_deliver(doc, &p,
                   fx_msg(canon_str(completion, "id"), "work_order.completed", json_object()),
                   TAKT_KIND_ERP, FX_T0 + 5000, NULL);
        assert_string_equal(orch_wo_state(*doc), "closed");
}

static void test_same_production_same_erp_totals(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct erp_totals t;
                json_t *doc = NULL;
                run_case(&cases[i], &t, &doc);
                if (t.yield_0010 != 100 || t.yield_0020 != 97 || t.scrap != 5 || t.consumed != 5 ||
                    t.completions != 1 || t.completion_yield != 97 || t.completion_scrap != 5)
                        fail_msg("case %zu: yields %g/%g scrap %g consumed %g completion %d x "
                                 "%g/%g",
                                 i, t.yield_0010, t.yield_0020, t.scrap, t.consumed, t.completions,
                                 t.completion_yield, t.completion_scrap);
                /* the document agrees with what the ERP got */
                json_t *ops = json_object_get(doc, "operations");
                assert_true(json_number_value(
                                json_object_get(json_array_get(ops, 0), "confirmed_yield")) == 100);
                assert_true(json_number_value(
                                json_object_get(json_array_get(ops, 1), "confirmed_scrap")) == 3);
                json_decref(doc);
        }
}

/* With completion: order the last final confirmation does not complete. */
static void test_order_plant_waits_for_the_mes_completion(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_ORDER, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        fx_apply(&doc, &p, fx_confirmed("c1", "0010", 100, 2, true), FX_T0, NULL);
        fx_apply(&doc, &p, fx_confirmed("c2", "0020", 97, 3, true), FX_T0, NULL);
        assert_string_equal(orch_wo_state(doc), "in_progress");
        struct orch_output out;
        assert_int_equal(fx_apply(&doc, &p, fx_completed("done", 97, 5), FX_T0, &out),
                         ORCH_ACCEPTED);
        char emits[64];
        assert_string_equal(fx_emits(&out, emits, sizeof(emits)), "CMP,SC:completed");
        assert_string_equal(canon_str(out.emit[0].envelope, "id"), "done");
        orch_output_clear(&out);
        json_decref(doc);
}

/* With completion: operation an MES completion is taken once, never twice. */
static void test_operation_plant_takes_one_completion(void **state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        fx_apply(&doc, &p, fx_release("r1", 1), FX_T0, NULL);
        fx_apply(&doc, &p, fx_confirmed("c1", "0010", 100, 2, true), FX_T0, NULL);
        fx_apply(&doc, &p, fx_confirmed("c2", "0020", 97, 3, true), FX_T0, NULL);
        assert_int_equal(fx_apply(&doc, &p, fx_completed("done", 97, 5), FX_T0, NULL), ORCH_STALE);
        json_decref(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_same_production_same_erp_totals),
            cmocka_unit_test(test_order_plant_waits_for_the_mes_completion),
            cmocka_unit_test(test_operation_plant_takes_one_completion),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
