/* breaker.c — the circuit breaker of one destination: CLOSED counts
 * consecutive retryable failures; at cfg->failures it opens for cfg->open_ms;
 * then HALF_OPEN lets one probe through, whose success closes it and whose
 * failure reopens it. A dead peer thus costs one probe per interval. */
#include "policy.h"

void breaker_init(struct breaker *b)
{
        *b = (struct breaker){.state = BREAKER_CLOSED};
}

bool breaker_admit(struct breaker *b, const struct takt_breaker *cfg, int64_t now_ms)
{
        switch (b->state) {
        case BREAKER_CLOSED:
                return true;
        case BREAKER_OPEN:
                if (now_ms < b->open_until_ms)
                        return false;
                b->state = BREAKER_HALF_OPEN;
                b->probe_in_flight = false;
                /* fall through */
        case BREAKER_HALF_OPEN:
                if (b->probe_in_flight)
                        return false;
                b->probe_in_flight = true;
                return true;
        }
        return false;
}

static void breaker_open(struct breaker *b, const struct takt_breaker *cfg, int64_t now_ms)
{
        b->state = BREAKER_OPEN;
        b->open_until_ms = now_ms + (int64_t)cfg->open_ms;
        b->probe_in_flight = false;
}

bool breaker_record(struct breaker *b, const struct takt_breaker *cfg, enum attempt_result r,
                    int64_t now_ms)
{
        if (r != ATTEMPT_RETRY) {
                /* the peer answered: it is alive */
                b->state = BREAKER_CLOSED;
                b->consecutive_failures = 0;
                b->probe_in_flight = false;
                return false;
        }
        b->consecutive_failures++;
        if (b->state == BREAKER_HALF_OPEN) {
                breaker_open(b, cfg, now_ms);
                return true;
        }
        if (b->state == BREAKER_CLOSED && cfg->failures > 0 &&
            b->consecutive_failures >= cfg->failures) {
                breaker_open(b, cfg, now_ms);
                return true;
        }
        return false;
}

const char *breaker_state_name(enum breaker_state s)
{
        switch (s) {
        case BREAKER_CLOSED:
                return "closed";
        case BREAKER_OPEN:
                return "open";
        case BREAKER_HALF_OPEN:
                return "half_open";
        }
        return "unknown";
}
