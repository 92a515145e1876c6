/* pruner.c — see pruner.h. One round at a time: a round is one store_prune
 * statement; the next is timed when it ends (prune_pace.h). While
 * PostgreSQL is away a round is not sent; the timer tries again a second
 * later. A round that fails is logged and retried after the interval. */
#include "pruner.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "takt/config.h"
#include "takt/log.h"
#include "takt/metrics.h"
#include "takt/prune_pace.h"
#include "takt/refresh_pace.h"
#include "takt/store.h"

#define PRUNER_NOT_READY_MS 1000

/* The tables store_prune reports on, in its order (the log line's too). */
enum { N_TABLES = 3 };
static const char *const tables[N_TABLES] = {"outbox", "inbox", "trace"};

struct pruner {
        struct store *store;
        struct event *timer;
        struct store_retention retention;
        uint64_t interval_ms;
        int64_t started_ms;           /* of the round in flight */
        struct metric_family *pruned; /* takt_pruned_rows_total{table} */
};

static void arm(struct pruner *p, uint64_t ms)
{
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)};
        evtimer_add(p->timer, &tv);
}

static void on_pruned(void *arg, json_t *result, const char *error)
{
        struct pruner *p = arg;
        uint64_t took = (uint64_t)(refresh_pace_now_ms() - p->started_ms);
        if (error || !json_is_object(result)) {
                log_warn("prune.failed", "error=\"%s\"", error ? error : "no result");
                json_decref(result);
                arm(p, p->interval_ms);
                return;
        }
        bool full = false;
        long long n[N_TABLES], total = 0;
        for (size_t i = 0; i < N_TABLES; i++) {
                n[i] = json_integer_value(json_object_get(result, tables[i]));
                const char *labels[] = {tables[i]};
                metric_add(metric_series_get(p->pruned, labels), (double)n[i]);
                full |= n[i] >= PRUNE_BATCH_ROWS;
                total += n[i];
        }
        json_decref(result);
        if (total > 0)
                log_debug("prune.round", "outbox=%lld inbox=%lld trace=%lld took_ms=%llu", n[0],
                          n[1], n[2], (unsigned long long)took);
        arm(p, prune_next_delay_ms(full, took, p->interval_ms));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
        struct pruner *p = arg;
        p->started_ms = refresh_pace_now_ms();
        if (!store_is_ready(p->store, NULL) ||
            store_prune(p->store, &p->retention, PRUNE_BATCH_ROWS, on_pruned, p) != 0)
                arm(p, PRUNER_NOT_READY_MS);
}

struct pruner *pruner_new(struct event_base *base, struct store *store, struct metrics *metrics,
                          const struct takt_config *cfg)
{
        struct pruner *p = calloc(1, sizeof(*p));
        if (!p)
                abort(); /* out of memory */
        p->store = store;
        static const char *const labels[] = {"table", NULL};
        p->pruned = metrics_family(metrics, "takt_pruned_rows_total",
                                   "Rows deleted past their retention, by table.", METRIC_COUNTER,
                                   labels, NULL, 0);
        for (size_t i = 0; i < N_TABLES; i++) {
                const char *values[] = {tables[i]};
                metric_series_get(p->pruned, values); /* every table shows, from 0 */
        }
        pruner_configure(p, cfg);
        p->timer = evtimer_new(base, on_timer, p);
        arm(p, PRUNER_NOT_READY_MS);
        return p;
}

void pruner_configure(struct pruner *p, const struct takt_config *cfg)
{
        p->retention = (struct store_retention){cfg->retention.delivered_ms,
                                                cfg->retention.inbox_ms, cfg->retention.trace_ms};
        p->interval_ms = cfg->retention.interval_ms;
}

void pruner_free(struct pruner *p)
{
        if (!p)
                return;
        event_free(p->timer);
        free(p);
}
