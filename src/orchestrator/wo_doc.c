/* wo_doc.c — the work-order document (docs/state-machine.md): creation,
 * field access, the one state setter (history + work_order.state_changed),
 * operations, SLA entries and small string-set helpers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "orch_internal.h"

json_t *wo_new_doc(const char *plant, const char *work_order)
{
        return json_pack("{s:s, s:s, s:s, s:n, s:I, s:n, s:n, s:[], s:[], s:[], s:[], s:[], "
                         "s:{s:n, s:n}, s:[], s:b, s:n, s:n}",
                         "plant", plant ? plant : "", "work_order", work_order ? work_order : "",
                         "state", "new", "state_before_hold", "revision", (json_int_t)0, "material",
                         "quantity", "operations", "holds", "released_holds", "parked",
                         "rejected_parked", "sla", "acknowledge", "erp_confirmation", "history",
                         "acknowledged", 0, "completion", "correlation_id");
}

const char *wo_str(const json_t *doc, const char *key)
{
        return json_string_value(json_object_get(doc, key));
}

bool wo_bool(const json_t *doc, const char *key)
{
        return json_is_true(json_object_get(doc, key));
}

bool wo_state_is(const json_t *doc, const char *state)
{
        const char *s = wo_str(doc, "state");
        return s != NULL && strcmp(s, state) == 0;
}

const char *wo_base_state(const json_t *doc)
{
        if (wo_state_is(doc, "on_hold"))
                return wo_str(doc, "state_before_hold");
        return wo_str(doc, "state");
}

bool wo_terminal(const json_t *doc)
{
        return wo_state_is(doc, "cancelled") || wo_state_is(doc, "closed");
}

static void push_history(struct step *st, const char *from, const char *to, const json_t *cause)
{
        char at[40], why[200];
        canon_format_time(st->now_ms, at, sizeof(at));
        snprintf(why, sizeof(why), "%s %s",
                 canon_str(cause, "type") ? canon_str(cause, "type") : "",
                 canon_str(cause, "id") ? canon_str(cause, "id") : "");
        json_t *history = json_object_get(st->doc, "history");
        json_array_append_new(history, json_pack("{s:s, s:s, s:s, s:s}", "from", from, "to", to,
                                                 "at", at, "cause", why));
        while (json_array_size(history) > ORCH_HISTORY_CAP)
                json_array_remove(history, 0);
}

void wo_set_visible_state(struct step *st, const char *to, const json_t *cause)
{
        char from[32], id[200];
        snprintf(from, sizeof(from), "%s", wo_str(st->doc, "state"));
        if (strcmp(from, to) == 0)
                return;
        json_object_set_new(st->doc, "state", json_string(to));
        push_history(st, from, to, cause);
        const char *cause_id = canon_str(cause, "id");
        snprintf(id, sizeof(id), "%s#state:%s", cause_id ? cause_id : "", to);
        json_t *env = canon_envelope_new(id, CANON_WORK_ORDER_STATE_CHANGED,
                                         wo_str(st->doc, "plant"), wo_str(st->doc, "work_order"),
                                         st->now_ms, canon_str(cause, "correlation_id"),
                                         json_pack("{s:s, s:s}", "from", from, "to", to));
        orch_emit(st->out, env, false);
}

void wo_set_state(struct step *st, const char *to, const json_t *cause)
{
        if (wo_state_is(st->doc, "on_hold"))
                json_object_set_new(st->doc, "state_before_hold", json_string(to));
        else
                wo_set_visible_state(st, to, cause);
}

json_t *wo_operation(const json_t *doc, const char *operation)
{
        size_t i;
        json_t *op;
        if (operation == NULL)
                return NULL;
        json_array_foreach(json_object_get(doc, "operations"), i, op)
        {
                const char *name = wo_str(op, "operation");
                if (name != NULL && strcmp(name, operation) == 0)
                        return op;
        }
        return NULL;
}

/* The operations of a release or change; progress of an operation that
 * keeps its id is carried over from previous (the stored document). */
json_t *wo_operations_from(const json_t *ops_in, const json_t *previous)
{
        json_t *ops = json_array();
        size_t i;
        json_t *in;
        json_array_foreach(ops_in, i, in)
        {
                const char *name = wo_str(in, "operation");
                json_t *old = previous ? wo_operation(previous, name) : NULL;
                json_t *op = old ? json_deep_copy(old)
                                 : json_pack("{s:s?, s:b, s:f, s:f, s:b, s:n}", "operation", name,
                                             "started", 0, "confirmed_yield", 0.0,
                                             "confirmed_scrap", 0.0, "final", 0, "uom");
                json_object_set(op, "work_center", json_object_get(in, "work_center"));
                json_array_append_new(ops, op);
        }
        return ops;
}

bool wo_all_final(const json_t *doc)
{
        size_t i;
        json_t *op;
        json_array_foreach(json_object_get(doc, "operations"), i, op)
        {
                if (!wo_bool(op, "final"))
                        return false;
        }
        return true;
}

void wo_arm_sla(struct step *st, const char *name, uint64_t after_ms, const json_t *cause)
{
        if (after_ms == 0)
                return;
        char at[40];
        int64_t deadline = st->now_ms + (int64_t)after_ms;
        canon_format_time(deadline, at, sizeof(at));
        json_object_set_new(json_object_get(st->doc, "sla"), name,
                            json_pack("{s:s, s:I, s:b, s:b, s:b, s:s?}", "deadline", at,
                                      "deadline_ms", (json_int_t)deadline, "met", 0, "breached", 0,
                                      "stopped", 0, "correlation_id",
                                      canon_str(cause, "correlation_id")));
}

void wo_meet_sla(json_t *doc, const char *name)
{
        json_t *sla = json_object_get(json_object_get(doc, "sla"), name);
        if (json_is_object(sla))
                json_object_set_new(sla, "met", json_true());
}

void wo_stop_slas(json_t *doc)
{
        const char *name;
        json_t *sla;
        json_object_foreach(json_object_get(doc, "sla"), name, sla)
        {
                if (json_is_object(sla) && !wo_bool(sla, "met"))
                        json_object_set_new(sla, "stopped", json_true());
        }
}

bool wo_string_in(const json_t *array, const char *value)
{
        size_t i;
        json_t *v;
        json_array_foreach(array, i, v)
        {
                if (value != NULL && json_string_value(v) &&
                    strcmp(json_string_value(v), value) == 0)
                        return true;
        }
        return false;
}

void wo_string_remove(json_t *array, const char *value)
{
        for (size_t i = 0; i < json_array_size(array); i++) {
                const char *v = json_string_value(json_array_get(array, i));
                if (v != NULL && value != NULL && strcmp(v, value) == 0) {
                        json_array_remove(array, i);
                        return;
                }
        }
}

void wo_string_push_capped(json_t *array, const char *value, size_t cap)
{
        json_array_append_new(array, json_string(value));
        while (json_array_size(array) > cap)
                json_array_remove(array, 0);
}

double orch_qty_value(const json_t *data, const char *key)
{
        return json_number_value(json_object_get(json_object_get(data, key), "value"));
}

const char *orch_qty_uom(const json_t *data, const char *key)
{
        return wo_str(json_object_get(data, key), "uom");
}

json_t *orch_qty_new(double value, const char *uom)
{
        json_t *v = (value == floor(value) && fabs(value) < 9007199254740992.0)
                        ? json_integer((json_int_t)value)
                        : json_real(value);
        return json_pack("{s:o, s:s}", "value", v, "uom", uom ? uom : "");
}
