/* test_refresh_pace.c — the pacing of full-table counts (refresh_pace.h):
 * a table of counts (start, end), each asking at the next 5 s tick whether
 * it may start, against the ticks it must wait. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/refresh_pace.h"

static void test_fresh_pace_is_due(void **state)
{
        (void)state;
        struct refresh_pace p = {0};
        assert_true(refresh_pace_due(&p, 0));
        assert_true(refresh_pace_due(&p, 123456));
}

static void test_waits_ratio_times_the_count(void **state)
{
        (void)state;
        static const struct {
                int64_t took_ms;   /* how long the count ran */
                int ticks_skipped; /* 5 s ticks that may not start one */
        } cases[] = {
            /* counts start on a tick (t = 1,000,000 ms), so a count of up to
             * 250 ms waits 19 x 250 = 4,750 ms and makes the next tick */
            {0, 0}, {1, 0}, {130, 0}, {250, 0}, {263, 1}, {2600, 10}, {5000, 18}, {60000, 227},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct refresh_pace p = {0};
                int64_t t = 1000000;
                assert_true(refresh_pace_due(&p, t));
                refresh_pace_started(&p, t);
                int64_t end = t + cases[i].took_ms;
                refresh_pace_ended(&p, end);
                int skipped = 0;
                int64_t tick = end + 5000 - end % 5000; /* the next tick after it ended */
                while (!refresh_pace_due(&p, tick)) {
                        skipped++;
                        tick += 5000;
                }
                assert_true(tick - end >= REFRESH_PACE_RATIO * cases[i].took_ms);
                assert_int_equal(skipped, cases[i].ticks_skipped);
        }
}

/* A clock that went backwards (or a count that ended before it started)
 * never blocks the next count for long. */
static void test_negative_duration_counts_as_zero(void **state)
{
        (void)state;
        struct refresh_pace p = {0};
        refresh_pace_started(&p, 5000);
        refresh_pace_ended(&p, 4000);
        assert_true(refresh_pace_due(&p, 4000));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fresh_pace_is_due),
            cmocka_unit_test(test_waits_ratio_times_the_count),
            cmocka_unit_test(test_negative_duration_counts_as_zero),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
