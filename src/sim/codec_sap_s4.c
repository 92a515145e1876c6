/* codec_sap_s4.c — the ERP as SAP S/4HANA speaks it to takt's "sap-s4"
 * dialect (conf/dialects/sap-s4.yaml): a production order as OData v2 JSON
 * ({"d": {...}} with to_ProductionOrderOperation / to_ProductionOrderComponent),
 * and the three postings takt sends back: a confirmation (ProdnOrdConf2), a
 * goods issue 261 and a goods receipt 101 (material documents). Edm.Decimal
 * quantities are strings. Pure. */
#include <math.h>
#include <string.h>

#include "sim.h"

static const char *const units_out[][2] = {{"EA", "PC"}, {"TO", "T"}, {NULL, NULL}};

static json_t *decimal(double v)
{
        char buf[40];
        snprintf(buf, sizeof(buf), "%.10g", v);
        return json_string(buf);
}

static json_t *encode_release(const struct sim_order_spec *o)
{
        char rev[24], sd[40], st[16], ed[40], et[16];
        json_t *ops = json_array(), *comps = json_array();
        for (int i = 0; i < o->nops; i++)
                json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:s}", "ManufacturingOrder",
                                                     o->work_order, "ManufacturingOrderOperation",
                                                     o->ops[i].operation, "MfgOrderOperationText",
                                                     o->ops[i].description, "WorkCenter",
                                                     o->ops[i].work_center));
        for (int i = 0; i < o->ncomps; i++)
                json_array_append_new(
                    comps, json_pack("{s:s,s:o,s:s,s:s}", "Material", o->comps[i].material,
                                     "RequiredQuantity", decimal(o->comps[i].qty.value), "BaseUnit",
                                     sim_uom_map(units_out, o->comps[i].qty.uom),
                                     "ManufacturingOrderOperation", o->comps[i].operation));
        json_t *d =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:{s:o},s:{s:o}}",
                      "ManufacturingOrder", o->work_order, "ManufacturingOrderType", "PP01",
                      "OrderIsReleased", "X", "LastChangeDateTime",
                      sim_time_format(o->released_ms, SIM_T_YMDHMS, rev, sizeof(rev)), "Material",
                      o->material, "ProductionPlant", o->plant, "MfgOrderPlannedStartDate",
                      sim_time_format(o->planned_start_ms, SIM_T_ODATA_DATE, sd, sizeof(sd)),
                      "MfgOrderPlannedStartTime",
                      sim_time_format(o->planned_start_ms, SIM_T_EDM_TIME, st, sizeof(st)),
                      "MfgOrderPlannedEndDate",
                      sim_time_format(o->planned_end_ms, SIM_T_ODATA_DATE, ed, sizeof(ed)),
                      "MfgOrderPlannedEndTime",
                      sim_time_format(o->planned_end_ms, SIM_T_EDM_TIME, et, sizeof(et)),
                      "ProductionUnit", sim_uom_map(units_out, o->qty.uom), "TotalQuantity",
                      decimal(o->qty.value), "to_ProductionOrderOperation", "results", ops,
                      "to_ProductionOrderComponent", "results", comps);
        return json_pack("{s:o}", "d", d);
}

static bool decode_posting(const char *type, const json_t *body, struct sim_posting *out)
{
        memset(out, 0, sizeof(*out));
        out->kind = sim_posting_kind_of(type);
        if (out->kind == SIM_POST_CONFIRM) {
                sim_copy(out->plant, sizeof(out->plant), sim_json_str(body, "Plant"));
                sim_copy(out->work_order, sizeof(out->work_order), sim_json_str(body, "OrderID"));
                out->yield = sim_json_number(json_object_get(body, "ConfirmationYieldQuantity"));
                out->scrap = sim_json_number(json_object_get(body, "ConfirmationScrapQuantity"));
                return !isnan(out->yield) && !isnan(out->scrap);
        }
        if (out->kind == SIM_POST_OTHER)
                return true;
        /* goods issue 261 (consumption) or goods receipt 101 (completion) */
        const json_t *item = json_array_get(
            json_object_get(json_object_get(body, "to_MaterialDocumentItem"), "results"), 0);
        sim_copy(out->plant, sizeof(out->plant), sim_json_str(item, "Plant"));
        sim_copy(out->work_order, sizeof(out->work_order),
                 sim_json_str(item, "ManufacturingOrder"));
        double q = sim_json_number(json_object_get(item, "QuantityInEntryUnit"));
        if (out->kind == SIM_POST_CONSUME)
                out->qty = q;
        else
                out->yield = q;
        return !isnan(q);
}

const struct sim_erp_codec sim_erp_sap_s4 = {
    .name = "sap-s4",
    .encode_release = encode_release,
    .decode_posting = decode_posting,
};
