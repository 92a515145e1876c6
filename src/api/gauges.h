/* gauges.h — work-order gauges refreshed from PostgreSQL every few seconds:
 * takt_work_orders{plant,state}, takt_parked_events and takt_ready (1 when
 * PostgreSQL is reachable and migrated, as /readyz). (The outbox gauges
 * belong to delivery.) */
#ifndef TAKT_GAUGES_H
#define TAKT_GAUGES_H

struct event_base;
struct metrics;
struct store;
struct gauges;

struct gauges *gauges_new(struct event_base *base, struct store *store, struct metrics *metrics);
void gauges_free(struct gauges *g);

#endif
