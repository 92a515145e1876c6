/* delivery.c — the dispatcher's life cycle: destinations from the config
 * (and reloads), the loop events (kick, flush, retry, sweep), and shutdown
 * with a grace period. What is in memory and why is paging.c's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/dns.h>

#include "dispatch.h"
#include "takt/log.h"

#define SWEEP_SECONDS 5 /* gauges every 5 s (and paging_sweep) */

/* ---- destinations ---- */

static void on_breaker_timer(evutil_socket_t fd, short what, void *arg)
{
        struct ddest *dst = arg;
        dispatch_kick(dst->owner);
}

static char *topic_name(const struct takt_config *cfg, const struct takt_destination *t)
{
        const char *prefix = cfg->kafka.topic_prefix ? cfg->kafka.topic_prefix : "";
        const char *topic = t->topic ? t->topic : t->name;
        size_t n = strlen(prefix) + strlen(topic) + 1;
        char *s = malloc(n);
        if (s)
                snprintf(s, n, "%s%s", prefix, topic);
        return s;
}

static void retire_http(struct delivery *d, struct ddest *dst)
{
        if (dst->http == NULL)
                return;
        struct http_target **r = realloc(d->retired, (d->n_retired + 1) * sizeof(*r));
        if (r == NULL) {
                http_target_free(dst->http); /* in-flight reports are lost: rows stay pending */
        } else {
                d->retired = r;
                d->retired[d->n_retired++] = dst->http;
        }
        dst->http = NULL;
}

static int apply_destination(struct delivery *d, const struct takt_destination *t, char *err,
                             size_t errlen)
{
        struct ddest *dst = dest_find(d, t->name);
        if (dst == NULL) {
                dst = calloc(1, sizeof(*dst));
                if (dst == NULL || (dst->name = strdup(t->name)) == NULL) {
                        free(dst);
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                dst->owner = d;
                breaker_init(&dst->breaker);
                dst->breaker_timer = evtimer_new(d->base, on_breaker_timer, dst);
                dispatch_breaker_gauge(d, dst); /* every destination has a series */
                dst->next = d->dests;
                d->dests = dst;
        }
        dst->cfg = t;
        dst->dialect = d->dialects && t->dialect ? dialect_set_get(d->dialects, t->dialect) : NULL;
        free(dst->topic);
        dst->topic = t->type == TAKT_DEST_KAFKA ? topic_name(d->cfg, t) : NULL;
        if (t->type == TAKT_DEST_HTTP) {
                if (dst->http && !http_target_same(dst->http, t))
                        retire_http(d, dst);
                if (dst->http == NULL)
                        dst->http = http_target_new(d->base, d->dns, t, dispatch_attempt_done, d,
                                                    err, errlen);
                if (dst->http == NULL)
                        return -1;
        } else {
                retire_http(d, dst);
                if (d->kafka == NULL)
                        d->kafka =
                            kafka_out_new(d->base, d->cfg, dispatch_attempt_done, d, err, errlen);
                if (d->kafka == NULL)
                        return -1;
        }
        return 0;
}

static int apply_config(struct delivery *d, char *err, size_t errlen)
{
        for (struct ddest *dst = d->dests; dst; dst = dst->next)
                dst->cfg = NULL;
        for (size_t i = 0; i < d->cfg->n_destinations; i++) {
                if (apply_destination(d, &d->cfg->destinations[i], err, errlen) != 0)
                        return -1;
        }
        return 0;
}

/* ---- events ---- */

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
        dispatch_pump_all(arg);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
        outcomes_flush(arg);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
        struct delivery *d = arg;
        outcomes_flush(d);
        paging_retry(d);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
        struct delivery *d = arg;
        gauges_refresh(d);
        paging_sweep(d);
}

/* ---- life cycle ---- */

struct delivery *delivery_new(struct event_base *base, struct store *store, struct metrics *metrics,
                              const struct takt_config *cfg, const struct dialect_set *dialects,
                              char *err, size_t errlen)
{
        struct delivery *d = calloc(1, sizeof(*d));
        if (d == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        d->base = base;
        d->store = store;
        d->metrics = metrics;
        d->cfg = cfg;
        d->dialects = dialects;
        d->dropped_min = INT64_MAX;
        d->later = calloc(DELIVERY_LATER_MAX, sizeof(*d->later));
        if (getrandom(&d->rng, sizeof(d->rng), 0) != sizeof(d->rng) || d->rng == 0)
                d->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)delivery_mono_ms();
        d->dns = evdns_base_new(base, 0);
        if (d->dns) {
                evdns_base_resolv_conf_parse(d->dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
                evdns_base_load_hosts(d->dns, NULL);
        }
        d->kick_ev = event_new(base, -1, 0, on_kick, d);
        d->flush_ev = event_new(base, -1, 0, on_flush, d);
        d->retry_ev = evtimer_new(base, on_retry, d);
        d->sweep_ev = event_new(base, -1, EV_PERSIST, on_sweep, d);
        d->grace_ev = NULL;
        if (d->dns == NULL || d->later == NULL || !d->kick_ev || !d->flush_ev || !d->retry_ev ||
            !d->sweep_ev) {
                snprintf(err, errlen, "cannot create events");
                delivery_free(d);
                return NULL;
        }
        /* outcomes are written after everything else of the loop turn */
        event_priority_set(d->flush_ev, event_base_get_npriorities(base) - 1);
        outcomes_metrics_init(d);
        if (apply_config(d, err, errlen) != 0) {
                delivery_free(d);
                return NULL;
        }
        struct timeval tv = {SWEEP_SECONDS, 0};
        event_add(d->sweep_ev, &tv);
        return d;
}

void delivery_configure(struct delivery *d, const struct takt_config *cfg,
                        const struct dialect_set *dialects)
{
        char err[256];
        d->cfg = cfg;
        d->dialects = dialects;
        if (apply_config(d, err, sizeof(err)) != 0)
                log_error("delivery.configure_failed", "error=\"%s\"", err);
        lanes_drop_unconfigured(d);
        /* rows of destinations that are new (or changed) wait in PostgreSQL */
        if (d->resumed)
                paging_rescan(d);
        dispatch_kick(d);
}

void delivery_set_delivered_cb(struct delivery *d, delivery_delivered_cb cb, void *arg)
{
        d->delivered_cb = cb;
        d->delivered_arg = arg;
}

const char *delivery_kafka_bootstrap(const struct delivery *d)
{
        return d->kafka ? kafka_out_bootstrap(d->kafka) : NULL;
}

static void finish(struct delivery *d)
{
        delivery_drained_cb cb = d->drained_cb;
        d->drained_cb = NULL;
        if (d->grace_ev)
                event_del(d->grace_ev);
        log_info("delivery.drained", "in_flight=%zu", d->n_in_flight);
        if (cb)
                cb(d->drained_arg);
}

void delivery_maybe_finished(struct delivery *d)
{
        if (!d->shutting_down || d->drained_cb == NULL)
                return;
        /* within the grace: wait for deliveries and for every store request
         * (so the outcomes are committed); past it: stop now */
        bool idle = d->n_in_flight == 0 || d->grace_over;
        if (!idle || (d->store_pending > 0 && !d->grace_over))
                return;
        if ((d->n_outcomes > 0 || d->n_steps > 0) && !d->grace_over) {
                if (!evtimer_pending(d->retry_ev, NULL))
                        outcomes_flush_soon(d);
                return;
        }
        /* past the grace, unwritten outcomes are dropped: those rows stay
         * pending and are delivered again (at-least-once) */
        finish(d);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
        struct delivery *d = arg;
        d->grace_over = true;
        log_warn("delivery.shutdown_grace_over", "in_flight=%zu", d->n_in_flight);
        /* what is still in flight stays pending in PostgreSQL; freeing the
         * targets cancels their requests without callbacks */
        for (struct ddest *dst = d->dests; dst; dst = dst->next) {
                http_target_free(dst->http);
                dst->http = NULL;
        }
        if (d->kafka)
                kafka_out_purge(d->kafka);
        delivery_maybe_finished(d);
}

void delivery_shutdown(struct delivery *d, delivery_drained_cb cb, void *arg)
{
        d->shutting_down = true;
        d->drained_cb = cb;
        d->drained_arg = arg;
        event_del(d->sweep_ev);
        event_del(d->retry_ev);
        for (size_t b = 0; b < LANE_BUCKETS; b++)
                for (struct lane *l = d->lanes[b], *next; l; l = next) {
                        next = l->map_next;
                        lane_update(d, l); /* disarms timers, unreadies */
                }
        uint64_t grace = d->cfg && d->cfg->delivery.shutdown_grace_ms
                             ? d->cfg->delivery.shutdown_grace_ms
                             : 10000;
        d->grace_ev = evtimer_new(d->base, on_grace, d);
        struct timeval tv = {(time_t)(grace / 1000), (suseconds_t)((grace % 1000) * 1000)};
        if (d->grace_ev)
                evtimer_add(d->grace_ev, &tv);
        outcomes_flush_soon(d);
        delivery_maybe_finished(d);
}

void delivery_free(struct delivery *d)
{
        if (d == NULL)
                return;
        for (struct ddest *dst = d->dests; dst; dst = dst->next)
                retire_http(d, dst);
        for (size_t i = 0; i < d->n_retired; i++)
                http_target_free(d->retired[i]);
        free(d->retired);
        kafka_out_free(d->kafka);
        outcomes_free_all(d);
        lanes_free_all(d);
        store_outbox_rows_free(d->later, d->n_later);
        while (d->dests) {
                struct ddest *dst = d->dests;
                d->dests = dst->next;
                if (dst->breaker_timer)
                        event_free(dst->breaker_timer);
                free(dst->topic);
                free(dst->name);
                free(dst);
        }
        if (d->dns)
                evdns_base_free(d->dns, 0);
        struct event *evs[] = {d->kick_ev, d->flush_ev, d->retry_ev, d->sweep_ev, d->grace_ev};
        for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
                if (evs[i])
                        event_free(evs[i]);
        free(d);
}
