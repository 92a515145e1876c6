/* gauges.c — see gauges.h. One query in flight at a time; a refresh that
 * fails leaves the last values (the log says why). */
#include "gauges.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "takt/log.h"
#include "takt/metrics.h"
#include "takt/refresh_pace.h"
#include "takt/store.h"

#define GAUGES_INTERVAL_S 5

struct gauges {
        struct store *store;
        struct event *timer;
        struct refresh_pace pace;          /* of the work-order count (one at a time) */
        struct metric_family *work_orders; /* takt_work_orders{plant,state} */
        struct metric_family *parked;      /* takt_parked_events */
        struct metric_family *ready;       /* takt_ready: /readyz as a gauge */
};

static void on_stats(void *arg, json_t *result, const char *error)
{
        struct gauges *g = arg;
        refresh_pace_ended(&g->pace, refresh_pace_now_ms());
        if (error) {
                log_debug("gauges.refresh_failed", "error=\"%s\"", error);
                return;
        }
        metric_family_reset(g->work_orders);
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(result, "work_orders"), i, row)
        {
                const char *labels[] = {json_string_value(json_object_get(row, "plant")),
                                        json_string_value(json_object_get(row, "state"))};
                if (labels[0] && labels[1])
                        metrics_set(g->work_orders, labels,
                                    (double)json_integer_value(json_object_get(row, "count")));
        }
        metrics_set(g->parked, NULL, (double)json_integer_value(json_object_get(result, "parked")));
        json_decref(result);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct gauges *g = arg;
        bool ready = store_is_ready(g->store, NULL);
        metrics_set(g->ready, NULL, ready ? 1 : 0);
        int64_t now = refresh_pace_now_ms();
        if (!ready || !refresh_pace_due(&g->pace, now))
                return;
        if (store_work_order_stats(g->store, on_stats, g) == 0)
                refresh_pace_started(&g->pace, now);
}

struct gauges *gauges_new(struct event_base *base, struct store *store, struct metrics *metrics)
{
        struct gauges *g = calloc(1, sizeof(*g));
        g->store = store;
        static const char *const labels[] = {"plant", "state", NULL};
        g->work_orders =
            metrics_family(metrics, "takt_work_orders", "Work orders by plant and state.",
                           METRIC_GAUGE, labels, NULL, 0);
        g->parked = metrics_family(metrics, "takt_parked_events",
                                   "MES events waiting for their order's release.", METRIC_GAUGE,
                                   NULL, NULL, 0);
        g->ready = metrics_family(metrics, "takt_ready",
                                  "1 when PostgreSQL is reachable and migrated (as /readyz).",
                                  METRIC_GAUGE, NULL, NULL, 0);
        g->timer = event_new(base, -1, EV_PERSIST, on_tick, g);
        struct timeval tv = {GAUGES_INTERVAL_S, 0};
        event_add(g->timer, &tv);
        return g;
}

void gauges_free(struct gauges *g)
{
        if (!g)
                return;
        event_free(g->timer);
        free(g);
}
