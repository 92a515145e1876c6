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

/* Replace obj[key] with a shallow copy of it: obj's own, to change. */
static json_t *own_member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        if (v == NULL)
                return NULL;
        json_t *mine = json_copy(v);
        json_object_set_new(obj, key, mine);
        return mine;
}

/* The order as this transition may change it. Every delivered message
 * comes back through here, so it copies only what the transition writes:
 * top-level fields, the history it appends to and the SLA entry it meets;
 * everything else (operations, parked messages...) stays shared with wo,
 * read-only. A deep copy of the whole document cost 64k instructions per
 * delivery (callgrind, c=64). */
static json_t *copy_for(const json_t *wo, const struct delivery_rule *rule)
{
        json_t *doc = json_copy((json_t *)wo);
        own_member(doc, "history");
        if (rule->meets_sla != NULL)
                own_member(own_member(doc, "sla"), rule->meets_sla);
        return doc;
}

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
                struct step st = {.doc = copy_for(wo, rule),
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
