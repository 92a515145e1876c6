/* test_prune_pace.c — when the pruner's next round starts (prune_pace.h):
 * a table of rounds (full batch or not, how long it took, the interval)
 * against the delay before the next one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/prune_pace.h"

static void test_next_delay(void **state)
{
        (void)state;
        static const struct {
                bool full;
                uint64_t took_ms, interval_ms, want_ms;
        } cases[] = {
            /* caught up: the interval, however long the round took */
            {false, 0, 60000, 60000},
            {false, 900, 60000, 60000},
            {false, 120000, 60000, 60000},
            {false, 5, 1000, 1000},
            /* catching up: four times the round, at least 100 ms ... */
            {true, 0, 60000, 100},
            {true, 10, 60000, 100},
            {true, 25, 60000, 100},
            {true, 26, 60000, 104},
            {true, 250, 60000, 1000},
            {true, 3000, 60000, 12000},
            /* ... never longer than the interval */
            {true, 15000, 60000, 60000},
            {true, 900000, 60000, 60000},
            {true, 300, 1000, 1000},
            {true, 10, 50, 50},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(
                    prune_next_delay_ms(cases[i].full, cases[i].took_ms, cases[i].interval_ms),
                    cases[i].want_ms);
}

/* While catching up the backend is busy at most a fifth of the time. */
static void test_catch_up_duty_at_most_a_fifth(void **state)
{
        (void)state;
        for (uint64_t took = 0; took <= 20000; took += 7) {
                uint64_t gap = prune_next_delay_ms(true, took, 3600000);
                assert_true(took * 5 <= (took + gap) || took == 0);
                assert_true(gap >= PRUNE_MIN_GAP_MS);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_next_delay),
            cmocka_unit_test(test_catch_up_duty_at_most_a_fifth),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
