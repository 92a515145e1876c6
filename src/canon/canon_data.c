/* canon_data.c — the `data` of every canonical type (contract §2) as shapes
 * for the generic checker, plus the cross-field rules: planned_end not before
 * planned_start, a component's operation must be one of the order's
 * operations, and work_order.changed must change something. */
#include <string.h>

#include "canon_check.h"

#define SHAPE(fields_, rules_)                                                                     \
        {                                                                                          \
                (fields_), sizeof(fields_) / sizeof((fields_)[0]), (rules_)                        \
        }

static const struct canon_field quantity_fields[] = {
    {.name = "value", .kind = CK_NUMBER, .required = true},
    {.name = "uom", .kind = CK_ID, .required = true},
};
static const struct canon_shape quantity = SHAPE(quantity_fields, NULL);

static const struct canon_field operation_fields[] = {
    {.name = "operation", .kind = CK_ID, .required = true},
    {.name = "work_center", .kind = CK_ID, .required = true},
    {.name = "description", .kind = CK_TEXT},
};
static const struct canon_shape operation = SHAPE(operation_fields, NULL);

static const struct canon_field component_fields[] = {
    {.name = "material", .kind = CK_ID, .required = true},
    {.name = "quantity", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "operation", .kind = CK_ID},
};
static const struct canon_shape component = SHAPE(component_fields, NULL);

/* planned_end before planned_start, when both are present and valid. */
static void rule_planned_order(const struct canon_ctx *ctx, const json_t *data, const char *path)
{
        int64_t start, end;
        if (!canon_parse_time(canon_str(data, "planned_start"), &start) ||
            !canon_parse_time(canon_str(data, "planned_end"), &end) || end >= start)
                return;
        char child[192];
        canon_errors_add(ctx->errs, ctx->prefix,
                         canon_child_path(child, sizeof(child), path, "planned_end"),
                         "must not be before planned_start");
}

static bool has_operation(const json_t *operations, const char *id)
{
        size_t i;
        const json_t *op;
        json_array_foreach(operations, i, op)
        {
                const char *other = canon_str(op, "operation");
                if (other != NULL && strcmp(other, id) == 0)
                        return true;
        }
        return false;
}

static void rule_released(const struct canon_ctx *ctx, const json_t *data, const char *path)
{
        rule_planned_order(ctx, data, path);
        const json_t *operations = json_object_get(data, "operations");
        const json_t *components = json_object_get(data, "components");
        if (!json_is_array(operations) || !json_is_array(components))
                return;
        size_t i;
        const json_t *c;
        json_array_foreach(components, i, c)
        {
                const char *op = canon_str(c, "operation");
                if (op == NULL || has_operation(operations, op))
                        continue;
                char list[192], item[192], child[192];
                canon_child_path(list, sizeof(list), path, "components");
                canon_index_path(item, sizeof(item), list, i);
                canon_errors_add(ctx->errs, ctx->prefix,
                                 canon_child_path(child, sizeof(child), item, "operation"),
                                 "names operation \"%s\", which is not in /data/operations", op);
        }
}

static void rule_changed(const struct canon_ctx *ctx, const json_t *data, const char *path)
{
        static const char *const changes[] = {"quantity", "planned_start", "planned_end",
                                              "operations"};
        bool any = false;
        for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
                const json_t *v = json_object_get(data, changes[i]);
                any = any || (v != NULL && !json_is_null(v));
        }
        if (!any)
                canon_errors_add(ctx->errs, ctx->prefix, path,
                                 "must change at least one of quantity, planned_start, "
                                 "planned_end, operations");
        rule_planned_order(ctx, data, path);
}

static const struct canon_field released_fields[] = {
    {.name = "material", .kind = CK_ID, .required = true},
    {.name = "quantity", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "planned_start", .kind = CK_TIME, .required = true},
    {.name = "planned_end", .kind = CK_TIME, .required = true},
    {.name = "revision", .kind = CK_COUNT, .required = true},
    {.name = "operations",
     .kind = CK_ARRAY,
     .required = true,
     .shape = &operation,
     .min_items = 1,
     .unique = "operation"},
    {.name = "components", .kind = CK_ARRAY, .shape = &component},
};

static const struct canon_field changed_fields[] = {
    {.name = "revision", .kind = CK_COUNT, .required = true},
    {.name = "quantity", .kind = CK_OBJECT, .shape = &quantity},
    {.name = "planned_start", .kind = CK_TIME},
    {.name = "planned_end", .kind = CK_TIME},
    {.name = "operations",
     .kind = CK_ARRAY,
     .shape = &operation,
     .min_items = 1,
     .unique = "operation"},
};

static const struct canon_field cancelled_fields[] = {
    {.name = "revision", .kind = CK_COUNT, .required = true},
    {.name = "reason", .kind = CK_TEXT},
};

static const struct canon_field acknowledged_fields[] = {
    {.name = "mes_reference", .kind = CK_ID},
};

static const struct canon_field started_fields[] = {
    {.name = "operation", .kind = CK_ID, .required = true},
    {.name = "work_center", .kind = CK_ID, .required = true},
};

static const struct canon_field confirmed_fields[] = {
    {.name = "operation", .kind = CK_ID, .required = true},
    {.name = "yield", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "scrap", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "final", .kind = CK_BOOL, .required = true},
    {.name = "scrap_reason", .kind = CK_TEXT},
};

static const struct canon_field consumed_fields[] = {
    {.name = "material", .kind = CK_ID, .required = true},
    {.name = "quantity", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "batch", .kind = CK_ID},
    {.name = "operation", .kind = CK_ID},
};

static const struct canon_field hold_placed_fields[] = {
    {.name = "hold_id", .kind = CK_ID, .required = true},
    {.name = "reason", .kind = CK_ID, .required = true},
    {.name = "operation", .kind = CK_ID},
};

static const struct canon_field hold_released_fields[] = {
    {.name = "hold_id", .kind = CK_ID, .required = true},
    {.name = "disposition", .kind = CK_TEXT},
};

static const struct canon_field completed_fields[] = {
    {.name = "yield", .kind = CK_OBJECT, .required = true, .shape = &quantity},
    {.name = "scrap", .kind = CK_OBJECT, .required = true, .shape = &quantity},
};

static const struct canon_field downtime_fields[] = {
    {.name = "work_center", .kind = CK_ID, .required = true},
    {.name = "reason_code", .kind = CK_ID, .required = true},
};

static const struct canon_shape data_shapes[CANON_TYPE_COUNT] = {
    [CANON_WORK_ORDER_RELEASED] = SHAPE(released_fields, rule_released),
    [CANON_WORK_ORDER_CHANGED] = SHAPE(changed_fields, rule_changed),
    [CANON_WORK_ORDER_CANCELLED] = SHAPE(cancelled_fields, NULL),
    [CANON_WORK_ORDER_ACKNOWLEDGED] = SHAPE(acknowledged_fields, NULL),
    [CANON_OPERATION_STARTED] = SHAPE(started_fields, NULL),
    [CANON_OPERATION_CONFIRMED] = SHAPE(confirmed_fields, NULL),
    [CANON_MATERIAL_CONSUMED] = SHAPE(consumed_fields, NULL),
    [CANON_QUALITY_HOLD_PLACED] = SHAPE(hold_placed_fields, NULL),
    [CANON_QUALITY_HOLD_RELEASED] = SHAPE(hold_released_fields, NULL),
    [CANON_WORK_ORDER_COMPLETED] = SHAPE(completed_fields, NULL),
    [CANON_DOWNTIME_STARTED] = SHAPE(downtime_fields, NULL),
    [CANON_DOWNTIME_ENDED] = SHAPE(downtime_fields, NULL),
};

const struct canon_shape *canon_data_shape(enum canon_type t)
{
        if ((unsigned)t >= CANON_TYPE_COUNT || data_shapes[t].fields == NULL)
                return NULL;
        return &data_shapes[t];
}
