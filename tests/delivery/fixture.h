/* fixture.h — what the delivery integration tests share: a PostgreSQL
 * connection for setup and inspection (TAKT_PG_CONNINFO from
 * tests/harness/with-postgres.sh; the group setup FAILS without it), the
 * loop, a store and metrics registry per test, outbox rows inserted with
 * SQL, and a dispatcher started on a hand-built config. */
#ifndef TAKT_TEST_DELIVERY_FIXTURE_H
#define TAKT_TEST_DELIVERY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "receiver.h"
#include "takt/config.h"
#include "takt/delivery.h"
#include "takt/metrics.h"
#include "takt/store.h"

struct fx {
        const char *conninfo;
        struct event_base *base;
        struct store *store;
        struct metrics *metrics;
        PGconn *pg; /* blocking: setup and inspection between loop runs */
        struct takt_config cfg;
        struct takt_destination dest[2];
        struct delivery *d;
        int delivered_calls;
        bool ready, drained;
        /* per-test plan state */
        int64_t up_at_ms;
        bool accept_bad;
};

typedef bool (*pred_fn)(struct fx *f, void *arg);

struct count_arg {
        const char *state;
        long n;
};
struct id_state {
        int64_t id;
        const char *state;
};

/* Run the loop until pred holds or timeout_ms passed; returns pred. */
bool run_until(struct fx *f, pred_fn pred, void *arg, int timeout_ms);
void run_for(struct fx *f, int ms);

/* Blocking SQL on f->pg (fails the test on error); the caller PQclear()s. */
PGresult *sql(struct fx *f, const char *q, int n, const char *const *params);
long sql_long(struct fx *f, const char *q, int n, const char *const *params);
/* Insert one pending outbox row for (dest, DE01/wo); fill *row for
 * delivery_submit when row is not NULL (caller clears it). Returns the id. */
int64_t insert(struct fx *f, const char *dest, const char *wo, int seq,
               struct store_outbox_row *row);
/* insert + delivery_submit (the hot path). */
void submit_one(struct fx *f, const char *dest, const char *wo, int seq, int64_t *id);
long count_state(struct fx *f, const char *state);
char *row_field(struct fx *f, int64_t id, const char *col); /* malloc'd text or NULL */
bool state_is(struct fx *f, int64_t id, const char *state);
/* Predicates: arg is a struct count_arg / a {0}-terminated struct id_state[]. */
bool n_in_state(struct fx *f, void *arg);
bool ids_in_state(struct fx *f, void *arg);

/* An HTTP destination on 127.0.0.1:port (strings owned by the fixture,
 * freed by teardown). */
struct takt_destination http_dest(const char *name, int port);
/* delivery_new on f->dest[0..n_dest) and resume; stop drains it (freed by
 * teardown, after the store, as the daemon does). */
void start(struct fx *f, size_t n_dest);
void stop(struct fx *f);
/* delivery_shutdown's callback (sets f->drained) and its predicate. */
void on_drained(void *arg);
bool drained(struct fx *f, void *arg);

int group_setup(void **state);
int group_teardown(void **state);
int setup(void **state);
int teardown(void **state);

/* Always 200 at once. */
struct answer plan_ok(void *arg, const struct rreq *q, size_t n);

#endif
