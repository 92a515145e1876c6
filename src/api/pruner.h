/* pruner.h — deletes what is past its retention (config retention:,
 * docs/storage.md "Retention"): delivered outbox messages, the inbox
 * records of finished orders and trace rows, in rounds on the admin
 * connection (store_prune), paced by prune_pace.h. Counts what it deleted
 * in takt_pruned_rows_total{table}. */
#ifndef TAKT_PRUNER_H
#define TAKT_PRUNER_H

struct event_base;
struct metrics;
struct store;
struct takt_config;
struct pruner;

/* The first round runs once PostgreSQL is ready, within a second. */
struct pruner *pruner_new(struct event_base *base, struct store *store, struct metrics *metrics,
                          const struct takt_config *cfg);
/* A reloaded config's retention applies from the next round. */
void pruner_configure(struct pruner *p, const struct takt_config *cfg);
void pruner_free(struct pruner *p);

#endif
