/* test_router.c — route globs (a table of patterns and texts) and routing:
 * the union of every matching route's destinations, each once, in the order
 * of config->destinations, with overlapping globs. Configs are built in
 * memory from the config.h structs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "takt/router.h"

static void test_glob_table(void **state)
{
        static const struct {
                const char *pattern, *text;
                bool match;
        } table[] = {
            {"*", "work_order.released", true},
            {"*", "", true},
            {"**", "x", true},
            {"", "", true},
            {"", "a", false},
            {"a", "", false},
            {"work_order.released", "work_order.released", true},
            {"work_order.released", "work_order.released2", false},
            {"work_order.released", "work_order.release", false},
            {"Work_order.released", "work_order.released", false}, /* case matters */
            {"work_order.*", "work_order.released", true},
            {"work_order.*", "work_order.state_changed", true},
            {"work_order.*", "work_order.", true},
            {"work_order.*", "work_order", false},
            {"work_order.*", "operation.confirmed", false},
            {"*.released", "work_order.released", true},
            {"*.confirmed", "operation.confirmed", true},
            {"*.*", "sla.breached", true},
            {"*.*", "downtime", false},
            {"*", "a.b.c", true}, /* '*' crosses dots */
            {"a.*", "a.b.c", true},
            {"*_*", "quality.hold_placed", true},
            {"quality.hold_*", "quality.hold_released", true},
            {"work_order.?eleased", "work_order.released", true},
            {"work_order.?", "work_order.ab", false},
            {"?", "", false},
            {"?", "a", true},
            {"?", ".", true},
            {"a?c", "abc", true},
            {"a?c", "ac", false},
            {"??*", "a", false},
            {"??*", "ab", true},
            {"a*", "a", true},
            {"*a", "ba", true},
            {"*a", "ab", false},
            {"a*b*c", "aXbYc", true},
            {"a*b*c", "aXbY", false},
            {"a*b*c", "abcbc", true},
            {"*ab", "aab", true},
            {"*aab", "aaab", true},
            {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false},
            {"[a]", "a", false}, /* no classes: brackets are literal */
            {"[a]", "[a]", true},
            {"\\*", "\\anything", true}, /* no escapes: backslash is literal */
            {"\\*", "*", false},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                bool got = router_glob_match(table[i].pattern, table[i].text);
                if (got != table[i].match)
                        print_message("case %zu: \"%s\" vs \"%s\"\n", i, table[i].pattern,
                                      table[i].text);
                assert_int_equal(got, table[i].match);
        }
}

enum { MES, S4, EVENTS, ARCHIVE, N_DEST };

static size_t r_wo[] = {MES, EVENTS};
static size_t r_opc[] = {S4, EVENTS};
static size_t r_all[] = {ARCHIVE};
static size_t r_conf[] = {EVENTS, S4}; /* overlaps r_opc, in another order */
static size_t r_quality[] = {EVENTS, EVENTS};

#define ROUTE(glob, dests)                                                                         \
        {                                                                                          \
                (glob), (dests), sizeof(dests) / sizeof((dests)[0]), 0                             \
        }

static struct takt_route de01_routes[] = {
    ROUTE("work_order.*", r_wo),
    ROUTE("operation.confirmed", r_opc),
    ROUTE("*.confirmed", r_conf),
    ROUTE("quality.*", r_quality),
    ROUTE("*", r_all),
};
static struct takt_route pl02_routes[] = {
    ROUTE("quality.*", r_quality),
    ROUTE("work_order.released", r_wo),
};

static struct takt_destination destinations[N_DEST] = {
    [MES] = {.name = "mes-de01"},
    [S4] = {.name = "s4"},
    [EVENTS] = {.name = "events"},
    [ARCHIVE] = {.name = "archive"},
};

static struct takt_plant plants[] = {
    {.code = "DE01", .routes = de01_routes, .n_routes = 5},
    {.code = "PL02", .routes = pl02_routes, .n_routes = 2},
};

static void test_route_table(void **state)
{
        struct takt_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.destinations = destinations;
        cfg.n_destinations = N_DEST;
        cfg.plants = plants;

        static const struct {
                size_t plant;
                const char *type;
                size_t n;
                size_t want[N_DEST];
        } table[] = {
            {0, "work_order.released", 3, {MES, EVENTS, ARCHIVE}},
            {0, "work_order.state_changed", 3, {MES, EVENTS, ARCHIVE}},
            {0, "operation.confirmed", 3, {S4, EVENTS, ARCHIVE}},
            {0, "quality.hold_placed", 2, {EVENTS, ARCHIVE}},
            {0, "downtime.started", 1, {ARCHIVE}},
            {0, "sla.breached", 1, {ARCHIVE}},
            {1, "quality.hold_released", 1, {EVENTS}},
            {1, "work_order.released", 2, {MES, EVENTS}},
            {1, "work_order.changed", 0, {0}},
            {1, "operation.confirmed", 0, {0}},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                size_t out[N_DEST] = {0};
                size_t n = router_route(&cfg, &plants[table[i].plant], table[i].type, out, N_DEST);
                if (n != table[i].n)
                        print_message("case %zu: %s got %zu\n", i, table[i].type, n);
                assert_int_equal(n, table[i].n);
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(out[k], table[i].want[k]);
        }
}

static void test_route_limits(void **state)
{
        struct takt_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.destinations = destinations;
        cfg.n_destinations = N_DEST;
        size_t out[N_DEST] = {0};
        /* never writes past cap, keeps the first in destination order */
        assert_int_equal(router_route(&cfg, &plants[0], "work_order.released", out, 2), 2);
        assert_int_equal(out[0], MES);
        assert_int_equal(out[1], EVENTS);
        assert_int_equal(router_route(&cfg, &plants[0], "work_order.released", out, 0), 0);
        assert_int_equal(router_route(NULL, &plants[0], "x", out, N_DEST), 0);
        assert_int_equal(router_route(&cfg, NULL, "x", out, N_DEST), 0);
        assert_int_equal(router_route(&cfg, &plants[0], NULL, out, N_DEST), 0);
        /* a plant without routes routes nowhere */
        struct takt_plant bare = {.code = "XX"};
        assert_int_equal(router_route(&cfg, &bare, "work_order.released", out, N_DEST), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_glob_table),
            cmocka_unit_test(test_route_table),
            cmocka_unit_test(test_route_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
