/* canon_envelope.c — envelope accessors and the envelopes takt emits itself
 * (work_order.state_changed, sla.breached, derived work_order.completed). */
#include <stdio.h>
#include <string.h>

#include "takt/canon.h"

const char *canon_str(const json_t *env, const char *key)
{
        if (!json_is_object(env))
                return NULL;
        return json_string_value(json_object_get(env, key)); /* NULL unless a string */
}

static bool is_downtime(const json_t *env)
{
        const char *type = canon_str(env, "type");
        return type != NULL && strncmp(type, "downtime.", 9) == 0;
}

const char *canon_lane_key(const json_t *env, char *buf, size_t len)
{
        const char *plant = canon_str(env, "plant");
        const char *key = is_downtime(env) ? canon_str(json_object_get(env, "data"), "work_center")
                                           : canon_str(env, "work_order");
        snprintf(buf, len, "%s/%s", plant ? plant : "", key ? key : "");
        return buf;
}

json_t *canon_envelope_new(const char *id, enum canon_type type, const char *plant,
                           const char *work_order, int64_t now_ms, const char *correlation_id,
                           json_t *data)
{
        char at[40];
        canon_format_time(now_ms, at, sizeof(at));
        json_t *env = json_pack("{s:s, s:s, s:i, s:s, s:s}", "id", id ? id : "", "type",
                                canon_type_name(type), "schema_version", CANON_SCHEMA_VERSION,
                                "plant", plant ? plant : "", "occurred_at", at);
        if (work_order != NULL)
                json_object_set_new(env, "work_order", json_string(work_order));
        if (correlation_id != NULL)
                json_object_set_new(env, "correlation_id", json_string(correlation_id));
        json_object_set_new(env, "data", data != NULL ? data : json_object());
        return env;
}
