/* fixtures.c — canonical message builders and the apply/deliver drivers the
 * orchestrator tests share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fixtures.h"

struct takt_plant fx_plant(enum takt_completion completion, enum takt_scrap scrap)
{
        struct takt_plant p = {.code = "DE01", .completion = completion, .scrap = scrap};
        p.sla.acknowledge_ms = 30000;
        p.sla.erp_confirmation_ms = 120000;
        return p;
}

json_t *fx_msg(const char *id, const char *type, json_t *data)
{
        char corr[160];
        snprintf(corr, sizeof(corr), "corr-%s", id);
        json_t *m =
            json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "id", id, "type", type,
                      "schema_version", 1, "plant", "DE01", "work_order", "4711", "occurred_at",
                      "2025-11-30T08:00:00Z", "correlation_id", corr, "data", data);
        if (strncmp(type, "downtime.", 9) == 0)
                json_object_del(m, "work_order");
        return m;
}

static json_t *qty(double v)
{
        return json_pack("{s:f, s:s}", "value", v, "uom", "PC");
}

json_t *fx_release(const char *id, int revision)
{
        return fx_msg(id, "work_order.released",
                      json_pack("{s:s, s:o, s:s, s:s, s:i, s:[{s:s, s:s}, {s:s, s:s}]}", "material",
                                "MAT-1", "quantity", qty(100), "planned_start",
                                "2025-12-01T06:00:00Z", "planned_end", "2025-12-01T14:00:00Z",
                                "revision", revision, "operations", "operation", "0010",
                                "work_center", "WC-1", "operation", "0020", "work_center", "WC-2"));
}

json_t *fx_changed(const char *id, int revision)
{
        return fx_msg(id, "work_order.changed",
                      json_pack("{s:i, s:o}", "revision", revision, "quantity", qty(120)));
}

json_t *fx_cancelled(const char *id, int revision)
{
        return fx_msg(id, "work_order.cancelled",
                      json_pack("{s:i, s:s}", "revision", revision, "reason", "no demand"));
}

json_t *fx_ack(const char *id)
{
        return fx_msg(id, "work_order.acknowledged", json_pack("{s:s}", "mes_reference", "M-1"));
}

json_t *fx_started(const char *id, const char *op)
{
        return fx_msg(id, "operation.started",
                      json_pack("{s:s, s:s}", "operation", op, "work_center", "WC-1"));
}

json_t *fx_confirmed(const char *id, const char *op, double yield, double scrap, bool final)
{
        return fx_msg(id, "operation.confirmed",
                      json_pack("{s:s, s:o, s:o, s:b}", "operation", op, "yield", qty(yield),
                                "scrap", qty(scrap), "final", final));
}

json_t *fx_consumed(const char *id, const char *material, double q)
{
        return fx_msg(id, "material.consumed",
                      json_pack("{s:s, s:o}", "material", material, "quantity", qty(q)));
}

json_t *fx_hold(const char *id, bool placed, const char *hold_id)
{
        if (placed)
                return fx_msg(id, "quality.hold_placed",
                              json_pack("{s:s, s:s}", "hold_id", hold_id, "reason", "porosity"));
        return fx_msg(id, "quality.hold_released", json_pack("{s:s}", "hold_id", hold_id));
}

json_t *fx_completed(const char *id, double yield, double scrap)
{
        return fx_msg(id, "work_order.completed",
                      json_pack("{s:o, s:o}", "yield", qty(yield), "scrap", qty(scrap)));
}

json_t *fx_downtime(const char *id, bool started)
{
        return fx_msg(id, started ? "downtime.started" : "downtime.ended",
                      json_pack("{s:s, s:s}", "work_center", "WC-1", "reason_code", "R1"));
}

/* The orchestrator never changes the document it is given (the new one
 * may share parts with it: orch_deliver.c): checked on every call against
 * a deep copy taken before. */
static void take_doc(json_t **doc, json_t *before, struct orch_output *out)
{
        if (before != NULL) {
                assert_true(json_equal(*doc, before));
                json_decref(before);
        }
        if (out->wo != NULL) {
                json_decref(*doc);
                *doc = json_incref(out->wo);
        }
}

enum orch_result fx_apply(json_t **doc, const struct takt_plant *plant, json_t *msg, int64_t now_ms,
                          struct orch_output *out)
{
        struct orch_output local;
        struct orch_output *o = out ? out : &local;
        enum canon_type type = CANON_TYPE_COUNT;
        canon_type_parse(canon_str(msg, "type"), &type);
        json_t *before = json_deep_copy(*doc);
        orch_apply(*doc, plant, msg, type, now_ms, o);
        take_doc(doc, before, o);
        enum orch_result r = o->result;
        json_decref(msg);
        if (out == NULL)
                orch_output_clear(&local);
        return r;
}

void fx_deliver(json_t **doc, const struct takt_plant *plant, json_t *msg,
                enum takt_system_kind kind, int64_t now_ms, struct orch_output *out)
{
        struct orch_output local;
        struct orch_output *o = out ? out : &local;
        json_t *before = json_deep_copy(*doc);
        orch_delivered(*doc, plant, msg, kind, now_ms, o);
        take_doc(doc, before, o);
        json_decref(msg);
        if (out == NULL)
                orch_output_clear(&local);
}

static const struct {
        const char *type, *code;
} codes[] = {
    {"work_order.released", "REL"},   {"work_order.changed", "CHG"},
    {"work_order.cancelled", "CAN"},  {"work_order.acknowledged", "ACK"},
    {"operation.started", "STA"},     {"operation.confirmed", "CNF"},
    {"material.consumed", "CON"},     {"quality.hold_placed", "HPL"},
    {"quality.hold_released", "HRL"}, {"work_order.completed", "CMP"},
    {"downtime.started", "DTS"},      {"downtime.ended", "DTE"},
    {"sla.breached", "SLA"},
};

const char *fx_emits(const struct orch_output *out, char *buf, size_t len)
{
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < out->n_emit; i++) {
                const json_t *env = out->emit[i].envelope;
                const char *type = canon_str(env, "type");
                char code[64];
                snprintf(code, sizeof(code), "%s", type);
                if (strcmp(type, "work_order.state_changed") == 0)
                        snprintf(code, sizeof(code), "SC:%s",
                                 canon_str(json_object_get(env, "data"), "to"));
                for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
                        if (strcmp(type, codes[k].type) == 0)
                                snprintf(code, sizeof(code), "%s", codes[k].code);
                }
                used += (size_t)snprintf(buf + used, len - used, "%s%s%s", i ? "," : "", code,
                                         out->emit[i].hold ? "!" : "");
                if (used >= len)
                        break;
        }
        return buf;
}
