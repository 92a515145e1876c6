/* orch_mes.c — the MES's (and QMS's) messages for a released order:
 * acknowledgement, operation start and confirmation (with the derived
 * completion of `completion: operation` plants), consumption, quality holds
 * and the MES's own completion. Every handler checks first and only then
 * changes the document and emits. */
#include <stdio.h>
#include <string.h>

#include "orch_internal.h"

static const json_t *data_of(const json_t *msg)
{
        return json_object_get(msg, "data");
}

/* Production reports on a cancelled or closed order are conflicts. */
static enum orch_result refuse_if_terminal(struct step *st, const json_t *msg)
{
        if (!wo_terminal(st->doc))
                return ORCH_ACCEPTED;
        return orch_verdict(st, ORCH_CONFLICT, "work order %s is %s: %s refused",
                            wo_str(st->doc, "work_order"), wo_str(st->doc, "state"),
                            canon_str(msg, "type"));
}

/* A production report on an open order, and the operation it names
 * (data.operation). required: absent is an error too. *op is NULL when the
 * message names none or is refused. */
static enum orch_result find_operation(struct step *st, const json_t *msg, bool required,
                                       json_t **op)
{
        *op = NULL;
        enum orch_result r = refuse_if_terminal(st, msg);
        if (r != ORCH_ACCEPTED)
                return r;
        const char *name = canon_str(data_of(msg), "operation");
        if (name == NULL && !required)
                return ORCH_ACCEPTED;
        *op = wo_operation(st->doc, name);
        if (*op != NULL)
                return ORCH_ACCEPTED;
        canon_errors_add(st->errors, "", "/data/operation", "work order %s has no operation '%s'",
                         wo_str(st->doc, "work_order"), name ? name : "");
        return ORCH_INVALID;
}

static bool base_state_in(const json_t *doc, const char *const *states)
{
        const char *base = wo_base_state(doc);
        for (; *states != NULL; states++) {
                if (base != NULL && strcmp(base, *states) == 0)
                        return true;
        }
        return false;
}

static const char *const before_ack[] = {"released", "dispatched", NULL};
static const char *const before_start[] = {"released", "dispatched", "acknowledged", NULL};

static void advance_to_in_progress(struct step *st, const json_t *msg)
{
        wo_meet_sla(st->doc, "acknowledge"); /* the MES works on it: it has the order */
        if (base_state_in(st->doc, before_start))
                wo_set_state(st, "in_progress", msg);
}

/* The order is complete: record the posting that says so, move to
 * completed and arm the erp_confirmation deadline. */
static void complete_order(struct step *st, const json_t *cause, const char *posting_id,
                           double yield, double scrap, const char *uom)
{
        json_object_set_new(st->doc, "completion",
                            json_pack("{s:s, s:o, s:o}", "id", posting_id, "yield",
                                      orch_qty_new(yield, uom), "scrap", orch_qty_new(scrap, uom)));
        wo_meet_sla(st->doc, "acknowledge");
        wo_set_state(st, "completed", cause);
        wo_arm_sla(st, "erp_confirmation", st->plant->sla.erp_confirmation_ms, cause);
}

/* completion: operation — the last operation's final confirmation completes
 * the order: yield of the last operation, scrap of all operations. */
static void derive_completion(struct step *st, const json_t *msg, const json_t *last)
{
        double scrap = 0;
        size_t i;
        json_t *op;
        json_array_foreach(json_object_get(st->doc, "operations"), i, op)
        {
                scrap += json_number_value(json_object_get(op, "confirmed_scrap"));
        }
        double yield = json_number_value(json_object_get(last, "confirmed_yield"));
        const char *uom = wo_str(last, "uom");
        char id[200];
        snprintf(id, sizeof(id), "%s#completed", canon_str(msg, "id"));
        json_t *data = json_pack("{s:o, s:o}", "yield", orch_qty_new(yield, uom), "scrap",
                                 orch_qty_new(scrap, uom));
        json_t *env = canon_envelope_new(id, CANON_WORK_ORDER_COMPLETED, wo_str(st->doc, "plant"),
                                         wo_str(st->doc, "work_order"), st->now_ms,
                                         canon_str(msg, "correlation_id"), data);
        orch_emit(st->out, env, wo_state_is(st->doc, "on_hold"));
        complete_order(st, msg, id, yield, scrap, uom);
}

enum orch_result orch_on_acknowledged(struct step *st, const json_t *msg)
{
        if (wo_bool(st->doc, "acknowledged"))
                return orch_verdict(st, ORCH_STALE, "work order %s is acknowledged already",
                                    wo_str(st->doc, "work_order"));
        if (wo_state_is(st->doc, "cancelled"))
                return refuse_if_terminal(st, msg);
        json_object_set_new(st->doc, "acknowledged", json_true());
        wo_meet_sla(st->doc, "acknowledge");
        orch_forward(st, msg, false);
        if (base_state_in(st->doc, before_ack))
                wo_set_state(st, "acknowledged", msg);
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_started(struct step *st, const json_t *msg)
{
        json_t *op;
        enum orch_result r = find_operation(st, msg, true, &op);
        if (r != ORCH_ACCEPTED)
                return r;
        if (wo_bool(op, "started"))
                return orch_verdict(st, ORCH_STALE, "operation %s is started already",
                                    wo_str(op, "operation"));
        json_object_set_new(op, "started", json_true());
        orch_forward(st, msg, false);
        advance_to_in_progress(st, msg);
        return ORCH_ACCEPTED;
}

static void add_number(json_t *obj, const char *key, double delta)
{
        json_object_set_new(obj, key,
                            json_real(json_number_value(json_object_get(obj, key)) + delta));
}

enum orch_result orch_on_confirmed(struct step *st, const json_t *msg)
{
        const json_t *data = data_of(msg);
        json_t *op;
        enum orch_result r = find_operation(st, msg, true, &op);
        if (r != ORCH_ACCEPTED)
                return r;
        double yield = orch_qty_value(data, "yield");
        double scrap = orch_qty_value(data, "scrap");
        bool was_final = wo_bool(op, "final");
        bool says_final = json_is_true(json_object_get(data, "final"));
        /* A second final is a duplicate, unless the plant reports scrap in
         * its own (zero-yield) messages; a late partial one still counts. */
        bool scrap_only = st->plant->scrap == TAKT_SCRAP_SEPARATE && yield == 0;
        if (was_final && says_final && !scrap_only)
                return orch_verdict(st, ORCH_STALE,
                                    "operation %s has its final confirmation already",
                                    wo_str(op, "operation"));
        add_number(op, "confirmed_yield", yield);
        add_number(op, "confirmed_scrap", scrap);
        if (json_is_null(json_object_get(op, "uom")) && orch_qty_uom(data, "yield"))
                json_object_set_new(op, "uom", json_string(orch_qty_uom(data, "yield")));
        bool final = !was_final && says_final;
        if (final)
                json_object_set_new(op, "final", json_true());
        orch_forward(st, msg, true);
        advance_to_in_progress(st, msg);
        json_t *ops = json_object_get(st->doc, "operations");
        bool last = op == json_array_get(ops, json_array_size(ops) - 1);
        if (final && last && st->plant->completion == TAKT_COMPLETION_OPERATION &&
            json_is_null(json_object_get(st->doc, "completion")))
                derive_completion(st, msg, op);
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_consumed(struct step *st, const json_t *msg)
{
        json_t *op;
        enum orch_result r = find_operation(st, msg, false, &op);
        if (r != ORCH_ACCEPTED)
                return r;
        orch_forward(st, msg, true); /* consumption before start is a goods issue: no state */
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_hold_placed(struct step *st, const json_t *msg)
{
        const char *hold = canon_str(data_of(msg), "hold_id");
        json_t *holds = json_object_get(st->doc, "holds");
        if (wo_string_in(holds, hold))
                return orch_verdict(st, ORCH_STALE, "hold %s is open already", hold);
        orch_forward(st, msg, false);
        if (wo_string_in(json_object_get(st->doc, "released_holds"), hold))
                return ORCH_ACCEPTED; /* its release arrived first: nothing to hold */
        json_array_append_new(holds, json_string(hold));
        if (!wo_terminal(st->doc) && !wo_state_is(st->doc, "on_hold")) {
                json_object_set_new(st->doc, "state_before_hold",
                                    json_string(wo_str(st->doc, "state")));
                wo_set_visible_state(st, "on_hold", msg);
        }
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_hold_released(struct step *st, const json_t *msg)
{
        const char *hold = canon_str(data_of(msg), "hold_id");
        json_t *holds = json_object_get(st->doc, "holds");
        json_t *released = json_object_get(st->doc, "released_holds");
        bool open = wo_string_in(holds, hold);
        if (!open && wo_string_in(released, hold))
                return orch_verdict(st, ORCH_STALE, "hold %s is released already", hold);
        wo_string_push_capped(released, hold, ORCH_TOMBSTONE_CAP);
        orch_forward(st, msg, false);
        if (!open)
                return ORCH_ACCEPTED; /* released before it was placed: remembered */
        wo_string_remove(holds, hold);
        if (json_array_size(holds) > 0)
                return ORCH_ACCEPTED;
        st->out->release_held = true;
        if (wo_state_is(st->doc, "on_hold")) {
                char back[32];
                snprintf(back, sizeof(back), "%s", wo_str(st->doc, "state_before_hold"));
                json_object_set_new(st->doc, "state_before_hold", json_null());
                wo_set_visible_state(st, back, msg);
        }
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_completed(struct step *st, const json_t *msg)
{
        if (!json_is_null(json_object_get(st->doc, "completion")))
                return orch_verdict(st, ORCH_STALE, "work order %s is completed already",
                                    wo_str(st->doc, "work_order"));
        enum orch_result r = refuse_if_terminal(st, msg);
        if (r != ORCH_ACCEPTED)
                return r;
        const json_t *data = data_of(msg);
        orch_forward(st, msg, true);
        complete_order(st, msg, canon_str(msg, "id"), orch_qty_value(data, "yield"),
                       orch_qty_value(data, "scrap"), orch_qty_uom(data, "yield"));
        return ORCH_ACCEPTED;
}
