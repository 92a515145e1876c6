/* orch_erp.c — the ERP's messages: work_order.released (first release, and a
 * re-release with a higher revision, which is treated as a change),
 * work_order.changed and work_order.cancelled, with the stale-revision and
 * conflict rules of contract §3. */
#include <string.h>

#include "orch_internal.h"

static const char *const copied_fields[] = {"quantity", "planned_start", "planned_end", "material",
                                            "components"};

/* Revision check shared by every ERP message of a known order. */
static enum orch_result check_revision(struct step *st, const json_t *data, json_int_t *rev)
{
        json_t *r = json_object_get(data, "revision");
        if (!json_is_integer(r)) {
                canon_errors_add(st->errors, "", "/data/revision", "must be an integer");
                return ORCH_INVALID;
        }
        *rev = json_integer_value(r);
        json_int_t stored = json_integer_value(json_object_get(st->doc, "revision"));
        if (*rev <= stored)
                return orch_verdict(st, ORCH_STALE, "revision %lld is not above the stored %lld",
                                    (long long)*rev, (long long)stored);
        return ORCH_ACCEPTED;
}

static bool is_closed_for_changes(const json_t *doc)
{
        const char *base = wo_base_state(doc);
        return base == NULL || strcmp(base, "completed") == 0 || strcmp(base, "closed") == 0 ||
               strcmp(base, "cancelled") == 0;
}

/* An operation with progress may not disappear in a change. */
static const char *removed_with_progress(const json_t *doc, const json_t *ops_in)
{
        size_t i;
        json_t *op;
        json_array_foreach(json_object_get(doc, "operations"), i, op)
        {
                const char *name = wo_str(op, "operation");
                bool kept = false;
                size_t j;
                json_t *in;
                json_array_foreach(ops_in, j, in)
                {
                        if (name && wo_str(in, "operation") &&
                            !strcmp(name, wo_str(in, "operation")))
                                kept = true;
                }
                bool progress = wo_bool(op, "started") ||
                                json_number_value(json_object_get(op, "confirmed_yield")) > 0 ||
                                json_number_value(json_object_get(op, "confirmed_scrap")) > 0;
                if (!kept && progress)
                        return name;
        }
        return NULL;
}

static void copy_fields(json_t *doc, const json_t *data)
{
        for (size_t i = 0; i < sizeof(copied_fields) / sizeof(copied_fields[0]); i++) {
                json_t *v = json_object_get(data, copied_fields[i]);
                if (v != NULL)
                        json_object_set_new(doc, copied_fields[i], json_deep_copy(v));
        }
}

static enum orch_result apply_change(struct step *st, const json_t *msg)
{
        const json_t *data = json_object_get(msg, "data");
        json_int_t rev;
        enum orch_result r = check_revision(st, data, &rev);
        if (r != ORCH_ACCEPTED)
                return r;
        if (is_closed_for_changes(st->doc))
                return orch_verdict(st, ORCH_CONFLICT, "work order %s is %s: no change possible",
                                    wo_str(st->doc, "work_order"), wo_str(st->doc, "state"));
        json_t *ops_in = json_object_get(data, "operations");
        if (ops_in != NULL) {
                const char *gone = removed_with_progress(st->doc, ops_in);
                if (gone != NULL)
                        return orch_verdict(st, ORCH_CONFLICT,
                                            "operation %s has progress and cannot be removed",
                                            gone);
                json_object_set_new(st->doc, "operations", wo_operations_from(ops_in, st->doc));
        }
        json_object_set_new(st->doc, "revision", json_integer(rev));
        copy_fields(st->doc, data);
        orch_forward(st, msg, false);
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_released(struct step *st, const json_t *msg)
{
        if (!wo_state_is(st->doc, "new"))
                return apply_change(st, msg);
        const json_t *data = json_object_get(msg, "data");
        json_t *ops_in = json_object_get(data, "operations");
        if (json_array_size(ops_in) == 0) {
                canon_errors_add(st->errors, "", "/data/operations",
                                 "needs at least one operation");
                return ORCH_INVALID;
        }
        json_object_set_new(st->doc, "revision",
                            json_integer(json_integer_value(json_object_get(data, "revision"))));
        json_object_set_new(st->doc, "operations", wo_operations_from(ops_in, NULL));
        copy_fields(st->doc, data);
        json_object_set_new(
            st->doc, "correlation_id",
            json_string(canon_str(msg, "correlation_id") ? canon_str(msg, "correlation_id") : ""));
        orch_forward(st, msg, false);
        wo_set_visible_state(st, "released", msg);
        wo_arm_sla(st, "acknowledge", st->plant->sla.acknowledge_ms, msg);
        return ORCH_ACCEPTED;
}

enum orch_result orch_on_changed(struct step *st, const json_t *msg)
{
        return apply_change(st, msg);
}

enum orch_result orch_on_cancelled(struct step *st, const json_t *msg)
{
        const json_t *data = json_object_get(msg, "data");
        json_int_t rev;
        enum orch_result r = check_revision(st, data, &rev);
        if (r != ORCH_ACCEPTED)
                return r;
        if (wo_state_is(st->doc, "cancelled"))
                return orch_verdict(st, ORCH_STALE, "work order %s is cancelled already",
                                    wo_str(st->doc, "work_order"));
        const char *base = wo_base_state(st->doc);
        if (!strcmp(base, "completed") || !strcmp(base, "closed"))
                return orch_verdict(st, ORCH_CONFLICT, "work order %s is %s: too late to cancel",
                                    wo_str(st->doc, "work_order"), base);
        json_object_set_new(st->doc, "revision", json_integer(rev));
        json_object_set_new(st->doc, "state_before_hold", json_null());
        wo_stop_slas(st->doc);
        orch_forward(st, msg, false);
        wo_set_visible_state(st, "cancelled", msg);
        return ORCH_ACCEPTED;
}
