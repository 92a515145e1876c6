/* outcomes.c — writing results back: every outcome and trace step of one
 * loop turn is coalesced into one store_outbox_record() call (one
 * transaction, unnest arrays) by a deferred event; while one write is in
 * flight the next turn's outcomes wait for it. Terminal messages are freed
 * (and the delivered callback called) only after their outcome committed.
 * Also the metric families and the gauge refresh. */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "takt/json_text.h"
#include "takt/log.h"

static const double duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                          1,     2.5,  5,     10,   30,  60};
static const double e2e_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,    2.5,  5,
                                     10,   30,   60,  300,  900, 3600, 14400};

void outcomes_metrics_init(struct delivery *d)
{
        if (d->metrics == NULL)
                return;
        static const char *const dest_result[] = {"destination", "result", NULL};
        static const char *const dest[] = {"destination", NULL};
        static const char *const dest_state[] = {"destination", "state", NULL};
        d->m.attempts = metrics_family(d->metrics, "takt_delivery_attempts_total",
                                       "Delivery attempts by destination and result.",
                                       METRIC_COUNTER, dest_result, NULL, 0);
        d->m.duration = metrics_family(d->metrics, "takt_delivery_duration_seconds",
                                       "Duration of one delivery attempt.", METRIC_HISTOGRAM, dest,
                                       duration_buckets,
                                       sizeof(duration_buckets) / sizeof(duration_buckets[0]));
        d->m.end_to_end = metrics_family(
            d->metrics, "takt_end_to_end_seconds", "From accepted (commit) to delivered.",
            METRIC_HISTOGRAM, dest, e2e_buckets, sizeof(e2e_buckets) / sizeof(e2e_buckets[0]));
        d->m.outbox = metrics_family(d->metrics, "takt_outbox_messages",
                                     "Outbox messages by destination and state.", METRIC_GAUGE,
                                     dest_state, NULL, 0);
        d->m.oldest = metrics_family(d->metrics, "takt_outbox_oldest_pending_seconds",
                                     "Age of the oldest pending outbox message.", METRIC_GAUGE,
                                     dest, NULL, 0);
        d->m.breaker_open =
            metrics_family(d->metrics, "takt_delivery_breaker_open",
                           "1 while the destination's circuit breaker is open or half-open.",
                           METRIC_GAUGE, dest, NULL, 0);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
        if (n < *cap)
                return true;
        size_t c = *cap ? *cap * 2 : 64;
        void *p = realloc(*arr, c * size);
        if (p == NULL)
                return false;
        *arr = p;
        *cap = c;
        return true;
}

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

static void outcome_clear(struct doutcome *o)
{
        free(o->state);
        free(o->last_error);
}

static void step_clear(struct dstep *s)
{
        free(s->correlation_id);
        free(s->step);
        free(s->detail);
}

void outcome_add(struct delivery *d, struct dmsg *m, const char *state, int attempts,
                 int64_t next_attempt_ms, const char *last_error, int64_t delivered_ms,
                 bool terminal)
{
        /* one outcome per message and statement: a later one replaces an
         * unwritten earlier one (UPDATE ... FROM unnest matches once) */
        size_t slot = d->n_outcomes;
        if (m->outcome_slot > d->n_writing_outcomes) {
                slot = m->outcome_slot - 1;
                outcome_clear(&d->outcomes[slot]);
        } else if (!grow((void **)&d->outcomes, &d->cap_outcomes, d->n_outcomes,
                         sizeof(*d->outcomes))) {
                log_error("delivery.oom", "what=outcome id=%lld", (long long)m->row.id);
                if (terminal)
                        msg_forget(d, m); /* stays pending in PostgreSQL */
                return;
        }
        if (slot == d->n_outcomes)
                d->n_outcomes++;
        m->outcome_slot = slot + 1;
        d->outcomes[slot] = (struct doutcome){
            .id = m->row.id,
            .state = strdup(state),
            .attempts = attempts,
            .next_attempt_ms = next_attempt_ms,
            .last_error = dup_or_null(last_error),
            .delivered_ms = delivered_ms,
            .msg = terminal ? m : NULL,
        };
        outcomes_flush_soon(d);
}

void step_add(struct delivery *d, const char *correlation_id, const char *step, json_t *detail)
{
        char *text = detail ? json_text(detail) : NULL;
        json_decref(detail);
        /* while PostgreSQL is away, trace steps pile up: past a bound they
         * are dropped (the outcomes themselves are kept) */
        if (correlation_id == NULL || d->n_steps >= DELIVERY_STEPS_MAX ||
            !grow((void **)&d->steps, &d->cap_steps, d->n_steps, sizeof(*d->steps))) {
                if (d->n_steps >= DELIVERY_STEPS_MAX)
                        log_debug("delivery.trace_dropped", "step=%s", step);
                free(text);
                return;
        }
        d->steps[d->n_steps++] = (struct dstep){
            .correlation_id = strdup(correlation_id),
            .step = strdup(step),
            .detail = text,
            .at_ms = delivery_now_ms(),
        };
        outcomes_flush_soon(d);
}

void outcomes_flush_soon(struct delivery *d)
{
        if (!d->writing)
                event_active(d->flush_ev, EV_TIMEOUT, 0);
}

static void on_recorded(void *arg, const char *error)
{
        struct delivery *d = arg;
        d->writing = false;
        d->store_pending--;
        if (error) {
                log_warn("delivery.record_failed", "outcomes=%zu error=\"%s\"",
                         d->n_writing_outcomes, error);
                d->n_writing_outcomes = d->n_writing_steps = 0;
                struct timeval tv = {1, 0};
                evtimer_add(d->retry_ev, &tv);
                delivery_maybe_finished(d);
                return;
        }
        size_t n = d->n_writing_outcomes;
        for (size_t i = 0; i < n; i++) {
                struct doutcome *o = &d->outcomes[i];
                struct dmsg *m = o->msg;
                if (m && strcmp(o->state, "delivered") == 0 && d->delivered_cb) {
                        struct ddest *dst = dest_find(d, m->row.destination);
                        if (dst && dst->cfg)
                                d->delivered_cb(d->delivered_arg, &m->row, dst->cfg);
                }
                if (m)
                        msg_forget(d, m);
                else if ((m = msg_find(d, o->id)) != NULL && m->outcome_slot == i + 1)
                        m->outcome_slot = 0;
                outcome_clear(o);
        }
        memmove(d->outcomes, d->outcomes + n, (d->n_outcomes - n) * sizeof(*d->outcomes));
        d->n_outcomes -= n;
        for (size_t i = 0; i < d->n_outcomes; i++) {
                struct dmsg *m =
                    d->outcomes[i].msg ? d->outcomes[i].msg : msg_find(d, d->outcomes[i].id);
                if (m)
                        m->outcome_slot = i + 1;
        }
        for (size_t i = 0; i < d->n_writing_steps; i++)
                step_clear(&d->steps[i]);
        memmove(d->steps, d->steps + d->n_writing_steps,
                (d->n_steps - d->n_writing_steps) * sizeof(*d->steps));
        d->n_steps -= d->n_writing_steps;
        d->n_writing_outcomes = d->n_writing_steps = 0;
        delivery_after_commit(d);
        if (d->n_outcomes || d->n_steps)
                outcomes_flush_soon(d);
}

void outcomes_flush(struct delivery *d)
{
        if (d->writing || (d->n_outcomes == 0 && d->n_steps == 0))
                return;
        size_t no = d->n_outcomes, ns = d->n_steps;
        struct store_outcome *o = calloc(no ? no : 1, sizeof(*o));
        struct store_trace_step *t = calloc(ns ? ns : 1, sizeof(*t));
        int rc = -1;
        if (o && t) {
                for (size_t i = 0; i < no; i++)
                        o[i] = (struct store_outcome){
                            .id = d->outcomes[i].id,
                            .state = d->outcomes[i].state,
                            .attempts = d->outcomes[i].attempts,
                            .next_attempt_ms = d->outcomes[i].next_attempt_ms,
                            .last_error = d->outcomes[i].last_error,
                            .delivered_ms = d->outcomes[i].delivered_ms,
                        };
                for (size_t i = 0; i < ns; i++)
                        t[i] = (struct store_trace_step){
                            .correlation_id = d->steps[i].correlation_id,
                            .step = d->steps[i].step,
                            .at_ms = d->steps[i].at_ms,
                            .detail = d->steps[i].detail,
                        };
                d->writing = true;
                d->n_writing_outcomes = no;
                d->n_writing_steps = ns;
                rc = store_outbox_record(d->store, o, no, t, ns, on_recorded, d);
        }
        free(o);
        free(t);
        if (rc == 0)
                d->store_pending++;
        if (rc != 0) {
                d->writing = false;
                d->n_writing_outcomes = d->n_writing_steps = 0;
                struct timeval tv = {1, 0};
                evtimer_add(d->retry_ev, &tv);
        }
}

void outcomes_free_all(struct delivery *d)
{
        for (size_t i = 0; i < d->n_outcomes; i++) {
                if (d->outcomes[i].msg)
                        msg_forget(d, d->outcomes[i].msg);
                outcome_clear(&d->outcomes[i]);
        }
        for (size_t i = 0; i < d->n_steps; i++)
                step_clear(&d->steps[i]);
        free(d->outcomes);
        free(d->steps);
        d->outcomes = NULL;
        d->steps = NULL;
        d->n_outcomes = d->n_steps = 0;
}

static void on_counts(void *arg, struct store_outbox_count *c, size_t n, const char *error)
{
        struct delivery *d = arg;
        d->store_pending--;
        refresh_pace_ended(&d->counts_pace, refresh_pace_now_ms());
        if (d->shutting_down)
                delivery_maybe_finished(d);
        if (error || d->metrics == NULL) {
                store_outbox_counts_free(c, n);
                return;
        }
        metric_family_reset(d->m.outbox);
        metric_family_reset(d->m.oldest);
        /* every configured destination shows, at zero when nothing waits */
        for (struct ddest *dst = d->dests; dst; dst = dst->next) {
                if (dst->cfg == NULL)
                        continue;
                static const char *const states[] = {"pending", "failed"};
                for (size_t i = 0; i < 2; i++) {
                        const char *ls[] = {dst->name, states[i], NULL};
                        metrics_set(d->m.outbox, ls, 0);
                }
                const char *l1[] = {dst->name, NULL};
                metrics_set(d->m.oldest, l1, 0);
        }
        for (size_t i = 0; i < n; i++) {
                const char *ls[] = {c[i].destination, c[i].state, NULL};
                metrics_set(d->m.outbox, ls, (double)c[i].count);
                if (strcmp(c[i].state, "pending") == 0) {
                        const char *l1[] = {c[i].destination, NULL};
                        metrics_set(d->m.oldest, l1, c[i].oldest_s);
                }
        }
        store_outbox_counts_free(c, n);
}

void gauges_refresh(struct delivery *d)
{
        int64_t now = refresh_pace_now_ms();
        if (!d->metrics || !refresh_pace_due(&d->counts_pace, now))
                return;
        if (store_outbox_counts(d->store, on_counts, d) == 0) {
                d->store_pending++;
                refresh_pace_started(&d->counts_pace, now);
        }
}
