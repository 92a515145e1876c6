/* canon_fixture.c — valid messages of every canonical type and a small
 * JSON Pointer patcher, shared by the canon tests. */
#include <stdlib.h>
#include <string.h>

#include "canon_fixture.h"

struct fixture {
        const char *type;
        const char *minimal; /* data */
        const char *full;    /* data with every optional field */
};

#define QTY(v, u) "{\"value\":" #v ",\"uom\":\"" u "\"}"

static const struct fixture fixtures[] = {
    {"work_order.released",
     "{\"material\":\"MAT-1\",\"quantity\":" QTY(
         100, "PCE") ","
                     "\"planned_start\":\"2026-12-01T06:00:00Z\",\"planned_end\":\"2026-12-01T14:"
                     "00:00Z\","
                     "\"revision\":0,\"operations\":[{\"operation\":\"0010\",\"work_center\":\"WC-"
                     "1\"}]}",
     "{\"material\":\"MAT-1\",\"quantity\":" QTY(
         100.5, "KG") ","
                      "\"planned_start\":\"2026-12-01T06:00:00.250+01:00\","
                      "\"planned_end\":\"2026-12-01T14:00:00-02:30\",\"revision\":7,"
                      "\"operations\":[{\"operation\":\"0010\",\"work_center\":\"WC-1\","
                      "\"description\":\"Cut\"},"
                      "{\"operation\":\"0020\",\"work_center\":\"WC-2\",\"description\":\"\"}],"
                      "\"components\":[{\"material\":\"RAW-1\",\"quantity\":" QTY(
                          2.5,
                          "KG") ","
                                "\"operation\":\"0020\"},{\"material\":\"RAW-2\",\"quantity\":" QTY(
                                    0, "PCE") "}]}"},
    {"work_order.changed", "{\"revision\":2,\"quantity\":" QTY(90, "PCE") "}",
     "{\"revision\":3,\"quantity\":" QTY(90,
                                         "PCE") ",\"planned_start\":\"2026-12-02T06:00:00Z\","
                                                "\"planned_end\":\"2026-12-02T06:00:00Z\","
                                                "\"operations\":[{\"operation\":\"0010\",\"work_"
                                                "center\":\"WC-3\",\"description\":\"x\"}]}"},
    {"work_order.cancelled", "{\"revision\":4}", "{\"revision\":4,\"reason\":\"customer\"}"},
    {"work_order.acknowledged", "{}", "{\"mes_reference\":\"MES-77\"}"},
    {"operation.started", "{\"operation\":\"0010\",\"work_center\":\"WC-1\"}",
     "{\"operation\":\"0010\",\"work_center\":\"WC-1\"}"},
    {"operation.confirmed",
     "{\"operation\":\"0010\",\"yield\":" QTY(50,
                                              "PCE") ",\"scrap\":" QTY(0, "PCE") ","
                                                                                 "\"final\":false}",
     "{\"operation\":\"0010\",\"yield\":" QTY(0, "PCE") ",\"scrap\":" QTY(
         3, "PCE") ","
                   "\"final\":true,\"scrap_reason\":\"burr\"}"},
    {"material.consumed", "{\"material\":\"RAW-1\",\"quantity\":" QTY(1.25, "KG") "}",
     "{\"material\":\"RAW-1\",\"quantity\":" QTY(1.25, "KG") ",\"batch\":\"B-9\","
                                                             "\"operation\":\"0010\"}"},
    {"quality.hold_placed", "{\"hold_id\":\"H-1\",\"reason\":\"porosity\"}",
     "{\"hold_id\":\"H-1\",\"reason\":\"porosity\",\"operation\":\"0020\"}"},
    {"quality.hold_released", "{\"hold_id\":\"H-1\"}",
     "{\"hold_id\":\"H-1\",\"disposition\":\"rework\"}"},
    {"work_order.completed", "{\"yield\":" QTY(97, "PCE") ",\"scrap\":" QTY(3, "PCE") "}",
     "{\"yield\":" QTY(97, "PCE") ",\"scrap\":" QTY(3, "PCE") "}"},
    {"downtime.started", "{\"work_center\":\"WC-1\",\"reason_code\":\"BRK\"}",
     "{\"work_center\":\"WC-1\",\"reason_code\":\"BRK\"}"},
    {"downtime.ended", "{\"work_center\":\"WC-1\",\"reason_code\":\"BRK\"}",
     "{\"work_center\":\"WC-1\",\"reason_code\":\"BRK\"}"},
};

json_t *fixture_message(const char *type, bool full)
{
        for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
                const struct fixture *f = &fixtures[i];
                if (strcmp(f->type, type) != 0)
                        continue;
                json_t *data = json_loads(full ? f->full : f->minimal, 0, NULL);
                if (data == NULL)
                        return NULL;
                json_t *env = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "id", "msg-1", "type",
                                        type, "schema_version", 1, "plant", "DE01", "occurred_at",
                                        "2026-11-30T06:45:02.123Z", "data", data);
                bool downtime = strncmp(type, "downtime.", 9) == 0;
                if (!downtime || full)
                        json_object_set_new(env, "work_order", json_string("1000123"));
                if (full)
                        json_object_set_new(env, "correlation_id", json_string("corr-1"));
                return env;
        }
        return NULL;
}

/* Copies the next reference token of *p into tok (unescaped); advances *p. */
static void next_token(const char **p, char *tok, size_t len)
{
        size_t n = 0;
        (*p)++; /* the '/' */
        while (**p != '\0' && **p != '/' && n + 1 < len) {
                char c = **p;
                if (c == '~') {
                        (*p)++;
                        c = **p == '1' ? '/' : '~';
                }
                tok[n++] = c;
                (*p)++;
        }
        tok[n] = '\0';
}

bool fixture_patch(json_t *root, const char *pointer, const char *value_json)
{
        json_t *parent = root;
        char tok[128];
        const char *p = pointer;
        next_token(&p, tok, sizeof(tok));
        while (*p != '\0') {
                parent = json_is_array(parent) ? json_array_get(parent, strtoul(tok, NULL, 10))
                                               : json_object_get(parent, tok);
                if (parent == NULL)
                        return false;
                next_token(&p, tok, sizeof(tok));
        }
        json_t *value = NULL;
        if (value_json != NULL) {
                value = json_loads(value_json, JSON_DECODE_ANY, NULL);
                if (value == NULL)
                        return false;
        }
        if (json_is_object(parent))
                return value ? json_object_set_new(parent, tok, value) == 0
                             : json_object_del(parent, tok) == 0;
        if (!json_is_array(parent)) {
                json_decref(value);
                return false;
        }
        size_t i = strtoul(tok, NULL, 10);
        if (value == NULL)
                return json_array_remove(parent, i) == 0;
        if (i == json_array_size(parent))
                return json_array_append_new(parent, value) == 0;
        return json_array_set_new(parent, i, value) == 0;
}
