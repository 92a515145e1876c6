/* store_delivery.h — the store queries the delivery engine needs
 * (implemented in src/store/outbox_delivery.c, on the store's "delivery"
 * connection, so loads and outcome writes are strictly ordered: a page
 * loaded after an outcome was committed sees it).
 *
 * Every function returns 0 when the request was queued, -1 when the
 * connection is down (then cb is not called). Callbacks run on the loop. */
#ifndef TAKT_STORE_DELIVERY_H
#define TAKT_STORE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "takt/store.h"

/* rows: an array the callback owns (free each with store_outbox_row_clear,
 * then free(rows)); NULL when n == 0 or on error. */
typedef void (*store_rows_cb)(void *arg, struct store_outbox_row *rows, size_t n,
                              const char *error);
typedef void (*store_done_cb)(void *arg, const char *error);

/* Pending rows with id > after_id, in id order, at most limit, skipping rows
 * whose lane (destination, lane) has an earlier failed or held row: they
 * must wait for it. */
int store_outbox_load_pending(struct store *s, int64_t after_id, int limit, store_rows_cb cb,
                              void *arg);

/* One blocked lane: destination and lane of the earliest failed/held row. */
struct store_blocked_lane {
        char *destination; /* owned */
        char *lane;        /* owned */
        int64_t first_id;
        bool held; /* the earliest is held (else failed) */
};
typedef void (*store_blocked_cb)(void *arg, struct store_blocked_lane *lanes, size_t n,
                                 const char *error);
/* Every lane with a failed or held message (callback owns the array and
 * strings: free with store_blocked_lanes_free). */
int store_outbox_blocked_lanes(struct store *s, store_blocked_cb cb, void *arg);
void store_blocked_lanes_free(struct store_blocked_lane *lanes, size_t n);

/* One outcome to write back. Strings are borrowed for the call. */
struct store_outcome {
        int64_t id;
        const char *state; /* pending | delivered | failed */
        int attempts;
        int64_t next_attempt_ms; /* for pending */
        const char *last_error;  /* NULL: keep NULL; jsonb text {"status","error","body"} */
        int64_t delivered_ms;    /* 0: NULL */
};
/* One trace step (table trace). */
struct store_trace_step {
        const char *correlation_id;
        const char *step; /* attempt | delivered | failed */
        int64_t at_ms;
        const char *detail; /* JSON object text */
};
/* Write a whole loop turn's outcomes and trace steps in one transaction
 * (two statements over unnest() arrays), committed asynchronously
 * (synchronous_commit off): a crash may lose the last outcomes, and those
 * messages are then delivered again, never lost. */
int store_outbox_record(struct store *s, const struct store_outcome *o, size_t n_outcomes,
                        const struct store_trace_step *t, size_t n_steps, store_done_cb cb,
                        void *arg);

/* Aggregate for the gauges: one entry per (destination, state) with state in
 * pending, failed. oldest_s: age of the oldest row in seconds. */
struct store_outbox_count {
        char *destination; /* owned */
        char *state;       /* owned */
        long count;
        double oldest_s;
};
typedef void (*store_counts_cb)(void *arg, struct store_outbox_count *c, size_t n,
                                const char *error);
int store_outbox_counts(struct store *s, store_counts_cb cb, void *arg);
void store_outbox_counts_free(struct store_outbox_count *c, size_t n);

/* LISTEN takt_outbox on the listen connection (now and after reconnects);
 * cb for every NOTIFY (channel is "takt_outbox"). */
typedef void (*store_outbox_notify_cb)(void *arg, const char *channel, const char *payload);
void store_outbox_listen(struct store *s, store_outbox_notify_cb cb, void *arg);

/* Whether the delivery connection is up. */
bool store_delivery_conn_up(struct store *s);

#endif
