/* codec_canonical.c — takt's canonical envelope (contract §2) as the ERP's
 * and the MES's dialect: releases in, MES messages out, postings decoded
 * from data.yield / data.scrap / data.quantity. Pure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Whole numbers as JSON integers, others as reals. New reference. */
static json_t *num(double v)
{
        if (v == floor(v) && fabs(v) < 1e15)
                return json_integer((json_int_t)v);
        return json_real(v);
}

static json_t *qty(double v, const char *uom)
{
        return json_pack("{s:o,s:s}", "value", num(v), "uom", uom);
}

static json_t *envelope(const char *id, const char *type, const struct sim_order_spec *o,
                        int64_t at_ms, json_t *data /* stolen */)
{
        char at[40];
        return json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:o}", "id", id, "type", type, "schema_version",
                         1, "plant", o->plant, "work_order", o->work_order, "occurred_at",
                         sim_time_format(at_ms, SIM_T_RFC3339, at, sizeof(at)), "data", data);
}

static json_t *erp_encode_release(const struct sim_order_spec *o)
{
        char id[64], rev[24], ps[40], pe[40];
        json_t *ops = json_array(), *comps = json_array();
        for (int i = 0; i < o->nops; i++)
                json_array_append_new(
                    ops, json_pack("{s:s,s:s,s:s}", "operation", o->ops[i].operation, "work_center",
                                   o->ops[i].work_center, "description", o->ops[i].description));
        for (int i = 0; i < o->ncomps; i++)
                json_array_append_new(
                    comps, json_pack("{s:s,s:o,s:s}", "material", o->comps[i].material, "quantity",
                                     qty(o->comps[i].qty.value, o->comps[i].qty.uom), "operation",
                                     o->comps[i].operation));
        sim_time_format(o->released_ms, SIM_T_YMDHMS, rev, sizeof(rev));
        snprintf(id, sizeof(id), "%s-%s", o->work_order, rev);
        json_t *data = json_pack(
            "{s:s,s:o,s:s,s:s,s:I,s:o,s:o}", "material", o->material, "quantity",
            qty(o->qty.value, o->qty.uom), "planned_start",
            sim_time_format(o->planned_start_ms, SIM_T_RFC3339, ps, sizeof(ps)), "planned_end",
            sim_time_format(o->planned_end_ms, SIM_T_RFC3339, pe, sizeof(pe)), "revision",
            (json_int_t)strtoll(rev, NULL, 10), "operations", ops, "components", comps);
        return envelope(id, "work_order.released", o, o->released_ms, data);
}

static bool erp_decode_posting(const char *type, const json_t *body, struct sim_posting *out)
{
        const json_t *data = json_object_get(body, "data");
        memset(out, 0, sizeof(*out));
        out->kind = sim_posting_kind_of(type);
        sim_copy(out->plant, sizeof(out->plant), sim_json_str(body, "plant"));
        sim_copy(out->work_order, sizeof(out->work_order), sim_json_str(body, "work_order"));
        if (out->kind == SIM_POST_OTHER)
                return true;
        if (!json_is_object(data))
                return false;
        if (out->kind == SIM_POST_CONSUME) {
                out->qty =
                    sim_json_number(json_object_get(json_object_get(data, "quantity"), "value"));
                return !isnan(out->qty);
        }
        out->yield = sim_json_number(json_object_get(json_object_get(data, "yield"), "value"));
        out->scrap = sim_json_number(json_object_get(json_object_get(data, "scrap"), "value"));
        return !isnan(out->yield) && !isnan(out->scrap);
}

static bool read_qty(const json_t *q, struct sim_qty *out)
{
        out->value = sim_json_number(json_object_get(q, "value"));
        sim_copy(out->uom, sizeof(out->uom), sim_json_str(q, "uom"));
        return !isnan(out->value);
}

static bool mes_decode_release(const json_t *body, struct sim_order_spec *o)
{
        const json_t *data = json_object_get(body, "data");
        const json_t *ops = json_object_get(data, "operations");
        const json_t *comps = json_object_get(data, "components");
        memset(o, 0, sizeof(*o));
        sim_copy(o->plant, sizeof(o->plant), sim_json_str(body, "plant"));
        sim_copy(o->work_order, sizeof(o->work_order), sim_json_str(body, "work_order"));
        sim_copy(o->material, sizeof(o->material), sim_json_str(data, "material"));
        if (!read_qty(json_object_get(data, "quantity"), &o->qty) || !json_is_array(ops) ||
            json_array_size(ops) == 0 || o->work_order[0] == '\0')
                return false;
        size_t i;
        json_t *v;
        json_array_foreach(ops, i, v)
        {
                if (o->nops == SIM_MAX_OPS)
                        break;
                struct sim_operation *op = &o->ops[o->nops++];
                sim_copy(op->operation, sizeof(op->operation), sim_json_str(v, "operation"));
                sim_copy(op->work_center, sizeof(op->work_center), sim_json_str(v, "work_center"));
        }
        json_array_foreach(comps, i, v)
        {
                if (o->ncomps == SIM_MAX_COMPS)
                        break;
                struct sim_component *c = &o->comps[o->ncomps++];
                sim_copy(c->material, sizeof(c->material), sim_json_str(v, "material"));
                sim_copy(c->operation, sizeof(c->operation), sim_json_str(v, "operation"));
                if (!read_qty(json_object_get(v, "quantity"), &c->qty))
                        return false;
        }
        return true;
}

static json_t *mes_encode_event(const struct sim_order_spec *o, const struct sim_event *ev,
                                const char *msg_id, int64_t now_ms)
{
        const struct sim_operation *op = ev->op >= 0 ? &o->ops[ev->op] : NULL;
        const char *uom = o->qty.uom;
        char hold[48];
        snprintf(hold, sizeof(hold), "QH-%s", o->work_order);
        json_t *data = NULL;
        switch (ev->kind) {
        case SIM_EV_ACK:
                data = json_pack("{s:s}", "mes_reference", msg_id);
                break;
        case SIM_EV_START:
                data = json_pack("{s:s,s:s}", "operation", op->operation, "work_center",
                                 op->work_center);
                break;
        case SIM_EV_CONFIRM:
                data = json_pack("{s:s,s:o,s:o,s:b}", "operation", op->operation, "yield",
                                 qty(ev->yield, uom), "scrap", qty(ev->scrap, uom), "final",
                                 ev->final);
                break;
        case SIM_EV_CONSUME:
                data =
                    json_pack("{s:s,s:o,s:s}", "material", o->comps[ev->comp].material, "quantity",
                              qty(o->comps[ev->comp].qty.value, o->comps[ev->comp].qty.uom),
                              "operation", op->operation);
                break;
        case SIM_EV_HOLD:
                data = json_pack("{s:s,s:s,s:s}", "hold_id", hold, "reason",
                                 "dimension out of tolerance", "operation", op->operation);
                break;
        case SIM_EV_UNHOLD:
                data = json_pack("{s:s,s:s}", "hold_id", hold, "disposition", "use as is");
                break;
        case SIM_EV_COMPLETE:
                data = json_pack("{s:o,s:o}", "yield", qty(ev->yield, uom), "scrap",
                                 qty(ev->scrap, uom));
                break;
        }
        return envelope(msg_id, sim_ev_type(ev), o, now_ms, data);
}

const struct sim_erp_codec sim_erp_canonical = {
    .name = "canonical",
    .encode_release = erp_encode_release,
    .decode_posting = erp_decode_posting,
};

const struct sim_mes_codec sim_mes_canonical = {
    .name = "canonical",
    .decode_release = mes_decode_release,
    .encode_event = mes_encode_event,
};
