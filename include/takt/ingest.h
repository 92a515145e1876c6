/* ingest.h — the ingest pipeline and its group commit (contract §1 steps
 * 1-4, §4 ingest answers).
 *
 * POST /v1/ingest/{source}: source lookup, content type, authentication,
 * JSON, the source's dialect, canonical validation, sender rules; then the
 * request waits for the next group transaction. Every request that arrives
 * while a transaction is in flight joins the next one, so one COMMIT serves
 * many requests; each request still gets its own answer, and only after the
 * COMMIT that made it durable.
 *
 * The same queue carries takt's own events: a delivery that moves an order
 * (released -> dispatched, completed -> closed) and SLA deadlines. They run
 * through the orchestrator in the same kind of transaction. */
#ifndef TAKT_INGEST_H
#define TAKT_INGEST_H

#include <stdint.h>

#include "takt/config.h"
#include "takt/dialect.h"
#include "takt/store.h"

struct event_base;
struct metrics;
struct delivery_worker;
struct http_server;
struct ingest;

/* cfg and dialects are borrowed; they (and every config passed to
 * ingest_configure) must stay alive until ingest_free(). */
struct ingest *ingest_new(struct event_base *base, struct store *store, struct metrics *metrics,
                          const struct takt_config *cfg, const struct dialect_set *dialects);
void ingest_configure(struct ingest *ing, const struct takt_config *cfg,
                      const struct dialect_set *dialects);
/* Committed outbox rows are handed to this delivery worker (may be NULL). */
void ingest_set_delivery(struct ingest *ing, struct delivery_worker *delivery);
/* Registers POST /v1/ingest/{source}. */
void ingest_register(struct ingest *ing, struct http_server *http);

/* takt's own events, queued for the next transaction. */
void ingest_delivered(struct ingest *ing, const struct store_outbox_row *row,
                      const struct takt_destination *dest);
/* Re-arm SLA timers from PostgreSQL (call when the store becomes ready). */
void ingest_resume_sla(struct ingest *ing);

/* Requests waiting or in flight (for shutdown). */
unsigned ingest_pending(const struct ingest *ing);
void ingest_free(struct ingest *ing);

#endif
