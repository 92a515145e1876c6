/* test_sim_args.c — takt-sim's command line: defaults that match
 * conf/taktd.yaml, every option's effect, per-plant options, and the
 * refusals (unknown option, missing value, bad values, plant options before
 * a --plant, unknown dialects). Table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sim.h"

#define MAXARGS 24

static enum sim_args_result parse(struct sim_opts *o, char *err, const char *const *args)
{
        char *argv[MAXARGS + 1] = {(char *)"takt-sim"};
        int argc = 1;
        for (; args[argc - 1] != NULL; argc++)
                argv[argc] = (char *)args[argc - 1];
        return sim_args_parse(argc, argv, o, err, 256);
}

static void test_defaults_match_the_demo_config(void **state)
{
        struct sim_opts o;
        char err[256];
        const char *const none[] = {NULL};
        assert_int_equal(parse(&o, err, none), SIM_ARGS_OK);
        assert_string_equal(o.taktd_host, "127.0.0.1");
        assert_int_equal(o.taktd_port, 8470);
        assert_string_equal(o.listen_addr, "127.0.0.1");
        assert_int_equal(o.listen_port, 8471);
        assert_string_equal(o.erp_source, "s4");
        assert_string_equal(o.erp_destination, "s4");
        assert_string_equal(o.erp_dialect, "sap-s4");
        assert_string_equal(o.erp_token_env, "TAKT_TOKEN_S4");
        assert_string_equal(o.admin_token_env, "TAKT_ADMIN_TOKEN");
        assert_int_equal(o.nplants, 1);
        assert_string_equal(o.plants[0].code, "DE01");
        assert_string_equal(o.plants[0].mes_source, "mes-de01");
        assert_string_equal(o.plants[0].mes_destination, "mes-de01");
        assert_string_equal(o.plants[0].token_env, "TAKT_TOKEN_MES_DE01");
        assert_string_equal(o.plants[0].mes_dialect, "canonical");
        assert_int_equal(o.plants[0].completion, SIM_COMPLETION_OPERATION);
        assert_false(o.check);
}

static void test_options_take_effect(void **state)
{
        struct sim_opts o;
        char err[256];
        const char *const args[] = {"--taktd",       "http://127.0.0.1:9000",
                                    "--listen",      "127.0.0.1:9001",
                                    "--rate",        "0.5",
                                    "--duration",    "2m",
                                    "--drain",       "1500ms",
                                    "--delay",       "10ms-20ms",
                                    "--fault-rate",  "0",
                                    "--hold-rate",   "1",
                                    "--seed",        "42",
                                    "--erp-dialect", "canonical",
                                    "--check",       "--json",
                                    "--quiet",       NULL};
        assert_int_equal(parse(&o, err, args), SIM_ARGS_OK);
        assert_int_equal(o.taktd_port, 9000);
        assert_int_equal(o.listen_port, 9001);
        assert_true(o.rate == 0.5);
        assert_int_equal(o.duration_ms, 120000);
        assert_int_equal(o.drain_ms, 1500);
        assert_int_equal(o.delay_min_ms, 10);
        assert_int_equal(o.delay_max_ms, 20);
        assert_true(o.fault_rate == 0 && o.hold_rate == 1);
        assert_int_equal(o.seed, 42);
        assert_string_equal(o.erp_dialect, "canonical");
        assert_true(o.check && o.json && o.quiet);
}

static void test_plant_options_apply_to_the_last_plant(void **state)
{
        struct sim_opts o;
        char err[256];
        const char *const args[] = {"--plant",
                                    "DE01",
                                    "--plant",
                                    "PL02",
                                    "--mes-dialect",
                                    "legacy-mes",
                                    "--mes-hmac-env",
                                    "TAKT_HMAC_PL02",
                                    "--completion",
                                    "order",
                                    "--scrap",
                                    "separate",
                                    NULL};
        assert_int_equal(parse(&o, err, args), SIM_ARGS_OK);
        assert_int_equal(o.nplants, 2);
        assert_string_equal(o.plants[0].mes_dialect, "canonical");
        assert_int_equal(o.plants[0].completion, SIM_COMPLETION_OPERATION);
        assert_string_equal(o.plants[1].code, "PL02");
        assert_string_equal(o.plants[1].mes_source, "mes-pl02");
        assert_string_equal(o.plants[1].mes_dialect, "legacy-mes");
        assert_string_equal(o.plants[1].hmac_env, "TAKT_HMAC_PL02");
        assert_string_equal(o.plants[1].token_env, "");
        assert_int_equal(o.plants[1].completion, SIM_COMPLETION_ORDER);
        assert_int_equal(o.plants[1].scrap, SIM_SCRAP_SEPARATE);
}

struct bad {
        const char *args[6];
        const char *message; /* part of the error */
};

static const struct bad bad_rows[] = {
    {{"--frobnicate", NULL}, "unknown option '--frobnicate'"},
    {{"--rate", NULL}, "--rate needs a value"},
    {{"--rate", "0", NULL}, "--rate: bad value"},
    {{"--rate", "fast", NULL}, "--rate: bad value"},
    {{"--duration", "soon", NULL}, "--duration: bad value"},
    {{"--fault-rate", "1.5", NULL}, "--fault-rate: bad value"},
    {{"--delay", "2s-1s", NULL}, "--delay: bad value"},
    {{"--taktd", "https://x:1", NULL}, "--taktd: bad value"},
    {{"--taktd", "http://x:99999", NULL}, "--taktd: bad value"},
    {{"--listen", "8471", NULL}, "--listen: bad value"},
    {{"--mes-source", "x", NULL}, "needs a --plant before it"},
    {{"--plant", "DE01", "--completion", "sometimes", NULL}, "--completion: bad value"},
    {{"--plant", "DE01", "--mes-dialect", "klingon", NULL}, "unknown dialect 'klingon'"},
    {{"--erp-dialect", "sap-r3", NULL}, "unknown dialect 'sap-r3'"},
    {{"--plant", "PL02", "--mes-dialect", "legacy-mes", NULL}, "--scrap separate"},
    {{"--plant", "DE01", "--plant", "DE01", NULL}, "given twice"},
    {{"--plant", "DE01", "--mes-destination", "s4", NULL}, "is the ERP's"},
    {{"--duration", "0", "--check", NULL}, "--check needs a --duration"},
    {{"stray", NULL}, "unknown option 'stray'"},
};

static void test_bad_arguments_are_refused_by_name(void **state)
{
        for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
                struct sim_opts o;
                char err[256];
                assert_int_equal(parse(&o, err, bad_rows[i].args), SIM_ARGS_ERROR);
                if (strstr(err, bad_rows[i].message) == NULL)
                        fail_msg("row %zu: '%s' does not contain '%s'", i, err,
                                 bad_rows[i].message);
        }
}

static void test_help(void **state)
{
        struct sim_opts o;
        char err[256];
        const char *const args[] = {"--rate", "3", "--help", NULL};
        assert_int_equal(parse(&o, err, args), SIM_ARGS_HELP);
}

struct dur {
        const char *text;
        bool ok;
        int64_t ms;
};
static const struct dur dur_rows[] = {
    {"250ms", true, 250}, {"60s", true, 60000}, {"2m", true, 120000}, {"1h", true, 3600000},
    {"1.5s", true, 1500}, {"10", true, 10000},  {"0", true, 0},       {"-1s", false, 0},
    {"5d", false, 0},     {"", false, 0},       {"s", false, 0},
};

static void test_durations(void **state)
{
        for (size_t i = 0; i < sizeof(dur_rows) / sizeof(dur_rows[0]); i++) {
                int64_t ms = -7;
                bool ok = sim_parse_duration(dur_rows[i].text, &ms);
                if (ok != dur_rows[i].ok || (ok && ms != dur_rows[i].ms))
                        fail_msg("'%s': ok=%d ms=%lld", dur_rows[i].text, ok, (long long)ms);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults_match_the_demo_config),
            cmocka_unit_test(test_options_take_effect),
            cmocka_unit_test(test_plant_options_apply_to_the_last_plant),
            cmocka_unit_test(test_bad_arguments_are_refused_by_name),
            cmocka_unit_test(test_help),
            cmocka_unit_test(test_durations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
