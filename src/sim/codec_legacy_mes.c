/* codec_legacy_mes.c — a plant MES in takt's "legacy-mes" dialect
 * (conf/dialects/legacy-mes.yaml): flat messages named by msg_type (ACK,
 * START, YIELD, SCRAP, CONSUME, HOLD, UNHOLD, DONE), string quantities in
 * its own unit codes, dates as YYYYMMDD + HHMMSS; orders arrive as
 * msg_type ORDER. Pure. */
#include <math.h>
#include <string.h>

#include "sim.h"

static const char *const units_in[][2] = {{"PCS", "EA"}, {"KGM", "KG"}, {"GRM", "G"},
                                          {"MTR", "M"},  {"LTR", "L"},  {NULL, NULL}};
static const char *const units_out[][2] = {{"EA", "PCS"}, {"KG", "KGM"}, {"G", "GRM"},
                                           {"M", "MTR"},  {"L", "LTR"},  {NULL, NULL}};

static json_t *decimal(double v)
{
        char buf[40];
        snprintf(buf, sizeof(buf), "%.10g", v);
        return json_string(buf);
}

static bool read_qty(const json_t *obj, const char *qkey, struct sim_qty *out)
{
        out->value = sim_json_number(json_object_get(obj, qkey));
        sim_copy(out->uom, sizeof(out->uom), sim_uom_map(units_in, sim_json_str(obj, "uom")));
        return !isnan(out->value);
}

static bool decode_release(const json_t *body, struct sim_order_spec *o)
{
        const json_t *ops = json_object_get(body, "ops"), *bom = json_object_get(body, "bom");
        memset(o, 0, sizeof(*o));
        if (strcmp(sim_json_str(body, "msg_type"), "ORDER") != 0 ||
            strcmp(sim_json_str(body, "action"), "NEW") != 0)
                return false;
        sim_copy(o->plant, sizeof(o->plant), sim_json_str(body, "site"));
        sim_copy(o->work_order, sizeof(o->work_order), sim_json_str(body, "order_no"));
        sim_copy(o->material, sizeof(o->material), sim_json_str(body, "material"));
        if (!read_qty(body, "qty", &o->qty) || json_array_size(ops) == 0 ||
            o->work_order[0] == '\0')
                return false;
        size_t i;
        json_t *v;
        json_array_foreach(ops, i, v)
        {
                if (o->nops == SIM_MAX_OPS)
                        break;
                sim_copy(o->ops[o->nops].operation, sizeof(o->ops[0].operation),
                         sim_json_str(v, "op_no"));
                sim_copy(o->ops[o->nops].work_center, sizeof(o->ops[0].work_center),
                         sim_json_str(v, "wc"));
                o->nops++;
        }
        json_array_foreach(bom, i, v)
        {
                if (o->ncomps == SIM_MAX_COMPS)
                        break;
                struct sim_component *c = &o->comps[o->ncomps++];
                sim_copy(c->material, sizeof(c->material), sim_json_str(v, "mat"));
                sim_copy(c->operation, sizeof(c->operation), sim_json_str(v, "op_no"));
                if (!read_qty(v, "qty", &c->qty))
                        return false;
        }
        return true;
}

static json_t *encode_event(const struct sim_order_spec *o, const struct sim_event *ev,
                            const char *msg_id, int64_t now_ms)
{
        static const char *const names[] = {
            [SIM_EV_ACK] = "ACK",         [SIM_EV_START] = "START", [SIM_EV_CONFIRM] = "YIELD",
            [SIM_EV_CONSUME] = "CONSUME", [SIM_EV_HOLD] = "HOLD",   [SIM_EV_UNHOLD] = "UNHOLD",
            [SIM_EV_COMPLETE] = "DONE"};
        const struct sim_operation *op = ev->op >= 0 ? &o->ops[ev->op] : NULL;
        const char *uom = sim_uom_map(units_out, o->qty.uom);
        char date[16], tod[16], hold[48];
        bool scrap_only = ev->kind == SIM_EV_CONFIRM && ev->yield == 0 && !ev->final;
        json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "msg_type",
                              scrap_only ? "SCRAP" : names[ev->kind], "msg_id", msg_id, "site",
                              o->plant, "order_no", o->work_order, "date",
                              sim_time_format(now_ms, SIM_T_YMD, date, sizeof(date)), "time",
                              sim_time_format(now_ms, SIM_T_HMS, tod, sizeof(tod)));
        snprintf(hold, sizeof(hold), "QH-%s", o->work_order);
        if (op != NULL)
                json_object_set_new(m, "op_no", json_string(op->operation));
        switch (ev->kind) {
        case SIM_EV_ACK:
                json_object_set_new(m, "mes_ref", json_string(msg_id));
                break;
        case SIM_EV_START:
                json_object_set_new(m, "wc", json_string(op->work_center));
                break;
        case SIM_EV_CONFIRM:
                json_object_set_new(m, "qty", decimal(scrap_only ? ev->scrap : ev->yield));
                json_object_set_new(m, "uom", json_string(uom));
                if (scrap_only)
                        json_object_set_new(m, "reason", json_string("SCR01"));
                else
                        json_object_set_new(m, "last", json_boolean(ev->final));
                break;
        case SIM_EV_CONSUME: {
                /* c points into o's array (clang 14 follows a path where o is
                 * NULL). NOLINTBEGIN(clang-analyzer-core.NullDereference) */
                const struct sim_component *c = &o->comps[ev->comp];
                json_object_set_new(m, "items",
                                    json_pack("[{s:s,s:o,s:s}]", "mat", c->material, "qty",
                                              decimal(c->qty.value), "uom",
                                              sim_uom_map(units_out, c->qty.uom)));
                /* NOLINTEND(clang-analyzer-core.NullDereference) */
                break;
        }
        case SIM_EV_HOLD:
                json_object_set_new(m, "hold_no", json_string(hold));
                json_object_set_new(m, "reason_code", json_string("DIM"));
                break;
        case SIM_EV_UNHOLD:
                json_object_set_new(m, "hold_no", json_string(hold));
                json_object_set_new(m, "disposition", json_string("UAI"));
                break;
        case SIM_EV_COMPLETE:
                json_object_set_new(m, "good_qty", decimal(ev->yield));
                json_object_set_new(m, "scrap_qty", decimal(ev->scrap));
                json_object_set_new(m, "uom", json_string(uom));
                break;
        }
        return m;
}

const struct sim_mes_codec sim_mes_legacy = {
    .name = "legacy-mes",
    .decode_release = decode_release,
    .encode_event = encode_event,
};
