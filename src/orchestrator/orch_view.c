/* orch_view.c — read-only access to the document: the accessors the store
 * and metrics use, and the API view of contract §4 (without "deliveries",
 * which the caller adds). */
#include <string.h>

#include "orch_internal.h"

const char *orch_wo_state(const json_t *wo)
{
        const char *s = wo_str(wo, "state");
        return s ? s : "new";
}

int64_t orch_wo_revision(const json_t *wo)
{
        return json_integer_value(json_object_get(wo, "revision"));
}

size_t orch_wo_parked_count(const json_t *wo)
{
        return json_array_size(json_object_get(wo, "parked"));
}

static json_t *sla_view(const json_t *sla)
{
        if (!json_is_object(sla))
                return json_null();
        return json_pack("{s:O, s:b, s:b}", "deadline", json_object_get(sla, "deadline"), "met",
                         wo_bool(sla, "met"), "breached", wo_bool(sla, "breached"));
}

static json_t *copy_or(const json_t *wo, const char *key, json_t *fallback)
{
        json_t *v = json_object_get(wo, key);
        if (v == NULL)
                return fallback;
        json_decref(fallback);
        return json_deep_copy(v);
}

json_t *orch_wo_view(const json_t *wo)
{
        json_t *slas = json_object_get(wo, "sla");
        json_t *view = json_pack(
            "{s:s, s:s, s:s, s:I, s:o, s:o, s:I, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:O?, s:O?}",
            "plant", wo_str(wo, "plant") ? wo_str(wo, "plant") : "", "work_order",
            wo_str(wo, "work_order") ? wo_str(wo, "work_order") : "", "state", orch_wo_state(wo),
            "revision", (json_int_t)orch_wo_revision(wo), "holds",
            copy_or(wo, "holds", json_array()), "parked", copy_or(wo, "parked", json_array()),
            "parked_count", (json_int_t)orch_wo_parked_count(wo), "sla", "acknowledge",
            sla_view(json_object_get(slas, "acknowledge")), "erp_confirmation",
            sla_view(json_object_get(slas, "erp_confirmation")), "history",
            copy_or(wo, "history", json_array()), "operations",
            copy_or(wo, "operations", json_array()), "rejected_parked",
            copy_or(wo, "rejected_parked", json_array()), "completion",
            copy_or(wo, "completion", json_null()), "state_before_hold",
            json_object_get(wo, "state_before_hold"), "quantity", json_object_get(wo, "quantity"));
        return view;
}
