/* dispatch.h — the dispatcher's shared state (internal to src/delivery):
 * messages in memory indexed by outbox id, lanes (destination x work order)
 * with one message in flight each, destinations with their breaker and
 * deliverer, the paging cursor and the outcome batch.
 *
 * Files: delivery.c (life cycle, reloads, shutdown), paging.c (submit,
 * resume, rescans, pages, NOTIFY), lanes.c (message and lane tables),
 * dispatch.c (pump, attempts, retries, breaker), outcomes.c (write-back
 * batches, trace steps, metrics). */
#ifndef TAKT_DELIVERY_DISPATCH_H
#define TAKT_DELIVERY_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "outputs.h"
#include "policy.h"
#include "takt/delivery.h"
#include "takt/metrics.h"
#include "takt/refresh_pace.h"
#include "takt/store_delivery.h"

#define DELIVERY_PAGE      1000  /* rows per page from PostgreSQL */
#define DELIVERY_MAX_ROWS  20000 /* at most this many rows in memory */
#define DELIVERY_LOW_WATER 10000 /* refill below this */
#define DELIVERY_LATER_MAX 2000  /* submits buffered above the paging horizon */
#define DELIVERY_STEPS_MAX 50000 /* unwritten trace steps kept */
#define ID_BUCKETS         32768
#define LANE_BUCKETS       16384

struct lane;
struct ddest;

/* One outbox row in memory. Owned by its lane while queued or in flight,
 * then by the outcome batch until the outcome is committed. */
struct dmsg {
        struct store_outbox_row row; /* owned */
        struct lane *lane;           /* NULL once it left the lane */
        struct dmsg *next;           /* lane queue (id order) */
        struct dmsg *id_next;        /* id table chain */
        int64_t started_ms;          /* current attempt's start (monotonic) */
        size_t outcome_slot;         /* 1 + index of its unwritten outcome, 0 none */
        bool in_flight;
};

/* A lane: messages of one work order to one destination, in id order. A
 * blocked lane (a failed or held message) keeps no rows in memory: they stay
 * pending in PostgreSQL until a rescan finds the lane open again. */
struct lane {
        char *key; /* owned: destination "\n" lane */
        struct ddest *dest;
        struct dmsg *head, *tail;
        bool in_flight;
        int64_t blocked_by;  /* id of the failed/held message; 0 = open */
        bool held;           /* blocked by a held message: a release opens it */
        struct event *timer; /* owned: retry wait of the head */
        bool ready;          /* linked in dest's ready list */
        struct lane *ready_next;
        struct lane *map_next;
        uint32_t mark; /* generation when it was blocked */
};

struct ddest {
        struct delivery *owner;
        char *name;                         /* owned */
        const struct takt_destination *cfg; /* borrowed; NULL when removed */
        const struct dialect *dialect;      /* borrowed; NULL = canonical */
        char *topic;                        /* owned: prefix + topic (kafka) */
        struct breaker breaker;
        struct event *breaker_timer; /* owned */
        unsigned in_flight;
        struct lane *ready_head, *ready_tail;
        struct http_target *http; /* owned (http) */
        struct ddest *next;
};

/* An outcome waiting to be written (strings owned). */
struct doutcome {
        int64_t id;
        char *state;
        int attempts;
        int64_t next_attempt_ms;
        char *last_error;
        int64_t delivered_ms;
        struct dmsg *msg; /* owned when terminal (delivered/failed), else NULL */
};
struct dstep {
        char *correlation_id, *step, *detail; /* owned */
        int64_t at_ms;
};

struct delivery_metrics {
        struct metric_family *attempts, *duration, *end_to_end, *outbox, *oldest;
        struct metric_family *breaker_open; /* takt_delivery_breaker_open{destination} */
};

struct delivery {
        struct event_base *base;
        struct store *store;
        struct metrics *metrics; /* borrowed, may be NULL */
        struct delivery_metrics m;
        const struct takt_config *cfg;
        const struct dialect_set *dialects;
        struct evdns_base *dns;       /* owned */
        struct kafka_out *kafka;      /* owned, created on first Kafka destination */
        struct http_target **retired; /* owned: targets replaced on reload */
        size_t n_retired;
        delivery_delivered_cb delivered_cb;
        void *delivered_arg;
        uint64_t rng;

        struct ddest *dests;
        struct dmsg *ids[ID_BUCKETS];
        struct lane *lanes[LANE_BUCKETS];
        size_t n_rows; /* messages in memory (any owner) */
        size_t n_in_flight;

        /* paging */
        bool resumed;
        bool paging;    /* a page or blocked-lanes query in flight */
        bool caught_up; /* every pending row <= max known is in memory */
        bool rescan_wanted;
        int64_t cursor;                 /* next page starts after this id */
        struct store_outbox_row *later; /* owned: submits above the horizon */
        size_t n_later;
        int64_t dropped_min; /* lowest submit the full buffer dropped */
        int64_t max_known;
        uint32_t generation;             /* bumped by every rescan and sweep */
        uint32_t scan_gen;               /* generation when the last rescan went out */
        unsigned store_pending;          /* store requests whose callback is due */
        struct refresh_pace counts_pace; /* of the outbox gauges' count */

        /* outcomes */
        struct doutcome *outcomes;
        size_t n_outcomes, cap_outcomes, n_writing_outcomes;
        struct dstep *steps;
        size_t n_steps, cap_steps, n_writing_steps;
        bool writing;

        struct event *kick_ev;  /* deferred pump of every destination */
        struct event *flush_ev; /* deferred outcome write (end of loop turn) */
        struct event *retry_ev; /* paging / flush retry after a DB error */
        struct event *sweep_ev; /* periodic rescan and gauges */
        struct event *grace_ev; /* shutdown deadline */

        bool shutting_down, grace_over;
        delivery_drained_cb drained_cb;
        void *drained_arg;
};

/* ---- clocks ---- */
int64_t delivery_now_ms(void);  /* wall clock, ms since the epoch */
int64_t delivery_mono_ms(void); /* monotonic */

/* ---- lanes.c ---- */
struct dmsg *msg_find(struct delivery *d, int64_t id);
/* Takes the row (moved: *row is zeroed). NULL when the destination is not
 * configured (the row is cleared then). */
struct dmsg *msg_add(struct delivery *d, struct store_outbox_row *row);
/* Forget and free a message that is in no lane. */
void msg_forget(struct delivery *d, struct dmsg *m);
struct ddest *dest_find(struct delivery *d, const char *name);
struct lane *lane_find(struct delivery *d, const char *dest, const char *lane, bool create);
/* Re-evaluate a lane: ready list, retry timer, or free when idle. */
void lane_update(struct delivery *d, struct lane *l);
/* Block a lane behind message id (held or failed): drop its queued (not in
 * flight) rows. */
void lane_block(struct delivery *d, struct lane *l, int64_t id, bool held);
void lane_remove_head(struct lane *l);
void lanes_free_all(struct delivery *d);
/* Forget the queued rows of destinations no longer configured. */
void lanes_drop_unconfigured(struct delivery *d);

/* ---- dispatch.c ---- */
void dispatch_kick(struct delivery *d);
void dispatch_pump_all(struct delivery *d);
void dispatch_attempt_done(void *arg, const struct attempt_report *r);
void dispatch_arm_breaker(struct delivery *d, struct ddest *dst);
/* Set takt_delivery_breaker_open{destination} from the breaker's state. */
void dispatch_breaker_gauge(struct delivery *d, const struct ddest *dst);

/* ---- outcomes.c ---- */
void outcomes_metrics_init(struct delivery *d);
void outcome_add(struct delivery *d, struct dmsg *m, const char *state, int attempts,
                 int64_t next_attempt_ms, const char *last_error, int64_t delivered_ms,
                 bool terminal);
void step_add(struct delivery *d, const char *correlation_id, const char *step, json_t *detail);
void outcomes_flush_soon(struct delivery *d);
void outcomes_flush(struct delivery *d);
void outcomes_free_all(struct delivery *d);
void gauges_refresh(struct delivery *d);

/* ---- paging.c ---- */
void delivery_after_commit(struct delivery *d); /* refill below the low water */
void paging_rescan(struct delivery *d);         /* blocked lanes, then pages from 0 */
void paging_retry(struct delivery *d);          /* after a store error */
void paging_sweep(struct delivery *d);          /* every 5 s */

/* ---- delivery.c ---- */
void delivery_maybe_finished(struct delivery *d);

#endif
