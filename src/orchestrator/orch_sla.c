/* orch_sla.c — SLA deadlines (contract §3): acknowledge (armed at release,
 * met by the acknowledgement or any later progress) and erp_confirmation
 * (armed at completion, met when the completion reaches the ERP). A passed
 * deadline is reported once as sla.breached and stays visible in the doc. */
#include <stdio.h>

#include "orch_internal.h"

static const char *const sla_names[] = {"acknowledge", "erp_confirmation"};
#define N_SLA (sizeof(sla_names) / sizeof(sla_names[0]))

static bool pending(const json_t *sla)
{
        return json_is_object(sla) && !wo_bool(sla, "met") && !wo_bool(sla, "breached") &&
               !wo_bool(sla, "stopped");
}

static int64_t deadline_of(const json_t *sla)
{
        return json_integer_value(json_object_get(sla, "deadline_ms"));
}

int64_t orch_next_deadline_ms(const json_t *wo)
{
        int64_t next = 0;
        json_t *slas = json_object_get(wo, "sla");
        for (size_t i = 0; i < N_SLA; i++) {
                json_t *sla = json_object_get(slas, sla_names[i]);
                if (pending(sla) && (next == 0 || deadline_of(sla) < next))
                        next = deadline_of(sla);
        }
        return next;
}

void orch_check_sla(const json_t *wo, const struct takt_plant *plant, int64_t now_ms,
                    struct orch_output *out)
{
        orch_output_init(out);
        if (wo == NULL)
                return;
        json_t *doc = json_deep_copy(wo);
        json_t *slas = json_object_get(doc, "sla");
        for (size_t i = 0; i < N_SLA; i++) {
                json_t *sla = json_object_get(slas, sla_names[i]);
                if (!pending(sla) || deadline_of(sla) > now_ms)
                        continue;
                json_object_set_new(sla, "breached", json_true());
                char id[300];
                snprintf(id, sizeof(id), "%s/%s#sla:%s", wo_str(doc, "plant"),
                         wo_str(doc, "work_order"), sla_names[i]);
                json_t *data = json_pack("{s:s, s:s?, s:s?}", "sla", sla_names[i], "deadline",
                                         wo_str(sla, "deadline"), "state", wo_str(doc, "state"));
                orch_emit(out,
                          canon_envelope_new(id, CANON_SLA_BREACHED, wo_str(doc, "plant"),
                                             wo_str(doc, "work_order"), now_ms,
                                             wo_str(sla, "correlation_id"), data),
                          false);
        }
        if (out->n_emit > 0)
                out->wo = doc;
        else
                json_decref(doc);
}
