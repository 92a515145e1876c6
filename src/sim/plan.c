/* plan.c — what the simulated ERP releases (sim_order_generate) and how the
 * simulated MES answers one released order (sim_plan_build): acknowledge,
 * then per operation start, consume its components, maybe a quality hold
 * placed and released, confirm (yield and scrap, final); a completion at the
 * end (sent by plants with completion: order, derived by takt otherwise).
 * Quantities are whole pieces, components tenths of a kilogram, so the ERP's
 * sums compare exactly. Pure. */
#include <math.h>
#include <string.h>

#include "sim.h"

void sim_order_generate(struct sim_rng *r, const char *plant, const char *work_order,
                        int64_t now_ms, struct sim_order_spec *o)
{
        static const char *const texts[] = {"Cutting",  "Turning", "Milling",
                                            "Assembly", "Testing", "Packing"};
        memset(o, 0, sizeof(*o));
        sim_copy(o->plant, sizeof(o->plant), plant);
        sim_copy(o->work_order, sizeof(o->work_order), work_order);
        snprintf(o->material, sizeof(o->material), "FG-%03d", (int)sim_rng_range(r, 100, 120));
        o->qty.value = (double)sim_rng_range(r, 10, 500);
        sim_copy(o->qty.uom, sizeof(o->qty.uom), "EA");
        o->released_ms = now_ms - now_ms % 1000; /* whole seconds: revision is YYYYMMDDHHMMSS */
        o->planned_start_ms = (now_ms / 86400000 + 1) * 86400000 + 6 * 3600000;
        o->planned_end_ms = o->planned_start_ms + 12 * 3600000;
        o->nops = (int)sim_rng_range(r, 1, 4);
        for (int i = 0; i < o->nops; i++) {
                struct sim_operation *op = &o->ops[i];
                snprintf(op->operation, sizeof(op->operation), "%04d", (i + 1) * 10);
                snprintf(op->work_center, sizeof(op->work_center), "WC-%s-%d", plant,
                         (int)sim_rng_range(r, 1, 9));
                sim_copy(op->description, sizeof(op->description), texts[sim_rng_range(r, 0, 5)]);
        }
        o->ncomps = (int)sim_rng_range(r, 0, 2);
        for (int i = 0; i < o->ncomps; i++) {
                struct sim_component *c = &o->comps[i];
                snprintf(c->material, sizeof(c->material), "RM-%d", (int)sim_rng_range(r, 1, 40));
                c->qty.value = (double)sim_rng_range(r, 5, 500) / 10.0;
                sim_copy(c->qty.uom, sizeof(c->qty.uom), "KG");
                sim_copy(c->operation, sizeof(c->operation),
                         o->ops[sim_rng_range(r, 0, o->nops - 1)].operation);
        }
}

static int64_t delay(struct sim_rng *r, const struct sim_plan_params *p)
{
        return sim_rng_range(r, p->delay_min_ms, p->delay_max_ms);
}

static struct sim_event *add(struct sim_event *ev, int *n, enum sim_ev_kind kind, int op,
                             int64_t delay_ms)
{
        struct sim_event *e = &ev[(*n)++];
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        e->op = op;
        e->comp = -1;
        e->delay_ms = delay_ms;
        return e;
}

int sim_plan_build(struct sim_rng *r, const struct sim_order_spec *o,
                   const struct sim_plan_params *p, struct sim_event *ev)
{
        int n = 0;
        double good = o->qty.value, scrap_sum = 0;
        int hold_op = sim_rng_unit(r) < p->hold_rate ? (int)sim_rng_range(r, 0, o->nops - 1) : -1;

        add(ev, &n, SIM_EV_ACK, -1, delay(r, p));
        for (int i = 0; i < o->nops; i++) {
                add(ev, &n, SIM_EV_START, i, delay(r, p));
                for (int c = 0; c < o->ncomps; c++) {
                        if (strcmp(o->comps[c].operation, o->ops[i].operation) == 0)
                                add(ev, &n, SIM_EV_CONSUME, i, delay(r, p))->comp = c;
                }
                if (i == hold_op) {
                        add(ev, &n, SIM_EV_HOLD, i, delay(r, p));
                        add(ev, &n, SIM_EV_UNHOLD, i, p->hold_ms);
                }
                double scrap = floor(good * p->scrap_rate * sim_rng_unit(r));
                good -= scrap;
                scrap_sum += scrap;
                if (p->scrap == SIM_SCRAP_SEPARATE && scrap > 0) {
                        struct sim_event *e = add(ev, &n, SIM_EV_CONFIRM, i, delay(r, p));
                        e->scrap = scrap;
                        e->final = false;
                        scrap = 0;
                }
                struct sim_event *e = add(ev, &n, SIM_EV_CONFIRM, i, delay(r, p));
                e->yield = good;
                e->scrap = scrap;
                e->final = true;
        }
        struct sim_event *e = add(ev, &n, SIM_EV_COMPLETE, -1,
                                  p->completion == SIM_COMPLETION_ORDER ? delay(r, p) : 0);
        e->yield = good;
        e->scrap = scrap_sum;
        return n;
}

const char *sim_ev_type(const struct sim_event *ev)
{
        static const char *const types[] = {
            [SIM_EV_ACK] = "work_order.acknowledged",  [SIM_EV_START] = "operation.started",
            [SIM_EV_CONFIRM] = "operation.confirmed",  [SIM_EV_CONSUME] = "material.consumed",
            [SIM_EV_HOLD] = "quality.hold_placed",     [SIM_EV_UNHOLD] = "quality.hold_released",
            [SIM_EV_COMPLETE] = "work_order.completed"};
        return types[ev->kind];
}
