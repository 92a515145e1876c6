/* test_canon_time.c — RFC 3339 parsing and formatting: a table of good and
 * bad timestamps (no zone, bad month/day, leap years, leap seconds,
 * fractions, offsets) and the format -> parse round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "takt/canon.h"

struct time_case {
        const char *text;
        bool ok;
        int64_t ms;
};

static const struct time_case cases[] = {
    {"2026-11-30T06:45:02.123Z", true, 1796021102123},
    {"2026-11-30t06:45:02.123z", true, 1796021102123},
    {"2026-11-30T07:45:02.123+01:00", true, 1796021102123},
    {"2026-11-29T20:15:02.123-10:30", true, 1796021102123},
    {"2026-11-30T06:45:02.123-00:00", true, 1796021102123},
    {"2026-11-30T06:45:02.1234567Z", true, 1796021102123}, /* truncated to ms */
    {"2026-11-30T06:45:02.1Z", true, 1796021102100},
    {"2026-11-30T06:45:02.12Z", true, 1796021102120},
    {"2026-11-30T06:45:02Z", true, 1796021102000},
    {"1970-01-01T00:00:00Z", true, 0},
    {"1969-12-31T23:59:59.999Z", true, -1},
    {"2024-02-29T23:59:59.999Z", true, 1709251199999},
    {"2000-02-29T12:00:00Z", true, 951825600000},
    {"1900-03-01T00:00:00Z", true, -2203891200000},
    {"2038-01-19T03:14:08Z", true, 2147483648000},
    {"9999-12-31T23:59:59.999Z", true, 253402300799999},
    {"0001-01-01T00:00:00Z", true, -62135596800000},
    {"2026-12-01T00:30:00+23:59", true, 1795998660000},
    /* no time zone */
    {"2026-11-30T06:45:02", false, 0},
    {"2026-11-30T06:45:02.123", false, 0},
    /* date or time alone */
    {"2026-11-30", false, 0},
    {"06:45:02Z", false, 0},
    /* bad fields */
    {"2026-13-01T00:00:00Z", false, 0},
    {"2026-00-01T00:00:00Z", false, 0},
    {"2026-11-00T00:00:00Z", false, 0},
    {"2026-11-31T00:00:00Z", false, 0},
    {"2026-02-29T00:00:00Z", false, 0}, /* not a leap year */
    {"1900-02-29T00:00:00Z", false, 0}, /* century, not a leap year */
    {"2026-11-30T24:00:00Z", false, 0},
    {"2026-11-30T23:60:00Z", false, 0},
    {"2016-12-31T23:59:60Z", false, 0}, /* leap second: refused */
    /* bad offsets */
    {"2026-11-30T06:45:02+01", false, 0},
    {"2026-11-30T06:45:02+0100", false, 0},
    {"2026-11-30T06:45:02+24:00", false, 0},
    {"2026-11-30T06:45:02+01:60", false, 0},
    {"2026-11-30T06:45:02 +01:00", false, 0},
    {"2026-11-30T06:45:02UTC", false, 0},
    /* bad syntax */
    {"2026-11-30T06:45:02.Z", false, 0},
    {"2026-11-30T06:45Z", false, 0},
    {"2026-11-30 06:45:02Z", false, 0},
    {"2026-11-30T06:45:02Z ", false, 0},
    {" 2026-11-30T06:45:02Z", false, 0},
    {"26-11-30T06:45:02Z", false, 0},
    {"2026-1-30T06:45:02Z", false, 0},
    {"2026/11/30T06:45:02Z", false, 0},
    {"+2026-11-30T06:45:02Z", false, 0},
    {"", false, 0},
};

static void test_parse_table(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t ms = 42;
                bool ok = canon_parse_time(cases[i].text, &ms);
                if (ok != cases[i].ok || (ok && ms != cases[i].ms))
                        print_message("case %zu: \"%s\" -> %d %lld\n", i, cases[i].text, ok,
                                      (long long)ms);
                assert_int_equal(ok, cases[i].ok);
                if (ok)
                        assert_int_equal(ms, cases[i].ms);
        }
        assert_false(canon_parse_time(NULL, NULL));
        assert_true(canon_parse_time("2026-11-30T06:45:02Z", NULL));
}

/* Every good timestamp formats to the canonical form and parses back. */
static void test_round_trip(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                if (!cases[i].ok)
                        continue;
                char buf[32];
                int64_t back = 0;
                canon_format_time(cases[i].ms, buf, sizeof(buf));
                assert_int_equal(strlen(buf), 24);
                assert_true(canon_parse_time(buf, &back));
                assert_int_equal(back, cases[i].ms);
        }
        /* and every millisecond across a day boundary before the epoch */
        for (int64_t ms = -86400000 - 1500; ms < -86400000 + 1500; ms += 7) {
                char buf[32];
                int64_t back = 0;
                canon_format_time(ms, buf, sizeof(buf));
                assert_true(canon_parse_time(buf, &back));
                assert_int_equal(back, ms);
        }
}

static void test_format_table(void **state)
{
        static const struct {
                int64_t ms;
                const char *text;
        } table[] = {
            {0, "1970-01-01T00:00:00.000Z"},
            {-1, "1969-12-31T23:59:59.999Z"},
            {1796021102123, "2026-11-30T06:45:02.123Z"},
            {1709251199999, "2024-02-29T23:59:59.999Z"},
            {951782400000, "2000-02-29T00:00:00.000Z"},
            {253402300799999, "9999-12-31T23:59:59.999Z"},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                char buf[32];
                canon_format_time(table[i].ms, buf, sizeof(buf));
                assert_string_equal(buf, table[i].text);
        }
        char small[11];
        canon_format_time(0, small, sizeof(small)); /* truncates, never overflows */
        assert_string_equal(small, "1970-01-01");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_table),
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_format_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
