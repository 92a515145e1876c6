/* canon.h — the canonical model (contract §2): message types, who may send
 * them, and validation of an envelope field by field with JSON Pointer error
 * paths. Pure: no I/O. Messages are jansson objects; nothing here takes
 * ownership of a json_t it is given. */
#ifndef TAKT_CANON_H
#define TAKT_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum canon_type {
        CANON_WORK_ORDER_RELEASED,
        CANON_WORK_ORDER_CHANGED,
        CANON_WORK_ORDER_CANCELLED,
        CANON_WORK_ORDER_ACKNOWLEDGED,
        CANON_OPERATION_STARTED,
        CANON_OPERATION_CONFIRMED,
        CANON_MATERIAL_CONSUMED,
        CANON_QUALITY_HOLD_PLACED,
        CANON_QUALITY_HOLD_RELEASED,
        CANON_WORK_ORDER_COMPLETED,
        CANON_DOWNTIME_STARTED,
        CANON_DOWNTIME_ENDED,
        CANON_WORK_ORDER_STATE_CHANGED, /* emitted by takt */
        CANON_SLA_BREACHED,             /* emitted by takt */
        CANON_TYPE_COUNT
};

/* Who may send a type (bit set). */
enum canon_sender { CANON_SENDER_ERP = 1, CANON_SENDER_MES = 2, CANON_SENDER_TAKT = 4 };

#define CANON_SCHEMA_VERSION 1

const char *canon_type_name(enum canon_type t);
bool canon_type_parse(const char *name, enum canon_type *out);
unsigned canon_type_senders(enum canon_type t);

struct canon_error {
        char path[192]; /* JSON Pointer, e.g. "/3/data/quantity/value" */
        char message[192];
};

#define CANON_MAX_ERRORS 20
struct canon_errors {
        size_t count;
        struct canon_error items[CANON_MAX_ERRORS];
};

/* Append an error at prefix+path (extra errors past the cap are dropped). */
void canon_errors_add(struct canon_errors *errs, const char *prefix, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Appends "/" + token to the JSON Pointer in buf, escaping '~' as "~0" and
 * '/' as "~1" (RFC 6901); truncates to len. Returns buf. */
const char *canon_pointer_append(char *buf, size_t len, const char *token);
/* {"status":"invalid","errors":[{"path","message"}...]}; new reference. */
json_t *canon_errors_json(const struct canon_errors *errs);

/* Validate a canonical envelope (every field of §2, data per type). prefix is
 * prepended to every error path ("" for a single message, "/3" for item 3 of a
 * batch). correlation_id may be absent (takt sets it). Returns true when
 * valid and stores the type in *type. */
bool canon_validate(const json_t *env, const char *prefix, enum canon_type *type,
                    struct canon_errors *errs);

/* RFC 3339 timestamp <-> milliseconds since the epoch (UTC). */
bool canon_parse_time(const char *text, int64_t *out_ms);
/* Writes "2026-11-30T06:45:02.123Z" (buf of at least 32 bytes). */
void canon_format_time(int64_t ms, char *buf, size_t len);

/* Envelope field accessors (NULL when absent or not a string). */
const char *canon_str(const json_t *env, const char *key);
/* Lane key of a message: "<plant>/<work_order>", or "<plant>/<work_center>"
 * for downtime.*. Writes into buf; returns buf. */
const char *canon_lane_key(const json_t *env, char *buf, size_t len);

/* A new envelope emitted by takt: id, type, schema_version 1, plant,
 * work_order (may be NULL), occurred_at (now_ms), correlation_id, data
 * (stolen). Returns a new reference. */
json_t *canon_envelope_new(const char *id, enum canon_type type, const char *plant,
                           const char *work_order, int64_t now_ms, const char *correlation_id,
                           json_t *data);

#endif
