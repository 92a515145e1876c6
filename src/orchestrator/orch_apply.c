/* orch_apply.c — orch_apply(): the entry point for canonical messages. It
 * copies the stored document, parks MES events of orders not yet released,
 * dispatches by type to one handler, replays parked events after a release,
 * and keeps the document only when the verdict stores something. */
#include <string.h>

#include "orch_internal.h"

static const orch_handler handlers[CANON_TYPE_COUNT] = {
    [CANON_WORK_ORDER_RELEASED] = orch_on_released,
    [CANON_WORK_ORDER_CHANGED] = orch_on_changed,
    [CANON_WORK_ORDER_CANCELLED] = orch_on_cancelled,
    [CANON_WORK_ORDER_ACKNOWLEDGED] = orch_on_acknowledged,
    [CANON_OPERATION_STARTED] = orch_on_started,
    [CANON_OPERATION_CONFIRMED] = orch_on_confirmed,
    [CANON_MATERIAL_CONSUMED] = orch_on_consumed,
    [CANON_QUALITY_HOLD_PLACED] = orch_on_hold_placed,
    [CANON_QUALITY_HOLD_RELEASED] = orch_on_hold_released,
    [CANON_WORK_ORDER_COMPLETED] = orch_on_completed,
};

static bool is_mes_event(enum canon_type type)
{
        return type >= CANON_WORK_ORDER_ACKNOWLEDGED && type <= CANON_WORK_ORDER_COMPLETED;
}

static enum orch_result park(struct step *st, const json_t *msg)
{
        json_t *parked = json_object_get(st->doc, "parked");
        if (json_array_size(parked) >= ORCH_PARKED_CAP)
                return orch_verdict(st, ORCH_CONFLICT, "work order %s has %d parked events already",
                                    wo_str(st->doc, "work_order"), ORCH_PARKED_CAP);
        json_array_append_new(parked, json_deep_copy(msg));
        return orch_verdict(st, ORCH_PARKED, "work order %s not released yet: event parked",
                            wo_str(st->doc, "work_order"));
}

/* Replays the parked events in arrival order once the release is applied.
 * They were answered 202 already, so one that no longer fits is recorded in
 * "rejected_parked" (visible in the view) instead of failing the release. */
static void replay_parked(struct step *st)
{
        json_t *parked = json_object_get(st->doc, "parked");
        json_incref(parked);
        json_object_set_new(st->doc, "parked", json_array());
        size_t i;
        json_t *msg;
        json_array_foreach(parked, i, msg)
        {
                enum canon_type type;
                char reason[192] = "";
                struct canon_errors errs = {0};
                struct step sub = *st;
                sub.reason = reason;
                sub.reason_len = sizeof(reason);
                sub.errors = &errs;
                if (!canon_type_parse(canon_str(msg, "type"), &type))
                        continue;
                enum orch_result r = orch_step_apply(&sub, msg, type);
                if (r == ORCH_ACCEPTED)
                        continue;
                json_t *note = json_pack("{s:s?, s:s?, s:s}", "id", canon_str(msg, "id"), "type",
                                         canon_str(msg, "type"), "reason",
                                         errs.count ? errs.items[0].message : reason);
                json_array_append_new(json_object_get(st->doc, "rejected_parked"), note);
        }
        json_decref(parked);
}

enum orch_result orch_step_apply(struct step *st, const json_t *msg, enum canon_type type)
{
        if (handlers[type] == NULL)
                return ORCH_INVALID;
        if (wo_state_is(st->doc, "new")) {
                if (is_mes_event(type))
                        return park(st, msg);
                if (type != CANON_WORK_ORDER_RELEASED)
                        return orch_verdict(st, ORCH_CONFLICT, "work order %s is not released",
                                            wo_str(st->doc, "work_order"));
        }
        bool was_new = wo_state_is(st->doc, "new");
        enum orch_result r = handlers[type](st, msg);
        if (r == ORCH_ACCEPTED && was_new)
                replay_parked(st);
        return r;
}

static bool takt_only(enum canon_type type)
{
        return type == CANON_WORK_ORDER_STATE_CHANGED || type == CANON_SLA_BREACHED;
}

void orch_apply(const json_t *wo, const struct takt_plant *plant, const json_t *msg,
                enum canon_type type, int64_t now_ms, struct orch_output *out)
{
        orch_output_init(out);
        if ((unsigned)type >= CANON_TYPE_COUNT || takt_only(type)) {
                canon_errors_add(&out->errors, "", "/type", "%s is emitted by takt only",
                                 canon_type_name(type));
                out->result = ORCH_INVALID;
                return;
        }
        if (type == CANON_DOWNTIME_STARTED || type == CANON_DOWNTIME_ENDED) {
                orch_emit(out, json_incref((json_t *)msg), false); /* no work order: forward */
                return;
        }
        struct step st = {.plant = plant,
                          .now_ms = now_ms,
                          .out = out,
                          .reason = out->reason,
                          .reason_len = sizeof(out->reason),
                          .errors = &out->errors};
        st.doc = wo ? json_deep_copy(wo)
                    : wo_new_doc(canon_str(msg, "plant"), canon_str(msg, "work_order"));
        out->result = orch_step_apply(&st, msg, type);
        if (out->result == ORCH_ACCEPTED || out->result == ORCH_PARKED) {
                out->wo = st.doc;
                return;
        }
        json_decref(st.doc);
        struct orch_output keep = *out; /* drop any emit, keep the verdict text */
        keep.wo = NULL;
        keep.emit = NULL;
        keep.n_emit = 0;
        keep.release_held = false;
        for (size_t i = 0; i < out->n_emit; i++)
                json_decref(out->emit[i].envelope);
        free(out->emit);
        *out = keep;
}
