/* totals.c — the ERP-visible effect of MES events (sim_event_posting) and the
 * sums the simulator compares at the end: what the MES reported (and takt
 * accepted) against what the ERP received (each Idempotency-Key once). The
 * goods receipt of sap-s4 carries no scrap, so completions compare count and
 * yield only. Pure. */
#include <math.h>
#include <string.h>

#include "sim.h"

enum sim_posting_kind sim_posting_kind_of(const char *type)
{
        if (strcmp(type, "operation.confirmed") == 0)
                return SIM_POST_CONFIRM;
        if (strcmp(type, "material.consumed") == 0)
                return SIM_POST_CONSUME;
        if (strcmp(type, "work_order.completed") == 0)
                return SIM_POST_COMPLETE;
        return SIM_POST_OTHER;
}

bool sim_event_posting(const struct sim_order_spec *o, const struct sim_event *ev,
                       struct sim_posting *out)
{
        memset(out, 0, sizeof(*out));
        out->kind = sim_posting_kind_of(sim_ev_type(ev));
        if (out->kind == SIM_POST_OTHER)
                return false;
        sim_copy(out->plant, sizeof(out->plant), o->plant);
        sim_copy(out->work_order, sizeof(out->work_order), o->work_order);
        out->yield = ev->yield;
        out->scrap = ev->scrap;
        if (out->kind == SIM_POST_CONSUME)
                out->qty = o->comps[ev->comp].qty.value;
        return true;
}

void sim_totals_add(struct sim_totals *t, const struct sim_posting *p)
{
        switch (p->kind) {
        case SIM_POST_CONFIRM:
                t->confirmations++;
                t->yield += p->yield;
                t->scrap += p->scrap;
                break;
        case SIM_POST_CONSUME:
                t->consumptions++;
                t->consumed += p->qty;
                break;
        case SIM_POST_COMPLETE:
                t->completions++;
                t->completed_yield += p->yield;
                break;
        case SIM_POST_OTHER:
                break;
        }
}

static bool same(double a, double b)
{
        return fabs(a - b) <= 1e-6 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

bool sim_totals_equal(const struct sim_totals *a, const struct sim_totals *b)
{
        return a->confirmations == b->confirmations && a->consumptions == b->consumptions &&
               a->completions == b->completions && same(a->yield, b->yield) &&
               same(a->scrap, b->scrap) && same(a->consumed, b->consumed) &&
               same(a->completed_yield, b->completed_yield);
}
