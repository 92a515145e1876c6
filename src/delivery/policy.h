/* policy.h — the pure decision helpers of the delivery engine: retry backoff
 * with full jitter, Retry-After parsing, classification of an HTTP answer,
 * the per-destination circuit breaker and the W3C traceparent. No I/O, no
 * allocation; unit-tested in tests/delivery/test_policy.c. */
#ifndef TAKT_DELIVERY_POLICY_H
#define TAKT_DELIVERY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "takt/config.h"

/* ---- backoff ---- */

/* The ceiling of the wait before attempt number `attempts + 1`, where
 * `attempts` failed attempts have been made (>= 1): initial * 2^(attempts-1),
 * capped at max. */
uint64_t backoff_ceiling_ms(const struct takt_retry *r, int attempts);
/* Full jitter: a uniform draw in [0, ceiling] from the 64-bit random value
 * rnd (the caller supplies randomness so tests are deterministic). A
 * Retry-After of retry_after_ms (> 0) raises the wait to at least that. */
uint64_t backoff_delay_ms(const struct takt_retry *r, int attempts, uint64_t rnd,
                          uint64_t retry_after_ms);

/* Retry-After: delta seconds ("120") or an HTTP date (IMF-fixdate, RFC 850 or
 * asctime). Writes the wait in ms relative to now_ms (0 when the date is in
 * the past). Returns false when the value is absent or unparseable. */
bool retry_after_parse(const char *value, int64_t now_ms, uint64_t *out_ms);

/* ---- outcome classification ---- */

enum attempt_result {
        ATTEMPT_DELIVERED, /* 2xx, or Kafka delivery report without error */
        ATTEMPT_RETRY,     /* 408, 429, 5xx, timeout, connection error */
        ATTEMPT_FAILED     /* other 4xx, mapping error: fail at once */
};
/* status 0 means no HTTP answer (timeout or connection error). */
enum attempt_result http_status_classify(int status);
const char *attempt_result_name(enum attempt_result r);

/* ---- circuit breaker (one per destination) ---- */

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
        enum breaker_state state;
        unsigned consecutive_failures;
        int64_t open_until_ms; /* when OPEN: first moment a probe may go */
        bool probe_in_flight;  /* when HALF_OPEN */
};

void breaker_init(struct breaker *b);
/* May a new attempt start now? In OPEN past open_until_ms the breaker turns
 * HALF_OPEN and admits exactly one probe (probe_in_flight). */
bool breaker_admit(struct breaker *b, const struct takt_breaker *cfg, int64_t now_ms);
/* Record the result of an attempt that breaker_admit let through. A success
 * closes the breaker; a retryable failure counts (and a failed probe reopens
 * it for cfg->open_ms). Permanent failures (4xx) do not count: the peer is
 * alive. Returns true when this call opened the breaker. */
bool breaker_record(struct breaker *b, const struct takt_breaker *cfg, enum attempt_result r,
                    int64_t now_ms);
const char *breaker_state_name(enum breaker_state s);

/* ---- W3C trace context ---- */

/* "00-<32 hex trace-id>-<16 hex parent-id>-01": trace-id from SHA-256 of the
 * correlation id, parent-id from SHA-256 of correlation id (at most 200
 * bytes of it) + "/" + outbox id, so every retry of a message carries the
 * same header. len >= TRACEPARENT_SIZE. */
#define TRACEPARENT_SIZE 56
void traceparent_format(const char *correlation_id, int64_t outbox_id, char *buf, size_t len);

#endif
