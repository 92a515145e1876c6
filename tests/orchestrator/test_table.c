/* test_table.c — every (state, event type) pair of the work-order machine:
 * the answer, the state afterwards, the emitted types (with hold flags) and
 * release_held. Plant: completion: operation, scrap: embedded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fixtures.h"

/* The order in each state, built through the machine itself. */
static json_t *build(const char *state)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = NULL;
        int64_t t = FX_T0;
        if (strcmp(state, "unknown") == 0)
                return NULL;
        if (strcmp(state, "new") == 0) {
                fx_apply(&doc, &p, fx_ack("p1"), t, NULL);
                return doc;
        }
        fx_apply(&doc, &p, fx_release("r1", 1), t, NULL);
        if (strcmp(state, "released") == 0)
                return doc;
        fx_deliver(&doc, &p, fx_release("r1", 1), TAKT_KIND_MES, t, NULL);
        if (strcmp(state, "dispatched") == 0)
                return doc;
        fx_apply(&doc, &p, fx_ack("a1"), t, NULL);
        if (strcmp(state, "acknowledged") == 0)
                return doc;
        if (strcmp(state, "cancelled") == 0) {
                fx_apply(&doc, &p, fx_cancelled("x1", 2), t, NULL);
                return doc;
        }
        fx_apply(&doc, &p, fx_started("s1", "0010"), t, NULL);
        if (strcmp(state, "in_progress") == 0)
                return doc;
        if (strcmp(state, "on_hold") == 0) {
                fx_apply(&doc, &p, fx_hold("h1p", true, "h1"), t, NULL);
                return doc;
        }
        fx_apply(&doc, &p, fx_confirmed("c1", "0010", 100, 2, true), t, NULL);
        fx_apply(&doc, &p, fx_confirmed("c2", "0020", 97, 3, true), t, NULL);
        if (strcmp(state, "completed") == 0)
                return doc;
        fx_deliver(&doc, &p, fx_completed("c2#completed", 97, 5), TAKT_KIND_ERP, t, NULL);
        return doc; /* closed */
}

/* One event of each canonical type. */
static json_t *event(const char *code)
{
        static const struct {
                const char *code, *type;
        } internal[] = {{"SC", "work_order.state_changed"}, {"SLA", "sla.breached"}};
        if (!strcmp(code, "REL"))
                return fx_release("ev", 1);
        if (!strcmp(code, "CHG"))
                return fx_changed("ev", 3);
        if (!strcmp(code, "CAN"))
                return fx_cancelled("ev", 3);
        if (!strcmp(code, "ACK"))
                return fx_ack("ev");
        if (!strcmp(code, "STA"))
                return fx_started("ev", "0020");
        if (!strcmp(code, "CNF"))
                return fx_confirmed("ev", "0010", 10, 1, false);
        if (!strcmp(code, "CON"))
                return fx_consumed("ev", "MAT-2", 5);
        if (!strcmp(code, "HPL"))
                return fx_hold("ev", true, "h9");
        if (!strcmp(code, "HRL"))
                return fx_hold("ev", false, "h1");
        if (!strcmp(code, "CMP"))
                return fx_completed("ev", 97, 5);
        if (!strcmp(code, "DTS") || !strcmp(code, "DTE"))
                return fx_downtime("ev", !strcmp(code, "DTS"));
        for (size_t i = 0; i < 2; i++) {
                if (!strcmp(code, internal[i].code))
                        return fx_msg("ev", internal[i].type, json_object());
        }
        return NULL;
}

#define A ORCH_ACCEPTED
#define P ORCH_PARKED
#define S ORCH_STALE
#define C ORCH_CONFLICT
#define I ORCH_INVALID

struct row {
        const char *state, *event;
        enum orch_result result;
        const char *after; /* "-": nothing stored */
        const char *emits; /* fx_emits(), then ";release_held" when set */
};

/* Rows shared by the two states without a release: everything but the
 * release is refused (ERP) or parked (MES). */
#define UNRELEASED(st)                                                                             \
        {st, "CHG", C, "-", ""}, {st, "CAN", C, "-", ""}, {st, "ACK", P, "new", ""},               \
            {st, "STA", P, "new", ""}, {st, "CNF", P, "new", ""}, {st, "CON", P, "new", ""},       \
            {st, "HPL", P, "new", ""}, {st, "HRL", P, "new", ""},                                  \
        {                                                                                          \
                st, "CMP", P, "new", ""                                                            \
        }
/* downtime and takt's own types behave the same in every state. */
#define COMMON(st)                                                                                 \
        {st, "DTS", A, "-", "DTS"}, {st, "DTE", A, "-", "DTE"}, {st, "SC", I, "-", ""},            \
        {                                                                                          \
                st, "SLA", I, "-", ""                                                              \
        }
/* released and dispatched differ only in their name. */
#define BEFORE_ACK(st)                                                                             \
        {st, "REL", S, "-", ""}, {st, "CHG", A, st, "CHG"},                                        \
            {st, "CAN", A, "cancelled", "CAN,SC:cancelled"},                                       \
            {st, "ACK", A, "acknowledged", "ACK,SC:acknowledged"},                                 \
            {st, "STA", A, "in_progress", "STA,SC:in_progress"},                                   \
            {st, "CNF", A, "in_progress", "CNF,SC:in_progress"}, {st, "CON", A, st, "CON"},        \
            {st, "HPL", A, "on_hold", "HPL,SC:on_hold"}, {st, "HRL", A, st, "HRL"},                \
            {st, "CMP", A, "completed", "CMP,SC:completed"}, COMMON(st)

static const struct row rows[] = {
    {"unknown", "REL", A, "released", "REL,SC:released"},
    UNRELEASED("unknown"),
    COMMON("unknown"),
    {"new", "REL", A, "acknowledged", "REL,SC:released,ACK,SC:acknowledged"},
    UNRELEASED("new"),
    COMMON("new"),
    BEFORE_ACK("released"),
    BEFORE_ACK("dispatched"),
    {"acknowledged", "REL", S, "-", ""},
    {"acknowledged", "CHG", A, "acknowledged", "CHG"},
    {"acknowledged", "CAN", A, "cancelled", "CAN,SC:cancelled"},
    {"acknowledged", "ACK", S, "-", ""},
    {"acknowledged", "STA", A, "in_progress", "STA,SC:in_progress"},
    {"acknowledged", "CNF", A, "in_progress", "CNF,SC:in_progress"},
    {"acknowledged", "CON", A, "acknowledged", "CON"},
    {"acknowledged", "HPL", A, "on_hold", "HPL,SC:on_hold"},
    {"acknowledged", "HRL", A, "acknowledged", "HRL"},
    {"acknowledged", "CMP", A, "completed", "CMP,SC:completed"},
    COMMON("acknowledged"),
    {"in_progress", "REL", S, "-", ""},
    {"in_progress", "CHG", A, "in_progress", "CHG"},
    {"in_progress", "CAN", A, "cancelled", "CAN,SC:cancelled"},
    {"in_progress", "ACK", S, "-", ""},
    {"in_progress", "STA", A, "in_progress", "STA"},
    {"in_progress", "CNF", A, "in_progress", "CNF"},
    {"in_progress", "CON", A, "in_progress", "CON"},
    {"in_progress", "HPL", A, "on_hold", "HPL,SC:on_hold"},
    {"in_progress", "HRL", A, "in_progress", "HRL"},
    {"in_progress", "CMP", A, "completed", "CMP,SC:completed"},
    COMMON("in_progress"),
    {"on_hold", "REL", S, "-", ""},
    {"on_hold", "CHG", A, "on_hold", "CHG"},
    {"on_hold", "CAN", A, "cancelled", "CAN,SC:cancelled"},
    {"on_hold", "ACK", S, "-", ""},
    {"on_hold", "STA", A, "on_hold", "STA"},
    {"on_hold", "CNF", A, "on_hold", "CNF!"},
    {"on_hold", "CON", A, "on_hold", "CON!"},
    {"on_hold", "HPL", A, "on_hold", "HPL"},
    {"on_hold", "HRL", A, "in_progress", "HRL,SC:in_progress;release_held"},
    {"on_hold", "CMP", A, "on_hold", "CMP!"},
    COMMON("on_hold"),
    {"completed", "REL", S, "-", ""},
    {"completed", "CHG", C, "-", ""},
    {"completed", "CAN", C, "-", ""},
    {"completed", "ACK", S, "-", ""},
    {"completed", "STA", A, "completed", "STA"},
    {"completed", "CNF", A, "completed", "CNF"}, /* late partial confirmation */
    {"completed", "CON", A, "completed", "CON"},
    {"completed", "HPL", A, "on_hold", "HPL,SC:on_hold"},
    {"completed", "HRL", A, "completed", "HRL"},
    {"completed", "CMP", S, "-", ""},
    COMMON("completed"),
    {"closed", "REL", S, "-", ""},
    {"closed", "CHG", C, "-", ""},
    {"closed", "CAN", C, "-", ""},
    {"closed", "ACK", S, "-", ""},
    {"closed", "STA", C, "-", ""},
    {"closed", "CNF", C, "-", ""},
    {"closed", "CON", C, "-", ""},
    {"closed", "HPL", A, "closed", "HPL"},
    {"closed", "HRL", A, "closed", "HRL"},
    {"closed", "CMP", S, "-", ""},
    COMMON("closed"),
    {"cancelled", "REL", S, "-", ""},
    {"cancelled", "CHG", C, "-", ""},
    {"cancelled", "CAN", S, "-", ""},
    {"cancelled", "ACK", S, "-", ""}, /* acknowledged before the cancel */
    {"cancelled", "STA", C, "-", ""},
    {"cancelled", "CNF", C, "-", ""},
    {"cancelled", "CON", C, "-", ""},
    {"cancelled", "HPL", A, "cancelled", "HPL"},
    {"cancelled", "HRL", A, "cancelled", "HRL"},
    {"cancelled", "CMP", C, "-", ""},
    COMMON("cancelled"),
};

static const char *const states[] = {"unknown",      "new",         "released", "dispatched",
                                     "acknowledged", "in_progress", "on_hold",  "completed",
                                     "closed",       "cancelled"};
static const char *const events[] = {"REL", "CHG", "CAN", "ACK", "STA", "CNF", "CON",
                                     "HPL", "HRL", "CMP", "DTS", "DTE", "SC",  "SLA"};

static void check_row(const struct row *r)
{
        struct takt_plant p = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        json_t *doc = build(r->state);
        if (strcmp(r->state, "unknown") != 0)
                assert_string_equal(orch_wo_state(doc), r->state);
        struct orch_output out;
        enum orch_result got = fx_apply(&doc, &p, event(r->event), FX_T0 + 1000, &out);
        char emits[256];
        fx_emits(&out, emits, sizeof(emits) - 16);
        if (out.release_held)
                strcat(emits, ";release_held");
        if (got != r->result || strcmp(emits, r->emits) != 0)
                fail_msg("%s x %s: result %d emits '%s', want %d '%s'", r->state, r->event, got,
                         emits, r->result, r->emits);
        if (strcmp(r->after, "-") == 0)
                assert_null(out.wo);
        else
                assert_string_equal(orch_wo_state(out.wo), r->after);
        if (got == ORCH_STALE || got == ORCH_CONFLICT || got == ORCH_PARKED)
                assert_true(out.reason[0] != '\0');
        if (got == ORCH_INVALID)
                assert_true(out.errors.count > 0);
        orch_output_clear(&out);
        json_decref(doc);
}

static void test_every_pair(void **state)
{
        size_t n = sizeof(rows) / sizeof(rows[0]);
        for (size_t i = 0; i < n; i++)
                check_row(&rows[i]);
        /* The table is complete: every state meets every type exactly once. */
        for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
                for (size_t e = 0; e < sizeof(events) / sizeof(events[0]); e++) {
                        int seen = 0;
                        for (size_t i = 0; i < n; i++)
                                seen += !strcmp(rows[i].state, states[s]) &&
                                        !strcmp(rows[i].event, events[e]);
                        if (seen != 1)
                                fail_msg("%s x %s appears %d times", states[s], events[e], seen);
                }
        }
        assert_int_equal(n, (sizeof(states) / sizeof(states[0])) * CANON_TYPE_COUNT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_pair)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
