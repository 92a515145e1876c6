/* ingest_internal.h — what the ingest files share: the request record and
 * the group-commit state. Not a public face (see takt/ingest.h). */
#ifndef TAKT_INGEST_INTERNAL_H
#define TAKT_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "takt/canon.h"
#include "takt/config.h"
#include "takt/dialect.h"
#include "takt/ingest.h"
#include "takt/store.h"

struct event;
struct http_request;
struct metric_family;
struct sla_timers;

/* One canonical message of a request. */
struct ingest_item {
        json_t *env; /* owned: the validated canonical envelope */
        enum canon_type type;
        const char *result; /* metric result label, decided in the transaction */
};

enum ingest_kind {
        INGEST_HTTP,      /* a source's POST */
        INGEST_DELIVERED, /* a delivery that may move the order */
        INGEST_SLA,       /* an SLA deadline came due */
};

struct ingest_req {
        struct ingest *ing;
        enum ingest_kind kind;
        struct ingest_req *next; /* queue link */

        /* INGEST_HTTP */
        struct http_request *http;        /* answered exactly once, then NULL */
        const struct takt_source *source; /* borrowed from a live config */
        struct ingest_item *items;        /* owned array */
        size_t n_items;
        bool is_batch; /* the body was an array */
        int64_t received_ms;
        double started; /* monotonic seconds */

        /* INGEST_DELIVERED and INGEST_SLA */
        char *plant;           /* owned */
        char *work_order;      /* owned */
        json_t *delivered_env; /* owned: the delivered message's type, id, correlation_id */
        enum takt_system_kind dest_kind;

        /* The answer, decided inside the transaction, sent after COMMIT. */
        int status;
        json_t *body;     /* owned */
        unsigned retries; /* internal events: failed transactions */
};

struct ingest {
        struct event_base *base;
        struct store *store;
        struct metrics *metrics;
        struct delivery_worker *delivery;
        const struct takt_config *cfg;
        const struct dialect_set *dialects;

        /* Requests waiting for the next group (FIFO); ingest_groups.c. */
        struct ingest_req *wait_head;
        struct ingest_req **wait_tail;
        unsigned n_waiting;
        struct event *kick; /* starts the next group */

        /* Groups in flight, oldest first (owned; struct in ingest_groups.c). */
        struct ingest_group *groups;
        unsigned n_groups, n_deciding;
        size_t n_in_groups; /* requests in them */

        struct sla_timers *sla;
        struct ingest_req *retry_head; /* internal events whose transaction failed */
        struct event *retry_timer;
        struct metric_family *m_messages; /* takt_ingest_messages_total */
        struct metric_family *m_duration; /* takt_ingest_duration_seconds */
        struct metric_family *m_sla;      /* takt_sla_breaches_total */
};

/* ingest_groups.c: the group-commit queue. */
void ingest_groups_init(struct ingest *ing);
void ingest_groups_free(struct ingest *ing); /* answers what is left 503 */
void ingest_enqueue(struct ingest *ing, struct ingest_req *req);

/* ingest.c */
void ingest_req_free(struct ingest_req *req);
void ingest_count(struct ingest *ing, const char *source, const char *type, const char *result);
double ingest_monotonic(void);
int64_t ingest_now_ms(void);

/* ingest_batch.c: decide every request of a loaded batch (fills req->status,
 * req->body and the batch's writes). Returns the SLA deadlines to arm once
 * it commits: a new array [[plant, work_order, ms]]. */
json_t *ingest_batch_decide(struct ingest *ing, struct store_batch *b, struct ingest_req **reqs,
                            size_t n);

#endif
