/* delivery.h — the delivery engine (contract §6): gets every committed
 * outbox message to its destination, in commit order per lane
 * (work order x destination), with retries, backoff, a circuit breaker per
 * destination and dead letters (state failed).
 *
 * It owns the HTTP deliverer (libevent HTTP client, OpenSSL) and the Kafka
 * deliverer (one librdkafka producer, or the embedded mock cluster); it is
 * the only module that includes librdkafka. Outcomes are written back through
 * the store in batches (include/takt/store_delivery.h). All callbacks run on
 * the loop thread. docs/delivery.md describes lanes, retries, the breaker,
 * Kafka records, shutdown and the guarantees. */
#ifndef TAKT_DELIVERY_H
#define TAKT_DELIVERY_H

#include <stddef.h>

#include "takt/config.h"
#include "takt/dialect.h"
#include "takt/store.h"

struct event_base;
struct metrics;
struct delivery;

/* A message reached a destination (called after the outcome is committed):
 * the orchestrator moves released -> dispatched and completed -> closed. */
typedef void (*delivery_delivered_cb)(void *arg, const struct store_outbox_row *row,
                                      const struct takt_destination *dest);
typedef void (*delivery_drained_cb)(void *arg);

/* cfg and dialects are borrowed and must outlive the next
 * delivery_configure() or delivery_free(). Returns NULL and err on failure
 * (e.g. Kafka producer could not be created). */
struct delivery *delivery_new(struct event_base *base, struct store *store, struct metrics *metrics,
                              const struct takt_config *cfg, const struct dialect_set *dialects,
                              char *err, size_t errlen);
/* SIGHUP: switch to a new config (destinations added, changed, removed; an
 * HTTP destination whose url, CA, auth, timeout or max_in_flight changed
 * gets a new connection pool). Kafka settings (brokers, properties) take
 * effect at the next start. */
void delivery_configure(struct delivery *d, const struct takt_config *cfg,
                        const struct dialect_set *dialects);
void delivery_set_delivered_cb(struct delivery *d, delivery_delivered_cb cb, void *arg);

/* Resume everything pending from PostgreSQL (call when the store is ready;
 * again after a reconnect is harmless). */
void delivery_resume(struct delivery *d);
/* Freshly committed rows, handed over in memory right after COMMIT (copied).
 * Rows with state "held" block their lane; a pending row for a held lane (a
 * release) makes the dispatcher re-read what is open. */
void delivery_submit(struct delivery *d, const struct store_outbox_row *rows, size_t n);

/* Stop taking new work, let in-flight deliveries finish up to
 * delivery.shutdown_grace, record outcomes, then call cb. */
void delivery_shutdown(struct delivery *d, delivery_drained_cb cb, void *arg);
/* Free after store_free(): the store's pending callbacks and its LISTEN
 * registration (which cannot be withdrawn) still reach the engine. */
void delivery_free(struct delivery *d);

/* "host:port" of the embedded mock cluster, NULL when brokers are real. */
const char *delivery_kafka_bootstrap(const struct delivery *d);

#endif
