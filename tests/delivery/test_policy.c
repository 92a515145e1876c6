/* test_policy.c — the delivery engine's pure decisions: backoff ceilings and
 * full-jitter bounds, Retry-After forms, status classification, the circuit
 * breaker's state machine and traceparent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/delivery/policy.h"

static void test_backoff_ceiling(void **state)
{
        struct takt_retry r = {.initial_ms = 500, .max_ms = 300000, .max_attempts = 20};
        static const struct {
                int attempts;
                uint64_t ceiling;
        } cases[] = {{1, 500},     {2, 1000},    {3, 2000},    {4, 4000},
                     {10, 256000}, {11, 300000}, {20, 300000}, {200, 300000}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(backoff_ceiling_ms(&r, cases[i].attempts), cases[i].ceiling);
}

static void test_backoff_jitter_bounds(void **state)
{
        struct takt_retry r = {.initial_ms = 100, .max_ms = 10000, .max_attempts = 20};
        uint64_t x = 88172645463325252ULL;
        for (int attempts = 1; attempts <= 12; attempts++) {
                uint64_t ceiling = backoff_ceiling_ms(&r, attempts);
                uint64_t lo = UINT64_MAX, hi = 0;
                for (int i = 0; i < 2000; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        uint64_t d = backoff_delay_ms(&r, attempts, x, 0);
                        assert_true(d <= ceiling);
                        lo = d < lo ? d : lo;
                        hi = d > hi ? d : hi;
                }
                /* full jitter spreads over the whole range */
                assert_true(lo < ceiling / 10 + 1);
                assert_true(hi > ceiling - ceiling / 10 - 1);
        }
        /* Retry-After is a floor */
        assert_int_equal(backoff_delay_ms(&r, 1, 0, 7000), 7000);
        assert_true(backoff_delay_ms(&r, 1, 99, 7000) >= 7000);
}

static void test_retry_after(void **state)
{
        /* now = Sun, 06 Nov 1994 08:49:00 GMT */
        int64_t now = 784111740LL * 1000;
        static const struct {
                const char *value;
                bool ok;
                uint64_t ms;
        } cases[] = {
            {"0", true, 0},
            {"120", true, 120000},
            {" 5 ", true, 5000},
            {"Sun, 06 Nov 1994 08:49:37 GMT", true, 37000},
            {"Sunday, 06-Nov-94 08:49:37 GMT", true, 37000},
            {"Sun Nov  6 08:49:37 1994", true, 37000},
            {"Sun, 06 Nov 1994 08:48:00 GMT", true, 0}, /* past */
            {"-1", false, 0},
            {"1.5", false, 0},
            {"soon", false, 0},
            {"", false, 0},
            {"Sun, 06 Foo 1994 08:49:37 GMT", false, 0},
            {"Sun, 06 Nov 1994 08:49:37 GMT junk", false, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t ms = 42;
                bool ok = retry_after_parse(cases[i].value, now, &ms);
                assert_int_equal(ok, cases[i].ok);
                if (ok)
                        assert_int_equal(ms, cases[i].ms);
        }
        uint64_t ms;
        assert_false(retry_after_parse(NULL, now, &ms));
}

static void test_classify(void **state)
{
        static const struct {
                int status;
                enum attempt_result r;
        } cases[] = {{200, ATTEMPT_DELIVERED}, {201, ATTEMPT_DELIVERED}, {204, ATTEMPT_DELIVERED},
                     {0, ATTEMPT_RETRY},       {408, ATTEMPT_RETRY},     {429, ATTEMPT_RETRY},
                     {500, ATTEMPT_RETRY},     {503, ATTEMPT_RETRY},     {599, ATTEMPT_RETRY},
                     {301, ATTEMPT_FAILED},    {400, ATTEMPT_FAILED},    {401, ATTEMPT_FAILED},
                     {404, ATTEMPT_FAILED},    {409, ATTEMPT_FAILED},    {422, ATTEMPT_FAILED}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(http_status_classify(cases[i].status), cases[i].r);
}

/* A script of breaker events: admit at t, or record a result at t. */
enum ev_kind { ADMIT, RECORD };
struct bstep {
        enum ev_kind kind;
        int64_t t;
        enum attempt_result r; /* RECORD */
        bool expect;           /* ADMIT: admitted; RECORD: opened now */
        enum breaker_state after;
};

static void run_script(const struct bstep *s, size_t n)
{
        struct takt_breaker cfg = {.failures = 3, .open_ms = 1000};
        struct breaker b;
        breaker_init(&b);
        for (size_t i = 0; i < n; i++) {
                bool got = s[i].kind == ADMIT ? breaker_admit(&b, &cfg, s[i].t)
                                              : breaker_record(&b, &cfg, s[i].r, s[i].t);
                assert_int_equal(got, s[i].expect);
                assert_int_equal(b.state, s[i].after);
        }
}

static void test_breaker_opens_and_probes(void **state)
{
        static const struct bstep s[] = {
            {ADMIT, 0, 0, true, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 1, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 2, ATTEMPT_RETRY, true, BREAKER_OPEN}, /* 3rd failure opens */
            {ADMIT, 500, 0, false, BREAKER_OPEN},
            {ADMIT, 1002, 0, true, BREAKER_HALF_OPEN},         /* one probe */
            {ADMIT, 1003, 0, false, BREAKER_HALF_OPEN},        /* not two */
            {RECORD, 1100, ATTEMPT_RETRY, true, BREAKER_OPEN}, /* probe failed */
            {ADMIT, 2000, 0, false, BREAKER_OPEN},
            {ADMIT, 2100, 0, true, BREAKER_HALF_OPEN},
            {RECORD, 2150, ATTEMPT_DELIVERED, false, BREAKER_CLOSED},
            {ADMIT, 2151, 0, true, BREAKER_CLOSED},
            {ADMIT, 2151, 0, true, BREAKER_CLOSED},
        };
        run_script(s, sizeof(s) / sizeof(s[0]));
}

static void test_breaker_success_resets_count(void **state)
{
        static const struct bstep s[] = {
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_DELIVERED, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_FAILED, false, BREAKER_CLOSED}, /* 4xx: peer alive */
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, false, BREAKER_CLOSED},
            {RECORD, 0, ATTEMPT_RETRY, true, BREAKER_OPEN},
        };
        run_script(s, sizeof(s) / sizeof(s[0]));
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

static void test_traceparent(void **state)
{
        char a[64], b[64], c[64], e[64];
        traceparent_format("corr-1", 7, a, sizeof(a));
        traceparent_format("corr-1", 7, b, sizeof(b));
        traceparent_format("corr-1", 8, c, sizeof(c));
        traceparent_format("corr-2", 7, e, sizeof(e));
        assert_int_equal(strlen(a), 55);
        assert_memory_equal(a, "00-", 3);
        assert_true(is_hex(a + 3, 32));
        assert_int_equal(a[35], '-');
        assert_true(is_hex(a + 36, 16));
        assert_string_equal(a + 52, "-01");
        assert_string_equal(a, b);                   /* deterministic */
        assert_memory_equal(a, c, 35);               /* same trace id per correlation */
        assert_memory_not_equal(a + 36, c + 36, 16); /* own parent id per message */
        assert_memory_not_equal(a + 3, e + 3, 32);
        assert_memory_not_equal(a + 3, "00000000000000000000000000000000", 32);
        /* known answers (docs/delivery.md: SHA-256 of the correlation id, and
         * of at most 200 bytes of it + "/" + outbox id), from Python hashlib */
        assert_string_equal(a, "00-12423b976fe4078b3c8b6b4c279cd86e-2f2f5947c463c12c-01");
        char longid[301];
        memset(longid, 'x', 300);
        longid[300] = '\0';
        traceparent_format(longid, 42, e, sizeof(e));
        assert_string_equal(e, "00-0d4e2ca9e9cbced7a7a5380eb29e1a37-085e6495998883db-01");
        /* too small a buffer gets an empty string, never a partial header */
        char small[20];
        traceparent_format("corr-1", 7, small, sizeof(small));
        assert_string_equal(small, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_backoff_ceiling),
            cmocka_unit_test(test_backoff_jitter_bounds),
            cmocka_unit_test(test_retry_after),
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_breaker_opens_and_probes),
            cmocka_unit_test(test_breaker_success_resets_count),
            cmocka_unit_test(test_traceparent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
