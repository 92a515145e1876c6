/* outputs.h — the two deliverers behind the dispatcher: an HTTP target per
 * destination (libevent HTTP client, keep-alive pool, OpenSSL) and one Kafka
 * producer. Both report every attempt through an attempt_done_fn on the loop
 * thread, keyed by outbox id; the dispatcher ignores reports for ids it no
 * longer has in flight. */
#ifndef TAKT_DELIVERY_OUTPUTS_H
#define TAKT_DELIVERY_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "takt/config.h"
#include "takt/store.h"

struct event_base;
struct evdns_base;

struct attempt_report {
        int64_t id;
        enum attempt_result result;
        int status;              /* HTTP status; 0 when none */
        const char *error;       /* short reason, NULL on success */
        const char *body;        /* bounded excerpt of the answer, may be NULL */
        uint64_t retry_after_ms; /* 0 when absent */
};
typedef void (*attempt_done_fn)(void *arg, const struct attempt_report *r);

/* ---- HTTP ---- */

struct http_target;
/* dest is copied where needed (url, auth, timeout, max_in_flight). NULL and
 * err when the URL is bad or the TLS context cannot be built. */
struct http_target *http_target_new(struct event_base *base, struct evdns_base *dns,
                                    const struct takt_destination *dest, attempt_done_fn done,
                                    void *arg, char *err, size_t errlen);
/* POST body (copied) for row; 0 when the request went out, -1 when no slot
 * is free or the request could not be made (then nothing is reported). */
int http_target_send(struct http_target *t, const struct store_outbox_row *row, const char *body,
                     size_t len);
/* Whether this target was built from the same url/ca/timeout/auth. */
int http_target_same(const struct http_target *t, const struct takt_destination *dest);
/* Cancels whatever is in flight without reporting. */
void http_target_free(struct http_target *t);

/* ---- Kafka ---- */

struct kafka_out;
/* One producer for every Kafka destination; cfg->kafka.brokers "embedded"
 * starts the mock cluster in-process. NULL and err on failure. */
struct kafka_out *kafka_out_new(struct event_base *base, const struct takt_config *cfg,
                                attempt_done_fn done, void *arg, char *err, size_t errlen);
/* Produce the canonical envelope (copied) of row to topic; 0 or -1 with err. */
int kafka_out_send(struct kafka_out *k, const char *topic, const struct store_outbox_row *row,
                   const char *value, size_t len, char *err, size_t errlen);
/* Messages librdkafka still holds. */
int kafka_out_pending(struct kafka_out *k);
/* Drop everything queued and in flight; their reports come back as
 * purged and are not counted as attempts. */
void kafka_out_purge(struct kafka_out *k);
const char *kafka_out_bootstrap(const struct kafka_out *k);
void kafka_out_free(struct kafka_out *k);

#endif
