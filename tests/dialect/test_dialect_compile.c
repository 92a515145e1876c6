/* test_dialect_compile.c — the mapping language itself: compile errors at
 * FILE:LINE for bad mapping files (table), the operations one by one
 * (pointers, constants, value maps, coercions, time formats, arrays,
 * defaults, concat, index, unwrap, when-cases) on inline mappings, and
 * dialect sets loaded from a configuration's sources and destinations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialect_test_util.h"

struct compile_case {
        const char *yaml;
        const char *error; /* expected "bad.yaml:LINE: ..." prefix/substring */
};

static const struct compile_case bad_files[] = {
    {"", "bad.yaml:1: empty mapping file"},
    {"inbound: [", "bad.yaml:2: "},
    {"[1, 2]", "bad.yaml:1: a dialect file must be a mapping"},
    {"dialect: x\n", "bad.yaml:1: a dialect needs 'inbound' and/or 'outbound'"},
    {"dialect: x\nfrobnicate: 1\n", "bad.yaml:2: unknown key 'frobnicate' in a dialect file"},
    {"outbound:\n  no.such: {a: /b}\n", "bad.yaml:2: unknown canonical type 'no.such'"},
    {"outbound:\n  work_order.released:\n    a: plain text\n",
     "bad.yaml:3: 'plain text' is not a JSON Pointer"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, const: 1}\n",
     "bad.yaml:3: a field has both 'from' and 'const'"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, colour: red}\n",
     "bad.yaml:3: unknown key 'colour' in a field"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, map: nope}\n",
     "bad.yaml:3: unknown value map 'nope'"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, as: colour}\n",
     "bad.yaml:3: as must be string"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, as: time, format: julian}\n",
     "bad.yaml:3: unknown input time format 'julian'"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, format: odata}\n",
     "bad.yaml:3: format, to_format and time_from need 'as: time'"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, as: time, time_from: /t}\n",
     "bad.yaml:3: time_from needs format yyyymmdd or odata"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, required: maybe}\n",
     "bad.yaml:3: required must be true or false"},
    {"outbound:\n  work_order.released:\n    a: {from: \"/x~2\"}\n",
     "bad.yaml:3: '/x~2' is not a JSON Pointer"},
    {"outbound:\n  work_order.released:\n    a: {each: /x}\n", "bad.yaml:3: each needs item"},
    {"outbound:\n  work_order.released:\n    a: {from: /x, item: /y}\n",
     "bad.yaml:3: item needs each"},
    {"outbound:\n  work_order.released:\n    a: /x\n  work_order.released:\n    b: /y\n",
     "bad.yaml:4: duplicate outbound type 'work_order.released'"},
    {"outbound:\n  work_order.released:\n    a: /x\n    a: /y\n", "bad.yaml:4: duplicate key 'a'"},
    {"value_maps:\n  u: [1]\noutbound:\n  work_order.released:\n    a: {from: /x, map: u}\n",
     "bad.yaml:2: value map 'u' must be a mapping"},
    {"value_maps:\n  u: {A: ~}\noutbound:\n  work_order.released:\n    a: {from: /x, map: u}\n",
     "bad.yaml:2: value map 'u': 'A' maps to null"},
    {"inbound: {}\n", "bad.yaml:1: inbound needs 'cases' or 'default'"},
    {"inbound:\n  discriminator: /k\n  cases: [{type: work_order.acknowledged}]\n",
     "bad.yaml:3: with a discriminator, cases maps its values to cases"},
    {"inbound:\n  cases: {A: {}}\n", "bad.yaml:2: without a discriminator, cases is a sequence"},
    {"inbound:\n  cases:\n    - type: work_order.acknowledged\n",
     "bad.yaml:3: a message needs 'type' and 'envelope'"},
    {"inbound:\n  cases:\n    - type: work_order.acknowledged\n      envelope: {type: /t}\n",
     "bad.yaml:4: envelope sets 'type' itself"},
    {"inbound:\n  discriminator: /k\n  cases:\n    A:\n      when: {/x: 1}\n      type: "
     "work_order.acknowledged\n      envelope: {id: /i}\n",
     "bad.yaml:5: 'when' is for cases listed without a discriminator"},
    {"inbound:\n  cases:\n    - emit: []\n", "bad.yaml:3: emit must be a non-empty sequence"},
    {"inbound:\n  envelope: {schema_version: 1}\n  default: {type: work_order.acknowledged, "
     "envelope: {id: /i}}\n",
     "bad.yaml:2: envelope sets 'schema_version' itself"},
    {"inbound:\n  unwrap: \"^/d\"\n  default: {type: work_order.acknowledged, envelope: {id: "
     "/i}}\n",
     "bad.yaml:2: unwrap pointers start with '/'"},
    {"inbound:\n  default:\n    type: work_order.acknowledged\n    envelope: &e {id: *e}\n",
     "bad.yaml:"},
    {"x: &a [*a, *a]\noutbound: {work_order.released: {a: /b}}\n", "bad.yaml:"},
};

static void test_compile_errors(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
                char err[512] = "";
                const char *y = bad_files[i].yaml;
                struct dialect *d = dialect_load_text(y, strlen(y), "bad.yaml", err, sizeof(err));
                if (d != NULL)
                        fail_msg("case %zu compiled: %s", i, y);
                if (strstr(err, bad_files[i].error) != err)
                        fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err,
                                 bad_files[i].error);
        }
}

/* A real file: the error names the path and the line. */
static void test_compile_error_names_file(void **state)
{
        (void)state;
        char path[] = "/tmp/takt-dialect-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char text[] = "dialect: t\noutbound:\n  operation.confirmed:\n    x: {as: number}\n";
        assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
        close(fd);
        char err[512], want[256];
        assert_null(dialect_load(path, err, sizeof(err)));
        snprintf(want, sizeof(want), "%s:4: ", path);
        assert_ptr_equal(strstr(err, want), err);
        unlink(path);
        assert_null(dialect_load("/nonexistent/x.yaml", err, sizeof(err)));
        assert_string_equal(err, "/nonexistent/x.yaml:0: cannot open mapping file");
}

/* Operations, one inline mapping, one table row per output field. */
static const char ops_yaml[] =
    "value_maps:\n"
    "  units: {PCS: EA, \"1\": one, \"true\": yes}\n"
    "outbound:\n"
    "  work_order.acknowledged:\n"
    "    copy: /data/s\n"
    "    escaped: \"/data/a~1b/c~0d\"\n"
    "    element: /data/list/1\n"
    "    whole_object: /data/obj\n"
    "    const_str: {const: \"0010\"}\n"
    "    const_plain_num: {const: 42}\n"
    "    const_real: {const: 2.5}\n"
    "    const_zero_led: {const: 0010}\n"
    "    const_bool: {const: true}\n"
    "    const_obj: {const: {k: [1, x]}}\n"
    "    mapped: {from: /data/unit, map: units}\n"
    "    mapped_num: {from: /data/one, map: units}\n"
    "    mapped_bool: {from: /data/t, map: units}\n"
    "    num_from_str: {from: /data/n, as: number}\n"
    "    int_from_str: {from: /data/i, as: integer}\n"
    "    int_from_real: {from: /data/r2, as: integer}\n"
    "    str_from_int: {from: /data/one, as: string}\n"
    "    str_from_real: {from: /data/r, as: string}\n"
    "    bool_from_x: {from: /data/x, as: boolean}\n"
    "    bool_from_empty: {from: /data/empty, as: boolean}\n"
    "    t_rfc: {from: /occurred_at, as: time}\n"
    "    t_odata: {from: /occurred_at, as: time, to_format: odata}\n"
    "    t_odate: {from: /occurred_at, as: time, to_format: odata_date}\n"
    "    t_ymd: {from: /occurred_at, as: time, to_format: yyyymmdd}\n"
    "    t_hms: {from: /occurred_at, as: time, to_format: hhmmss}\n"
    "    t_14: {from: /occurred_at, as: time, to_format: yyyymmddhhmmss}\n"
    "    t_ms: {from: /occurred_at, as: time, to_format: epoch_ms}\n"
    "    t_from_ymd: {from: /data/ymd, as: time, format: yyyymmdd, time_from: /data/hms}\n"
    "    t_from_ymd_only: {from: /data/ymd, as: time, format: yyyymmdd}\n"
    "    t_from_odata_off: {from: /data/od, as: time, format: odata, time_from: /data/edm}\n"
    "    t_from_ms: {from: /data/ms, as: time, format: epoch_ms}\n"
    "    missing_default: {from: /data/nope, default: dflt}\n"
    "    missing_optional: {from: /data/nope, required: false}\n"
    "    null_default: {from: /data/nul, default: 0}\n"
    "    joined: {concat: [/id, {const: \"/\"}, /data/one, {from: /data/nope, required: false}]}\n"
    "    listed: [/id, {const: 1}, {from: /data/nope, required: false}]\n"
    "    each_idx: {each: /data/list, item: {v: {from: \"\"}, i: {index: true}, top: ^/id}}\n"
    "    nested: {object: {from: {const: literal key}}}\n";

static const struct {
        const char *key;
        const char *json; /* expected value; NULL: absent */
} ops_expect[] = {
    {"copy", "\"text\""},
    {"escaped", "\"esc\""},
    {"element", "\"b\""},
    {"whole_object", "{\"k\":1}"},
    {"const_str", "\"0010\""},
    {"const_plain_num", "42"},
    {"const_real", "2.5"},
    {"const_zero_led", "\"0010\""},
    {"const_bool", "true"},
    {"const_obj", "{\"k\":[1,\"x\"]}"},
    {"mapped", "\"EA\""},
    {"mapped_num", "\"one\""},
    {"mapped_bool", "\"yes\""},
    {"num_from_str", "12.75"},
    {"int_from_str", "-7"},
    {"int_from_real", "3"},
    {"str_from_int", "\"1\""},
    {"str_from_real", "\"0.1\""},
    {"bool_from_x", "true"},
    {"bool_from_empty", "false"},
    {"t_rfc", "\"2026-11-30T06:30:05.120Z\""},
    {"t_odata", "\"/Date(1796020205120)/\""},
    {"t_odate", "\"/Date(1795996800000)/\""},
    {"t_ymd", "\"20261130\""},
    {"t_hms", "\"063005\""},
    {"t_14", "\"20261130063005\""},
    {"t_ms", "1796020205120"},
    {"t_from_ymd", "\"2026-02-28T23:59:59.000Z\""},
    {"t_from_ymd_only", "\"2026-02-28T00:00:00.000Z\""},
    {"t_from_odata_off", "\"2026-12-01T07:30:00.000Z\""},
    {"t_from_ms", "\"1970-01-01T00:00:01.000Z\""},
    {"missing_default", "\"dflt\""},
    {"missing_optional", NULL},
    {"null_default", "0"},
    {"joined", "\"m-1/1\""},
    {"listed", "[\"m-1\",1]"},
    {"each_idx", "[{\"v\":\"a\",\"i\":0,\"top\":\"m-1\"},{\"v\":\"b\",\"i\":1,\"top\":\"m-1\"}]"},
    {"nested", "{\"from\":\"literal key\"}"},
};

static void test_operations(void **state)
{
        (void)state;
        char err[512];
        struct dialect *d =
            dialect_load_text(ops_yaml, sizeof(ops_yaml) - 1, "ops.yaml", err, sizeof(err));
        if (d == NULL)
                fail_msg("%s", err);
        json_t *env = json_loads(
            "{\"id\":\"m-1\",\"type\":\"work_order.acknowledged\",\"occurred_at\":"
            "\"2026-11-30T06:30:05.12+00:00\",\"data\":{\"s\":\"text\",\"a/b\":{\"c~d\":\"esc\"},"
            "\"list\":[\"a\",\"b\"],\"obj\":{\"k\":1},\"unit\":\"PCS\",\"one\":1,\"t\":true,"
            "\"n\":\" 12.75\",\"i\":\"-7\",\"r2\":3.0,\"r\":0.1,\"x\":\"X\",\"empty\":\"\","
            "\"ymd\":\"20260228\",\"hms\":\"235959\",\"od\":\"/Date(1796083200000-0300)/\","
            "\"edm\":\"PT07H30M00S\",\"ms\":1000,\"nul\":null}}",
            0, NULL);
        assert_non_null(env);
        struct canon_errors errs = {0};
        json_t *out = dialect_outbound(d, env, &errs);
        if (out == NULL)
                fail_msg("%s: %s", errs.items[0].path, errs.items[0].message);
        for (size_t i = 0; i < sizeof(ops_expect) / sizeof(ops_expect[0]); i++) {
                json_t *got = json_object_get(out, ops_expect[i].key);
                json_t *want = ops_expect[i].json
                                   ? json_loads(ops_expect[i].json, JSON_DECODE_ANY, NULL)
                                   : NULL;
                if (!(got == NULL && want == NULL) && !json_equal(got, want)) {
                        char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : strdup("(absent)");
                        print_error("%s: got %s want %s\n", ops_expect[i].key, g,
                                    ops_expect[i].json ? ops_expect[i].json : "(absent)");
                        free(g);
                        fail();
                }
                json_decref(want);
        }
        json_decref(out);
        json_decref(env);
        dialect_free(d);
}

/* Coercion failures name the source field and say why. */
static void test_coercion_errors(void **state)
{
        (void)state;
        static const struct {
                const char *spec, *value, *message;
        } table[] = {
            {"{from: /data/v, as: number}", "\"1e999\"", "not a number"},
            {"{from: /data/v, as: number}", "\"0x10\"", "not a number"},
            {"{from: /data/v, as: number}", "\"nan\"", "not a number"},
            {"{from: /data/v, as: number}", "\"\"", "not a number"},
            {"{from: /data/v, as: number}", "true", "not a number"},
            {"{from: /data/v, as: integer}", "\"1.5\"", "not an integer"},
            {"{from: /data/v, as: integer}", "2.5", "not an integer"},
            {"{from: /data/v, as: integer}", "\"99999999999999999999\"", "not an integer"},
            {"{from: /data/v, as: boolean}", "\"perhaps\"", "not a boolean"},
            {"{from: /data/v, as: boolean}", "2", "not a boolean"},
            {"{from: /data/v, as: string}", "[]", "not a scalar"},
            {"{from: /data/v, as: time}", "\"2026-11-30\"", "RFC 3339"},
            {"{from: /data/v, as: time, format: odata}", "\"/Date(12)\"", "OData"},
            {"{from: /data/v, as: time, format: odata}", "\"/Date()/\"", "OData"},
            {"{from: /data/v, as: time, format: yyyymmdd}", "\"20260230\"", "YYYYMMDD"},
            {"{from: /data/v, as: time, format: yyyymmdd}", "true", "YYYYMMDD"},
            {"{from: /data/v, as: time, format: yyyymmdd, time_from: /data/v}", "\"20260228\"",
             "time of day"},
            {"{from: /data/v, as: time, format: epoch_ms}", "\"1000\"", "date/time"},
            {"{from: /data/v, map: m}", "\"ZZ\"", "unknown value 'ZZ' (value map m)"},
            {"{from: /data/v, map: m}", "{}", "must be a scalar"},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                char yaml[512], json[256], err[512];
                snprintf(yaml, sizeof(yaml),
                         "value_maps: {m: {A: B}}\noutbound:\n  work_order.acknowledged:\n"
                         "    out: %s\n",
                         table[i].spec);
                struct dialect *d =
                    dialect_load_text(yaml, strlen(yaml), "c.yaml", err, sizeof(err));
                if (d == NULL)
                        fail_msg("%s", err);
                snprintf(json, sizeof(json),
                         "{\"type\":\"work_order.acknowledged\",\"data\":{\"v\":%s}}",
                         table[i].value);
                json_t *env = json_loads(json, 0, NULL);
                assert_non_null(env);
                struct canon_errors errs = {0};
                assert_null(dialect_outbound(d, env, &errs));
                assert_int_equal(errs.count, 1);
                assert_string_equal(errs.items[0].path, "/data/v");
                if (strstr(errs.items[0].message, table[i].message) == NULL)
                        fail_msg("row %zu: '%s' lacks '%s'", i, errs.items[0].message,
                                 table[i].message);
                json_decref(env);
                dialect_free(d);
        }
}

/* Unwrap order, raw pointers in 'when', first matching case, default case. */
static void test_inbound_cases(void **state)
{
        (void)state;
        static const char yaml[] =
            "inbound:\n"
            "  unwrap: [/d, /data]\n"
            "  cases:\n"
            "    - when: {\"@/kind\": [a, b], /flag: X}\n"
            "      type: work_order.acknowledged\n"
            "      envelope: {id: {const: first}}\n"
            "    - when: {\"@/kind\": a}\n"
            "      emit:\n"
            "        - {type: work_order.acknowledged, envelope: {id: {const: second}}}\n"
            "        - {type: operation.started, envelope: {id: {const: third}, raw: \"@/kind\"}}\n"
            "  default:\n"
            "    type: work_order.acknowledged\n"
            "    envelope: {id: {const: fallback}, where: {from: /x, default: none}}\n";
        static const struct {
                const char *in, *ids;
        } table[] = {
            {"{\"kind\":\"b\",\"d\":{\"flag\":\"X\"}}", "first"},
            {"{\"kind\":\"a\",\"data\":{\"flag\":\"X\"}}", "first"},
            {"{\"kind\":\"a\",\"d\":{\"flag\":\"Y\"}}", "second,third"},
            {"{\"kind\":\"c\",\"d\":{\"flag\":\"X\"}}", "fallback"},
            {"{\"kind\":\"c\",\"d\":7,\"x\":1}", "fallback"},
        };
        char err[512];
        struct dialect *d = dialect_load_text(yaml, sizeof(yaml) - 1, "in.yaml", err, sizeof(err));
        if (d == NULL)
                fail_msg("%s", err);
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                json_t *in = json_loads(table[i].in, 0, NULL);
                struct canon_errors errs = {0};
                json_t *out = dialect_inbound(d, in, "", &errs);
                assert_non_null(out);
                char ids[128] = "";
                size_t k;
                json_t *env;
                json_array_foreach(out, k, env)
                {
                        strcat(ids, k ? "," : "");
                        strcat(ids, json_string_value(json_object_get(env, "id")));
                        assert_int_equal(json_integer_value(json_object_get(env, "schema_version")),
                                         1);
                }
                assert_string_equal(ids, table[i].ids);
                json_decref(out);
                json_decref(in);
        }
        /* no inbound mapping at all */
        static const char out_only[] = "outbound: {work_order.released: {a: /id}}\n";
        struct dialect *o =
            dialect_load_text(out_only, sizeof(out_only) - 1, "o.yaml", err, sizeof(err));
        assert_non_null(o);
        json_t *in = json_object();
        struct canon_errors errs = {0};
        assert_null(dialect_inbound(o, in, "/2", &errs));
        assert_string_equal(errs.items[0].path, "/2");
        assert_string_equal(dialect_name(o), "o.yaml");
        json_decref(in);
        dialect_free(o);
        dialect_free(d);
}

static void test_dialect_set(void **state)
{
        (void)state;
        char dir[1024];
        struct takt_source sources[] = {
            {.name = "s4", .dialect = "sap-s4"},
            {.name = "mes-de01", .dialect = "canonical"},
            {.name = "mes-pl02", .dialect = "legacy-mes"},
        };
        struct takt_destination dests[] = {
            {.name = "s4", .dialect = "sap-s4"},
            {.name = "events", .dialect = "canonical"},
        };
        struct takt_config cfg = {
            .dialects_dir = (char *)test_source_path(dir, sizeof(dir), "conf/dialects"),
            .sources = sources,
            .n_sources = 3,
            .destinations = dests,
            .n_destinations = 2,
        };
        char err[512];
        struct dialect_set *set = dialect_set_load(&cfg, err, sizeof(err));
        if (set == NULL)
                fail_msg("%s", err);
        assert_true(dialect_set_has(set, "canonical"));
        assert_true(dialect_set_has(set, "sap-s4"));
        assert_true(dialect_set_has(set, "legacy-mes"));
        assert_false(dialect_set_has(set, "other"));
        assert_false(dialect_set_has(set, NULL));
        assert_null(dialect_set_get(set, "canonical"));
        assert_null(dialect_set_get(set, "other"));
        assert_string_equal(dialect_name(dialect_set_get(set, "sap-s4")), "sap-s4");
        assert_string_equal(dialect_name(dialect_set_get(set, "legacy-mes")), "legacy-mes");
        dialect_set_free(set);

        /* a destination naming a dialect without a file */
        dests[1].dialect = "nope";
        assert_null(dialect_set_load(&cfg, err, sizeof(err)));
        assert_non_null(strstr(err, "conf/dialects/nope.yaml:0: cannot open mapping file"));
        dialect_set_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_compile_errors), cmocka_unit_test(test_compile_error_names_file),
            cmocka_unit_test(test_operations),     cmocka_unit_test(test_coercion_errors),
            cmocka_unit_test(test_inbound_cases),  cmocka_unit_test(test_dialect_set),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
