/* test_dialect_errors.c — malformed input to every shipped mapping, both
 * directions: missing required fields, wrong types, bad dates, unknown
 * value-map keys, unknown message kinds. Each case must fail (NULL, never a
 * crash) with an error whose path names the SOURCE field and whose message
 * says what is wrong. Run under ASan/UBSan this also proves nothing leaks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dialect_test_util.h"

struct bad_case {
        const char *dialect;
        bool inbound;
        const char *json;
        const char *path;    /* expected error path (with the prefix) */
        const char *message; /* expected substring of the message */
};

#define SAP_OP                                                                                     \
        "\"to_ProductionOrderOperation\":{\"results\":[{\"ManufacturingOrderOperation\":\"0010\"," \
        "\"WorkCenter\":\"W\"}]}"
#define SAP_HEAD "\"ManufacturingOrder\":\"1\",\"ProductionPlant\":\"DE01\",\"Material\":\"M\","
#define SAP_DATES                                                                                  \
        "\"MfgOrderPlannedStartDate\":\"/Date(1796083200000)/\","                                  \
        "\"MfgOrderPlannedEndDate\":\"/Date(1796169600000)/\","
#define SAP_QTY "\"TotalQuantity\":\"5\",\"ProductionUnit\":\"PC\","
#define SAP_CC  "\"LastChangeDateTime\":\"20261130063000\","

#define LEG(kind, rest)                                                                            \
        "{\"msg_type\":\"" kind "\",\"msg_id\":\"L1\",\"site\":\"PL02\",\"order_no\":\"9\","       \
        "\"date\":\"20261130\",\"time\":\"063000\"" rest "}"

#define ENV(type, data)                                                                            \
        "{\"id\":\"e1\",\"type\":\"" type "\",\"schema_version\":1,\"plant\":\"DE01\","            \
        "\"work_order\":\"1\",\"occurred_at\":\"2026-11-30T06:00:00Z\",\"data\":" data "}"

static const struct bad_case cases[] = {
    /* sap-s4 inbound */
    {"sap-s4", true, "{\"d\":{" SAP_HEAD SAP_DATES SAP_QTY SAP_OP "}}", "/7/d/LastChangeDateTime",
     "required field missing"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES
     "\"TotalQuantity\":\"five\",\"ProductionUnit\":\"PC\"," SAP_OP "}}",
     "/7/d/TotalQuantity", "not a number"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES
     "\"TotalQuantity\":\"5\",\"ProductionUnit\":\"XX\"," SAP_OP "}}",
     "/7/d/ProductionUnit", "unknown value 'XX'"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_QTY "\"MfgOrderPlannedStartDate\":\"2026-12-01\","
     "\"MfgOrderPlannedEndDate\":\"/Date(1796169600000)/\"," SAP_OP "}}",
     "/7/d/MfgOrderPlannedStartDate", "OData"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_QTY SAP_DATES
     "\"MfgOrderPlannedStartTime\":\"PT25H00M00S\"," SAP_OP "}}",
     "/7/d/MfgOrderPlannedStartDate", "time of day"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES SAP_QTY
     "\"to_ProductionOrderOperation\":{\"__deferred\":{}}}}",
     "/7/d/to_ProductionOrderOperation/results", "required field missing"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES SAP_QTY
     "\"to_ProductionOrderOperation\":{\"results\":{}}}}",
     "/7/d/to_ProductionOrderOperation/results", "must be an array"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES SAP_QTY
     "\"to_ProductionOrderOperation\":{\"results\":[{\"ManufacturingOrderOperation\":\"0010\"}]}}}",
     "/7/d/to_ProductionOrderOperation/results/0/WorkCenter", "required field missing"},
    {"sap-s4", true,
     "{\"d\":{\"ManufacturingOrder\":\"1\",\"LastChangeDateTime\":\"2026113006300\"}}",
     "/7/d/LastChangeDateTime", "YYYYMMDDHHMMSS"},
    {"sap-s4", true,
     "{\"d\":{\"OrderIsMarkedForDeletion\":\"X\",\"ManufacturingOrder\":\"1\",\"ProductionPlant\":"
     "\"DE01\",\"LastChangeDateTime\":\"20261131063000\"}}",
     "/7/d/LastChangeDateTime", "YYYYMMDDHHMMSS"},
    {"sap-s4", true, "[1,2]", "/7", "JSON object"},
    {"sap-s4", true,
     "{\"d\":{" SAP_CC SAP_HEAD SAP_DATES SAP_QTY SAP_OP
     ",\"to_ProductionOrderComponent\":{\"results\":[{\"Material\":\"C\",\"RequiredQuantity\":true,"
     "\"BaseUnit\":\"KG\"}]}}}",
     "/7/d/to_ProductionOrderComponent/results/0/RequiredQuantity", "not a number"},
    /* legacy-mes inbound */
    {"legacy-mes", true, "{\"msg_id\":\"L1\"}", "/7/msg_type", "required field missing"},
    {"legacy-mes", true, "{\"msg_type\":\"BOGUS\"}", "/7/msg_type", "unknown message kind 'BOGUS'"},
    {"legacy-mes", true, "{\"msg_type\":{}}", "/7/msg_type", "must be a scalar"},
    {"legacy-mes", true, LEG("YIELD", ",\"op_no\":\"10\",\"qty\":\"12x\",\"uom\":\"PCS\""),
     "/7/qty", "not a number"},
    {"legacy-mes", true, LEG("YIELD", ",\"op_no\":\"10\",\"qty\":\"12\",\"uom\":\"BOX\""), "/7/uom",
     "unknown value 'BOX' (value map units_in)"},
    {"legacy-mes", true,
     LEG("YIELD", ",\"op_no\":\"10\",\"qty\":\"12\",\"uom\":\"PCS\",\"last\":\"maybe\""), "/7/last",
     "not a boolean"},
    {"legacy-mes", true, LEG("SCRAP", ",\"op_no\":\"10\",\"uom\":\"PCS\""), "/7/qty",
     "required field missing"},
    {"legacy-mes", true,
     "{\"msg_type\":\"START\",\"msg_id\":\"L1\",\"site\":\"PL02\",\"order_no\":\"9\",\"date\":"
     "\"2026-11-30\",\"op_no\":\"1\",\"wc\":\"W\"}",
     "/7/date", "YYYYMMDD"},
    {"legacy-mes", true,
     "{\"msg_type\":\"START\",\"msg_id\":\"L1\",\"site\":\"PL02\",\"order_no\":\"9\",\"date\":"
     "\"20261130\",\"time\":\"246000\",\"op_no\":\"1\",\"wc\":\"W\"}",
     "/7/date", "time of day"},
    {"legacy-mes", true, LEG("DONE", ",\"good_qty\":7,\"uom\":\"PCS\",\"scrap_qty\":[]"),
     "/7/scrap_qty", "not a number"},
    {"legacy-mes", true, LEG("CONSUME", ",\"items\":[]"), "/7/items", "non-empty array"},
    {"legacy-mes", true,
     LEG("CONSUME", ",\"items\":[{\"mat\":\"A\",\"qty\":\"1\",\"uom\":\"PCS\"},{\"qty\":\"2\","
                    "\"uom\":\"PCS\"}]"),
     "/7/items/1/mat", "required field missing"},
    {"legacy-mes", true, LEG("HOLD", ""), "/7/hold_no", "required field missing"},
    {"legacy-mes", true,
     "{\"msg_type\":\"ACK\",\"site\":\"PL02\",\"order_no\":\"9\",\"date\":\"20261130\"}",
     "/7/msg_id", "required field missing"},
    /* sap-s4 outbound */
    {"sap-s4", false,
     ENV("operation.confirmed", "{\"operation\":\"10\",\"yield\":{\"value\":1,\"uom\":\"BOX\"},"
                                "\"scrap\":{\"value\":0,\"uom\":\"EA\"},\"final\":true}"),
     "/data/yield/uom", "unknown value 'BOX'"},
    {"sap-s4", false,
     ENV("operation.confirmed",
         "{\"operation\":\"10\",\"yield\":{\"value\":1,\"uom\":\"EA\"},\"final\":true}"),
     "/data/scrap/value", "required field missing"},
    {"sap-s4", false,
     ENV("material.consumed", "{\"material\":\"M\",\"quantity\":{\"value\":[1],\"uom\":\"KG\"}}"),
     "/data/quantity/value", "not a scalar"},
    {"sap-s4", false,
     "{\"id\":\"e1\",\"type\":\"work_order.completed\",\"plant\":\"DE01\",\"work_order\":\"1\","
     "\"occurred_at\":\"yesterday\",\"data\":{\"yield\":{\"value\":1,\"uom\":\"EA\"},\"scrap\":{"
     "\"value\":0,\"uom\":\"EA\"}}}",
     "/occurred_at", "RFC 3339"},
    {"sap-s4", false, ENV("work_order.released", "{}"), "/type", "no outbound mapping"},
    {"sap-s4", false, ENV("no.such_type", "{}"), "/type", "unknown canonical type"},
    /* legacy-mes outbound */
    {"legacy-mes", false, ENV("work_order.released", "{\"revision\":1}"), "/data/material",
     "required field missing"},
    {"legacy-mes", false, ENV("work_order.changed", "{\"revision\":{}}"), "/data/revision",
     "not a scalar"},
    {"legacy-mes", false, ENV("work_order.cancelled", "{}"), "/data/revision",
     "required field missing"},
    {"legacy-mes", false,
     ENV("work_order.released", "{\"revision\":1,\"material\":\"M\",\"quantity\":{\"value\":1,"
                                "\"uom\":\"EA\"},\"planned_start\":\"tomorrow\",\"planned_end\":"
                                "\"2026-12-01T00:00:00Z\",\"operations\":[]}"),
     "/data/planned_start", "RFC 3339"},
    {"legacy-mes", false,
     ENV("work_order.changed", "{\"revision\":2,\"quantity\":{\"value\":1,\"uom\":\"TON\"}}"),
     "/data/quantity/uom", "unknown value 'TON' (value map units_out)"},
    {"legacy-mes", false, ENV("operation.confirmed", "{}"), "/type", "no outbound mapping"},
};

static bool has_error(const struct canon_errors *errs, const char *path, const char *message)
{
        for (size_t i = 0; i < errs->count; i++)
                if (strcmp(errs->items[i].path, path) == 0 &&
                    strstr(errs->items[i].message, message) != NULL)
                        return true;
        return false;
}

static void test_malformed_input(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct bad_case *c = &cases[i];
                struct dialect *d = test_load_shipped(c->dialect);
                json_error_t je;
                json_t *in = json_loads(c->json, JSON_DECODE_ANY, &je);
                if (in == NULL)
                        fail_msg("case %zu: bad test JSON: %s", i, je.text);
                struct canon_errors errs = {0};
                json_t *out = c->inbound ? dialect_inbound(d, in, "/7", &errs)
                                         : dialect_outbound(d, in, &errs);
                if (out != NULL)
                        fail_msg("case %zu (%s): mapping unexpectedly succeeded", i, c->path);
                if (!has_error(&errs, c->path, c->message)) {
                        for (size_t k = 0; k < errs.count; k++)
                                print_error("  got %s: %s\n", errs.items[k].path,
                                            errs.items[k].message);
                        fail_msg("case %zu: no error '%s' at %s", i, c->message, c->path);
                }
                json_decref(in);
                dialect_free(d);
        }
}

/* A full errors list (a batch) still fails the mapping. */
static void test_full_error_list(void **state)
{
        (void)state;
        struct dialect *d = test_load_shipped("legacy-mes");
        struct canon_errors errs = {.count = CANON_MAX_ERRORS};
        json_t *in = json_loads("{\"msg_type\":\"NOPE\"}", 0, NULL);
        assert_null(dialect_inbound(d, in, "", &errs));
        assert_int_equal(errs.count, CANON_MAX_ERRORS);
        json_decref(in);
        dialect_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_malformed_input),
            cmocka_unit_test(test_full_error_list),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
