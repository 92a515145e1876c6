/* orch_deliver.c — the two transitions that follow deliveries, not
 * messages: released -> dispatched when the release reaches the MES, and
 * completed -> closed when the completion reaches the ERP (which also meets
 * the erp_confirmation deadline). Under a hold only the state the order
 * returns to moves. */
#include <string.h>

#include "orch_internal.h"

struct delivery_rule {
        enum canon_type type;
        enum takt_system_kind dest;
        const char *from, *to, *meets_sla;
};

static const struct delivery_rule rules[] = {
    {CANON_WORK_ORDER_RELEASED, TAKT_KIND_MES, "released", "dispatched", NULL},
    {CANON_WORK_ORDER_COMPLETED, TAKT_KIND_ERP, "completed", "closed", "erp_confirmation"},
};

void orch_delivered(const json_t *wo, const struct takt_plant *plant, const json_t *msg,
                    enum takt_system_kind dest_kind, int64_t now_ms, struct orch_output *out)
{
        orch_output_init(out);
        enum canon_type type;
        if (wo == NULL || !canon_type_parse(canon_str(msg, "type"), &type))
                return;
        const char *base = wo_base_state(wo);
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                const struct delivery_rule *rule = &rules[i];
                if (rule->type != type || rule->dest != dest_kind || base == NULL ||
                    strcmp(base, rule->from) != 0)
                        continue;
                struct step st = {.doc = json_deep_copy(wo),
                                  .plant = plant,
                                  .now_ms = now_ms,
                                  .out = out,
                                  .reason = out->reason,
                                  .reason_len = sizeof(out->reason),
                                  .errors = &out->errors};
                wo_set_state(&st, rule->to, msg);
                if (rule->meets_sla != NULL)
                        wo_meet_sla(st.doc, rule->meets_sla);
                out->wo = st.doc;
                return;
        }
}
