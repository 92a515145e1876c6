/* test_canon_validate.c — canon_validate against contract §2: every type
 * valid (minimal and full), then one broken field at a time with the exact
 * JSON Pointer and message expected, plus batch prefixes and the error cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "takt/canon.h"
#include "canon_fixture.h"

static const char *const all_types[] = {
    "work_order.released",     "work_order.changed",  "work_order.cancelled",
    "work_order.acknowledged", "operation.started",   "operation.confirmed",
    "material.consumed",       "quality.hold_placed", "quality.hold_released",
    "work_order.completed",    "downtime.started",    "downtime.ended",
};
#define N_TYPES (sizeof(all_types) / sizeof(all_types[0]))

static void print_errors(const struct canon_errors *errs)
{
        for (size_t i = 0; i < errs->count; i++)
                print_message("  %s: %s\n", errs->items[i].path, errs->items[i].message);
}

static void test_every_type_valid(void **state)
{
        for (size_t i = 0; i < N_TYPES; i++) {
                for (int full = 0; full <= 1; full++) {
                        json_t *env = fixture_message(all_types[i], full);
                        assert_non_null(env);
                        struct canon_errors errs = {0};
                        enum canon_type t = CANON_TYPE_COUNT;
                        bool ok = canon_validate(env, "", &t, &errs);
                        if (!ok || errs.count != 0) {
                                print_message("%s (%s):\n", all_types[i], full ? "full" : "min");
                                print_errors(&errs);
                        }
                        assert_true(ok);
                        assert_int_equal(errs.count, 0);
                        assert_string_equal(canon_type_name(t), all_types[i]);
                        json_decref(env);
                }
        }
}

/* One mutation of a valid message and the single error it must cause;
 * path NULL means the mutated message is still valid. */
struct mutation {
        const char *type;
        bool full;
        const char *pointer;
        const char *value; /* JSON text; NULL removes the field */
        const char *path;
        const char *message;
};

#define REQ      "is required"
#define STR      "must be a string"
#define NONEMPTY "must not be empty"
#define OBJ      "must be an object"
#define NUM      "must be a number >= 0"
#define COUNT    "must be an integer >= 0"
#define TIME     "must be an RFC 3339 timestamp with a time zone"
#define ID128    "must be 1 to 128 characters"
#define UNKNOWN  "unknown field"

#define REL "work_order.released"
#define CHG "work_order.changed"
#define CAN "work_order.cancelled"
#define ACK "work_order.acknowledged"
#define OPS "operation.started"
#define OPC "operation.confirmed"
#define MAT "material.consumed"
#define QHP "quality.hold_placed"
#define QHR "quality.hold_released"
#define CMP "work_order.completed"
#define DTS "downtime.started"
#define DTE "downtime.ended"

/* "@é128" is 128 characters but 256 bytes: lengths count characters. */
/* "@<char><n>": a JSON string of n copies of one (UTF-8) character. */
static const char *expand(const char *value, char *buf, size_t len)
{
        if (value == NULL || value[0] != '@')
                return value;
        size_t unit = ((unsigned char)value[1] & 0x80) ? 2 : 1;
        size_t n = strtoul(value + 1 + unit, NULL, 10);
        size_t at = 0;
        buf[at++] = '"';
        for (size_t i = 0; i < n && at + unit + 2 < len; i++, at += unit)
                memcpy(buf + at, value + 1, unit);
        buf[at++] = '"';
        buf[at] = '\0';
        return buf;
}

static const struct mutation envelope_cases[] = {
    /* id */
    {REL, false, "/id", NULL, "/id", REQ},
    {REL, false, "/id", "null", "/id", REQ},
    {REL, false, "/id", "\"\"", "/id", ID128},
    {REL, false, "/id", "@x129", "/id", ID128},
    {REL, false, "/id", "@x128", NULL, NULL},
    {REL, false, "/id", "@é128", NULL, NULL},
    {REL, false, "/id", "7", "/id", STR},
    /* type */
    {REL, false, "/type", NULL, "/type", REQ},
    {REL, false, "/type", "1", "/type", STR},
    {REL, false, "/type", "\"work_order.shipped\"", "/type", "is not a known message type"},
    {REL, false, "/type", "\"\"", "/type", "is not a known message type"},
    {REL, false, "/type", "\"work_order.state_changed\"", "/type", "type is emitted by takt only"},
    {REL, false, "/type", "\"sla.breached\"", "/type", "type is emitted by takt only"},
    /* schema_version */
    {REL, false, "/schema_version", NULL, "/schema_version", REQ},
    {REL, false, "/schema_version", "2", "/schema_version", "must be the integer 1"},
    {REL, false, "/schema_version", "0", "/schema_version", "must be the integer 1"},
    {REL, false, "/schema_version", "1.0", "/schema_version", "must be the integer 1"},
    {REL, false, "/schema_version", "\"1\"", "/schema_version", "must be the integer 1"},
    /* plant */
    {REL, false, "/plant", NULL, "/plant", REQ},
    {REL, false, "/plant", "\"\"", "/plant", NONEMPTY},
    {REL, false, "/plant", "[\"DE01\"]", "/plant", STR},
    /* work_order: required except for downtime.* */
    {REL, false, "/work_order", NULL, "/work_order", REQ},
    {OPC, false, "/work_order", NULL, "/work_order", REQ},
    {ACK, false, "/work_order", "null", "/work_order", REQ},
    {REL, false, "/work_order", "\"\"", "/work_order", NONEMPTY},
    {REL, false, "/work_order", "1000123", "/work_order", STR},
    {DTS, true, "/work_order", NULL, NULL, NULL},
    {DTE, true, "/work_order", NULL, NULL, NULL},
    {DTS, false, "/work_order", "\"\"", "/work_order", NONEMPTY},
    /* occurred_at */
    {REL, false, "/occurred_at", NULL, "/occurred_at", REQ},
    {REL, false, "/occurred_at", "\"2026-11-30T06:45:02\"", "/occurred_at", TIME},
    {REL, false, "/occurred_at", "\"2026-11-30\"", "/occurred_at", TIME},
    {REL, false, "/occurred_at", "1764485102", "/occurred_at", STR},
    {REL, false, "/occurred_at", "\"2026-11-30T07:45:02.5+01:00\"", NULL, NULL},
    /* correlation_id: optional */
    {REL, true, "/correlation_id", NULL, NULL, NULL},
    {REL, true, "/correlation_id", "null", NULL, NULL},
    {REL, true, "/correlation_id", "\"\"", "/correlation_id", ID128},
    {REL, true, "/correlation_id", "@x129", "/correlation_id", ID128},
    {REL, true, "/correlation_id", "3", "/correlation_id", STR},
    /* data */
    {REL, false, "/data", NULL, "/data", REQ},
    {REL, false, "/data", "[]", "/data", OBJ},
    {ACK, false, "/data", "\"none\"", "/data", OBJ},
    /* the envelope is closed; keys are escaped in the pointer (RFC 6901) */
    {REL, false, "/source", "\"s4\"", "/source", UNKNOWN},
    {REL, false, "/a~1b~0c", "1", "/a~1b~0c", UNKNOWN},
    {REL, false, "/~0~1", "1", "/~0~1", UNKNOWN},
    {REL, false, "/", "1", "/", UNKNOWN},
    {REL, false, "/data/a~1b", "1", "/data/a~1b", UNKNOWN},
};

/* Per type: every required field missing, every wrong JSON type, every
 * bound. */
static const struct mutation data_cases[] = {
    /* quantities (shared shape), through released */
    {REL, false, "/data/quantity", NULL, "/data/quantity", REQ},
    {REL, false, "/data/quantity", "100", "/data/quantity", OBJ},
    {REL, false, "/data/quantity/value", NULL, "/data/quantity/value", REQ},
    {REL, false, "/data/quantity/value", "-1", "/data/quantity/value", NUM},
    {REL, false, "/data/quantity/value", "-0.001", "/data/quantity/value", NUM},
    {REL, false, "/data/quantity/value", "\"5\"", "/data/quantity/value", NUM},
    {REL, false, "/data/quantity/value", "true", "/data/quantity/value", NUM},
    {REL, false, "/data/quantity/value", "0", NULL, NULL},
    {REL, false, "/data/quantity/value", "0.0", NULL, NULL},
    {REL, false, "/data/quantity/value", "1e6", NULL, NULL},
    {REL, false, "/data/quantity/uom", NULL, "/data/quantity/uom", REQ},
    {REL, false, "/data/quantity/uom", "\"\"", "/data/quantity/uom", NONEMPTY},
    {REL, false, "/data/quantity/uom", "1", "/data/quantity/uom", STR},
    {REL, false, "/data/quantity/unit", "\"PCE\"", "/data/quantity/unit", UNKNOWN},
    /* work_order.released */
    {REL, false, "/data/material", NULL, "/data/material", REQ},
    {REL, false, "/data/material", "42", "/data/material", STR},
    {REL, false, "/data/material", "\"\"", "/data/material", NONEMPTY},
    {REL, false, "/data/planned_start", NULL, "/data/planned_start", REQ},
    {REL, false, "/data/planned_start", "\"tomorrow\"", "/data/planned_start", TIME},
    {REL, false, "/data/planned_start", "0", "/data/planned_start", STR},
    {REL, false, "/data/planned_end", NULL, "/data/planned_end", REQ},
    {REL, false, "/data/planned_end", "\"2026-12-01T14:00:00\"", "/data/planned_end", TIME},
    {REL, false, "/data/planned_end", "\"2026-12-01T05:59:59.999Z\"", "/data/planned_end",
     "must not be before planned_start"},
    {REL, false, "/data/planned_end", "\"2026-12-01T06:00:00Z\"", NULL, NULL},
    /* 14:00+09:00 is 05:00Z: before the 06:00Z start */
    {REL, false, "/data/planned_end", "\"2026-12-01T14:00:00+09:00\"", "/data/planned_end",
     "must not be before planned_start"},
    {REL, false, "/data/revision", NULL, "/data/revision", REQ},
    {REL, false, "/data/revision", "-1", "/data/revision", COUNT},
    {REL, false, "/data/revision", "1.5", "/data/revision", COUNT},
    {REL, false, "/data/revision", "\"1\"", "/data/revision", COUNT},
    {REL, false, "/data/operations", NULL, "/data/operations", REQ},
    {REL, false, "/data/operations", "[]", "/data/operations", "must have at least 1 item"},
    {REL, false, "/data/operations", "{}", "/data/operations", "must be an array"},
    {REL, false, "/data/operations/0", "\"0010\"", "/data/operations/0", OBJ},
    {REL, false, "/data/operations/0/operation", NULL, "/data/operations/0/operation", REQ},
    {REL, false, "/data/operations/0/operation", "10", "/data/operations/0/operation", STR},
    {REL, false, "/data/operations/0/work_center", NULL, "/data/operations/0/work_center", REQ},
    {REL, false, "/data/operations/0/work_center", "\"\"", "/data/operations/0/work_center",
     NONEMPTY},
    {REL, false, "/data/operations/0/description", "\"\"", NULL, NULL},
    {REL, false, "/data/operations/0/description", "1", "/data/operations/0/description", STR},
    {REL, false, "/data/operations/0/sequence", "1", "/data/operations/0/sequence", UNKNOWN},
    {REL, true, "/data/operations/0/operation", "\"0020\"", "/data/operations/1/operation",
     "duplicate operation \"0020\" (also item 0)"},
    {REL, true, "/data/components", "[]", NULL, NULL},
    {REL, true, "/data/components", NULL, NULL, NULL},
    {REL, true, "/data/components", "{}", "/data/components", "must be an array"},
    {REL, true, "/data/components/1", "7", "/data/components/1", OBJ},
    {REL, true, "/data/components/0/material", NULL, "/data/components/0/material", REQ},
    {REL, true, "/data/components/0/quantity", NULL, "/data/components/0/quantity", REQ},
    {REL, true, "/data/components/1/quantity/value", "-2", "/data/components/1/quantity/value",
     NUM},
    {REL, true, "/data/components/0/operation", "\"0099\"", "/data/components/0/operation",
     "names operation \"0099\", which is not in /data/operations"},
    {REL, true, "/data/components/0/operation", "99", "/data/components/0/operation", STR},
    /* work_order.changed */
    {CHG, false, "/data/revision", NULL, "/data/revision", REQ},
    {CHG, false, "/data/revision", "-3", "/data/revision", COUNT},
    {CHG, false, "/data/quantity", NULL, "/data",
     "must change at least one of quantity, planned_start, planned_end, operations"},
    {CHG, false, "/data/quantity", "null", "/data",
     "must change at least one of quantity, planned_start, planned_end, operations"},
    {CHG, false, "/data/quantity/value", "-5", "/data/quantity/value", NUM},
    {CHG, true, "/data/quantity", NULL, NULL, NULL},
    {CHG, true, "/data/planned_start", "\"2026-12-02T06:00:00.001Z\"", "/data/planned_end",
     "must not be before planned_start"},
    {CHG, true, "/data/planned_start", "\"02.12.2026 06:00\"", "/data/planned_start", TIME},
    {CHG, true, "/data/planned_end", "false", "/data/planned_end", STR},
    {CHG, true, "/data/operations", "[]", "/data/operations", "must have at least 1 item"},
    {CHG, true, "/data/operations/0/work_center", NULL, "/data/operations/0/work_center", REQ},
    {CHG, true, "/data/operations/1", "{\"operation\":\"0010\",\"work_center\":\"WC-4\"}",
     "/data/operations/1/operation", "duplicate operation \"0010\" (also item 0)"},
    {CHG, true, "/data/components", "[]", "/data/components", UNKNOWN},
    {CHG, false, "/data/material", "\"MAT-2\"", "/data/material", UNKNOWN},
    /* work_order.cancelled */
    {CAN, false, "/data/revision", NULL, "/data/revision", REQ},
    {CAN, false, "/data/revision", "true", "/data/revision", COUNT},
    {CAN, true, "/data/reason", "\"\"", NULL, NULL},
    {CAN, true, "/data/reason", "{}", "/data/reason", STR},
    /* work_order.acknowledged */
    {ACK, true, "/data/mes_reference", "\"\"", "/data/mes_reference", NONEMPTY},
    {ACK, true, "/data/mes_reference", "77", "/data/mes_reference", STR},
    {ACK, false, "/data/note", "\"x\"", "/data/note", UNKNOWN},
    /* operation.started */
    {OPS, false, "/data/operation", NULL, "/data/operation", REQ},
    {OPS, false, "/data/operation", "10", "/data/operation", STR},
    {OPS, false, "/data/work_center", NULL, "/data/work_center", REQ},
    {OPS, false, "/data/work_center", "\"\"", "/data/work_center", NONEMPTY},
    /* operation.confirmed */
    {OPC, false, "/data/operation", NULL, "/data/operation", REQ},
    {OPC, false, "/data/yield", NULL, "/data/yield", REQ},
    {OPC, false, "/data/yield", "50", "/data/yield", OBJ},
    {OPC, false, "/data/yield/value", "-1", "/data/yield/value", NUM},
    {OPC, false, "/data/yield/uom", NULL, "/data/yield/uom", REQ},
    {OPC, false, "/data/scrap", NULL, "/data/scrap", REQ},
    {OPC, false, "/data/scrap/value", "\"0\"", "/data/scrap/value", NUM},
    {OPC, false, "/data/final", NULL, "/data/final", REQ},
    {OPC, false, "/data/final", "1", "/data/final", "must be true or false"},
    {OPC, false, "/data/final", "\"true\"", "/data/final", "must be true or false"},
    {OPC, true, "/data/scrap_reason", "5", "/data/scrap_reason", STR},
    /* material.consumed */
    {MAT, false, "/data/material", NULL, "/data/material", REQ},
    {MAT, false, "/data/quantity", NULL, "/data/quantity", REQ},
    {MAT, false, "/data/quantity/value", "-0.5", "/data/quantity/value", NUM},
    {MAT, true, "/data/batch", "\"\"", "/data/batch", NONEMPTY},
    {MAT, true, "/data/batch", "9", "/data/batch", STR},
    {MAT, true, "/data/operation", "[]", "/data/operation", STR},
    /* quality.hold_placed */
    {QHP, false, "/data/hold_id", NULL, "/data/hold_id", REQ},
    {QHP, false, "/data/hold_id", "1", "/data/hold_id", STR},
    {QHP, false, "/data/reason", NULL, "/data/reason", REQ},
    {QHP, false, "/data/reason", "\"\"", "/data/reason", NONEMPTY},
    {QHP, true, "/data/operation", "\"\"", "/data/operation", NONEMPTY},
    /* quality.hold_released */
    {QHR, false, "/data/hold_id", NULL, "/data/hold_id", REQ},
    {QHR, true, "/data/disposition", "0", "/data/disposition", STR},
    /* work_order.completed */
    {CMP, false, "/data/yield", NULL, "/data/yield", REQ},
    {CMP, false, "/data/scrap", NULL, "/data/scrap", REQ},
    {CMP, false, "/data/scrap", "[]", "/data/scrap", OBJ},
    {CMP, false, "/data/yield/value", "-97", "/data/yield/value", NUM},
    /* downtime.* */
    {DTS, false, "/data/work_center", NULL, "/data/work_center", REQ},
    {DTS, false, "/data/work_center", "1", "/data/work_center", STR},
    {DTS, false, "/data/reason_code", NULL, "/data/reason_code", REQ},
    {DTE, false, "/data/reason_code", "\"\"", "/data/reason_code", NONEMPTY},
    {DTE, false, "/data/work_center", NULL, "/data/work_center", REQ},
};

static void run_mutations(const struct mutation *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct mutation *m = &cases[i];
                json_t *env = fixture_message(m->type, m->full);
                assert_non_null(env);
                char buf[512];
                assert_true(fixture_patch(env, m->pointer, expand(m->value, buf, sizeof(buf))));
                struct canon_errors errs = {0};
                enum canon_type t = CANON_TYPE_COUNT;
                bool ok = canon_validate(env, "", &t, &errs);
                bool good = m->path == NULL ? ok && errs.count == 0
                                            : !ok && errs.count == 1 &&
                                                  strcmp(errs.items[0].path, m->path) == 0 &&
                                                  strcmp(errs.items[0].message, m->message) == 0 &&
                                                  t == CANON_TYPE_COUNT;
                if (!good) {
                        print_message("case %zu: %s %s %s -> expected %s: %s, got %zu:\n", i,
                                      m->type, m->pointer, m->value ? m->value : "(removed)",
                                      m->path ? m->path : "valid", m->message ? m->message : "",
                                      errs.count);
                        print_errors(&errs);
                }
                assert_true(good);
                json_decref(env);
        }
}

static void test_envelope_fields(void **state)
{
        run_mutations(envelope_cases, sizeof(envelope_cases) / sizeof(envelope_cases[0]));
}

static void test_data_fields(void **state)
{
        run_mutations(data_cases, sizeof(data_cases) / sizeof(data_cases[0]));
}

static void test_not_an_object(void **state)
{
        static const char *const texts[] = {"[]", "\"x\"", "1", "null", "true"};
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                json_t *v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
                struct canon_errors errs = {0};
                assert_false(canon_validate(v, "/2", NULL, &errs));
                assert_int_equal(errs.count, 1);
                assert_string_equal(errs.items[0].path, "/2");
                assert_string_equal(errs.items[0].message, "must be a JSON object");
                json_decref(v);
        }
}

/* All errors are collected, in field order, envelope before data. */
static void test_collects_all_errors(void **state)
{
        json_t *env = fixture_message(REL, true);
        assert_true(fixture_patch(env, "/id", "\"\""));
        assert_true(fixture_patch(env, "/occurred_at", "\"yesterday\""));
        assert_true(fixture_patch(env, "/data/quantity/value", "-1"));
        assert_true(fixture_patch(env, "/data/operations/1/work_center", NULL));
        assert_true(fixture_patch(env, "/data/components/0/operation", "\"0030\""));
        struct canon_errors errs = {0};
        assert_false(canon_validate(env, "", NULL, &errs));
        static const char *const paths[] = {"/id", "/occurred_at", "/data/quantity/value",
                                            "/data/operations/1/work_center",
                                            "/data/components/0/operation"};
        assert_int_equal(errs.count, 5);
        for (size_t i = 0; i < 5; i++)
                assert_string_equal(errs.items[i].path, paths[i]);
        json_decref(env);
}

/* Unknown type: the envelope is still checked, data only for being an object. */
static void test_unknown_type_still_checks_envelope(void **state)
{
        json_t *env = fixture_message(REL, false);
        assert_true(fixture_patch(env, "/type", "\"order.shipped\""));
        assert_true(fixture_patch(env, "/plant", "\"\""));
        struct canon_errors errs = {0};
        assert_false(canon_validate(env, "", NULL, &errs));
        assert_int_equal(errs.count, 2);
        assert_string_equal(errs.items[0].path, "/type");
        assert_string_equal(errs.items[1].path, "/plant");
        json_decref(env);
}

static void test_batch_prefix(void **state)
{
        json_t *env = fixture_message(MAT, false);
        assert_true(fixture_patch(env, "/data/quantity/value", "-1"));
        struct canon_errors errs = {0};
        assert_false(canon_validate(env, "/3", NULL, &errs));
        assert_int_equal(errs.count, 1);
        assert_string_equal(errs.items[0].path, "/3/data/quantity/value");
        /* a second item appends behind the first */
        json_t *ok = fixture_message(MAT, false);
        enum canon_type t;
        assert_true(canon_validate(ok, "/4", &t, &errs));
        assert_int_equal(t, CANON_MATERIAL_CONSUMED);
        assert_true(fixture_patch(ok, "/id", NULL));
        assert_false(canon_validate(ok, "/5", NULL, &errs));
        assert_int_equal(errs.count, 2);
        assert_string_equal(errs.items[1].path, "/5/id");
        assert_string_equal(errs.items[1].message, "is required");
        json_decref(ok);
        json_decref(env);
}

static void test_error_cap(void **state)
{
        json_t *env = fixture_message(ACK, false);
        char key[16];
        for (int i = 0; i < 2 * CANON_MAX_ERRORS; i++) {
                snprintf(key, sizeof(key), "x%02d", i);
                json_object_set_new(env, key, json_integer(i));
        }
        struct canon_errors errs = {0};
        assert_false(canon_validate(env, "", NULL, &errs));
        assert_int_equal(errs.count, CANON_MAX_ERRORS);
        assert_string_equal(errs.items[0].path, "/x00");
        assert_string_equal(errs.items[CANON_MAX_ERRORS - 1].path, "/x19");

        /* A full list must not make an invalid message look valid, nor a
         * valid one invalid. */
        json_t *bad = fixture_message(ACK, false);
        assert_true(fixture_patch(bad, "/id", NULL));
        assert_false(canon_validate(bad, "/1", NULL, &errs));
        assert_int_equal(errs.count, CANON_MAX_ERRORS);
        json_t *good = fixture_message(ACK, false);
        assert_true(canon_validate(good, "/2", NULL, &errs));
        assert_int_equal(errs.count, CANON_MAX_ERRORS);
        json_decref(good);
        json_decref(bad);
        json_decref(env);
}

/* The input is never modified, and *type is untouched on failure. */
static void test_pure(void **state)
{
        json_t *env = fixture_message(REL, true);
        json_t *copy = json_deep_copy(env);
        struct canon_errors errs = {0};
        enum canon_type t = CANON_TYPE_COUNT;
        assert_true(canon_validate(env, "", &t, &errs));
        assert_true(json_equal(env, copy));
        assert_true(fixture_patch(env, "/data", NULL));
        t = CANON_TYPE_COUNT;
        assert_false(canon_validate(env, "", &t, &errs));
        assert_int_equal(t, CANON_TYPE_COUNT);
        json_decref(copy);
        json_decref(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_type_valid),
            cmocka_unit_test(test_envelope_fields),
            cmocka_unit_test(test_data_fields),
            cmocka_unit_test(test_not_an_object),
            cmocka_unit_test(test_collects_all_errors),
            cmocka_unit_test(test_unknown_type_still_checks_envelope),
            cmocka_unit_test(test_batch_prefix),
            cmocka_unit_test(test_error_cap),
            cmocka_unit_test(test_pure),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
