/* canon_validate.c — validation of one canonical envelope (contract §2): the
 * envelope's fields, then the type's data, every error collected (up to
 * CANON_MAX_ERRORS) with its JSON Pointer behind the caller's prefix. The
 * envelope is closed: a field it does not define is an "unknown field". */
#include <string.h>

#include "canon_check.h"

enum { F_ID, F_TYPE, F_SCHEMA, F_PLANT, F_WORK_ORDER, F_OCCURRED_AT, F_CORRELATION, F_DATA, F_N };

static const struct canon_field envelope_fields[F_N] = {
    [F_ID] = {.name = "id", .kind = CK_ID128, .required = true},
    [F_TYPE] = {.name = "type", .kind = CK_TYPE, .required = true},
    [F_SCHEMA] = {.name = "schema_version", .kind = CK_SCHEMA, .required = true},
    [F_PLANT] = {.name = "plant", .kind = CK_ID, .required = true},
    [F_WORK_ORDER] = {.name = "work_order", .kind = CK_ID, .required = true},
    [F_OCCURRED_AT] = {.name = "occurred_at", .kind = CK_TIME, .required = true},
    [F_CORRELATION] = {.name = "correlation_id", .kind = CK_ID128},
    [F_DATA] = {.name = "data", .kind = CK_OBJECT, .required = true},
};

static bool is_downtime(enum canon_type t)
{
        return t == CANON_DOWNTIME_STARTED || t == CANON_DOWNTIME_ENDED;
}

bool canon_validate(const json_t *env, const char *prefix, enum canon_type *type,
                    struct canon_errors *errs)
{
        /* Collected apart so that a full caller's list (a batch) cannot hide
         * this envelope's errors from the verdict. */
        struct canon_errors own = {0};
        struct canon_ctx ctx = {.prefix = prefix ? prefix : "", .errs = &own};
        if (!json_is_object(env)) {
                canon_errors_add(errs, ctx.prefix, "", "must be a JSON object");
                return false;
        }
        /* The type decides whether work_order is required and what data is. */
        enum canon_type t = CANON_TYPE_COUNT;
        bool known = canon_type_parse(canon_str(env, "type"), &t) &&
                     canon_type_senders(t) != CANON_SENDER_TAKT;
        struct canon_field fields[F_N];
        memcpy(fields, envelope_fields, sizeof(fields));
        fields[F_WORK_ORDER].required = !(known && is_downtime(t));
        fields[F_DATA].shape = known ? canon_data_shape(t) : NULL;
        struct canon_shape shape = {fields, F_N, NULL};
        canon_check_object(&ctx, env, "", &shape);

        for (size_t i = 0; i < own.count && errs->count < CANON_MAX_ERRORS; i++)
                errs->items[errs->count++] = own.items[i];
        if (own.count > 0)
                return false;
        if (type != NULL)
                *type = t;
        return true;
}
