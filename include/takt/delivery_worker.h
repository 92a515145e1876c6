/* delivery_worker.h — the delivery engine on a thread of its own.
 *
 * The main loop takes requests in, decides and commits them; the delivery
 * engine (takt/delivery.h) sends what was committed. Both are event loops.
 * On one thread they took turns, and every delivery a request had to wait
 * behind was latency its sender saw, with the second core idle. The worker
 * runs the engine on its own thread, with its own event base and its own
 * store (delivery, listen and admin connections; it resumes delivery when
 * that store is ready), and the two loops share no mutable state: they
 * exchange messages through two mailboxes (takt/mailbox.h):
 *   main -> worker: committed outbox rows, a reload, shutdown, stop;
 *   worker -> main: a message reached its destination (the orchestrator
 *     moves the order), delivery has drained.
 * Metrics and the log are thread-safe; configuration generations are never
 * freed while the daemon runs, so both loops may point into them.
 *
 * Every function here is called on the main loop's thread, and every
 * callback runs there. */
#ifndef TAKT_DELIVERY_WORKER_H
#define TAKT_DELIVERY_WORKER_H

#include <stddef.h>

#include "takt/delivery.h"

struct delivery_worker;

/* Creates the engine (on the worker's base, not yet running) and its store.
 * cfg and dialects are borrowed until the daemon ends. NULL and err on
 * failure (e.g. the Kafka producer could not be created). */
struct delivery_worker *delivery_worker_new(struct event_base *main_base, struct metrics *metrics,
                                            const struct takt_config *cfg,
                                            const struct dialect_set *dialects, char *err,
                                            size_t errlen);
/* Before delivery_worker_start(). */
void delivery_worker_set_delivered_cb(struct delivery_worker *w, delivery_delivered_cb cb,
                                      void *arg);
/* Starts the thread. -1 and err when it cannot be created. */
int delivery_worker_start(struct delivery_worker *w, char *err, size_t errlen);

/* Rows freshly committed, handed over: the worker owns the array and its
 * rows from here (store_batch_take_outbox_rows), so the main loop copies
 * nothing. */
void delivery_worker_submit(struct delivery_worker *w, struct store_outbox_row *rows, size_t n);
/* SIGHUP: the engine switches to cfg (see delivery_configure). */
void delivery_worker_configure(struct delivery_worker *w, const struct takt_config *cfg,
                               const struct dialect_set *dialects);
/* Stop taking new work, finish in-flight deliveries (up to the grace
 * period), record outcomes, then cb on the main loop. */
void delivery_worker_shutdown(struct delivery_worker *w, delivery_drained_cb cb, void *arg);
/* Stops the thread (whatever it was doing), joins it, frees everything.
 * NULL is fine. */
void delivery_worker_free(struct delivery_worker *w);

/* "host:port" of the embedded mock cluster, NULL when brokers are real. */
const char *delivery_worker_kafka_bootstrap(const struct delivery_worker *w);

#endif
