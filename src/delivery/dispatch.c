/* dispatch.c — turning ready lanes into attempts and attempts into
 * outcomes: the per-destination pump (max_in_flight, circuit breaker), body
 * rendering through the destination's dialect, and the handling of every
 * attempt report (delivered, retry with backoff, failed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "takt/json_text.h"
#include "takt/log.h"

/* takt_delivery_breaker_open follows the breaker after every decision. */
void dispatch_breaker_gauge(struct delivery *d, const struct ddest *dst)
{
        if (d->metrics) {
                const char *labels[] = {dst->name};
                metrics_set(d->m.breaker_open, labels,
                            dst->breaker.state == BREAKER_CLOSED ? 0 : 1);
        }
}

static uint64_t next_random(struct delivery *d)
{
        /* xorshift64*: jitter only, not security */
        d->rng ^= d->rng >> 12;
        d->rng ^= d->rng << 25;
        d->rng ^= d->rng >> 27;
        return d->rng * 2685821657736338717ULL;
}

void dispatch_kick(struct delivery *d)
{
        event_active(d->kick_ev, EV_TIMEOUT, 0);
}

void dispatch_arm_breaker(struct delivery *d, struct ddest *dst)
{
        if (dst->breaker.state != BREAKER_OPEN)
                return;
        int64_t wait = dst->breaker.open_until_ms - delivery_now_ms();
        if (wait < 0)
                wait = 0;
        struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
        evtimer_add(dst->breaker_timer, &tv);
}

static const char *const *labels2(const char *a, const char *b, const char *buf[3])
{
        buf[0] = a;
        buf[1] = b;
        buf[2] = NULL;
        return buf;
}

static char *error_text(int status, const char *error, const char *body)
{
        json_t *e = json_object();
        if (status)
                json_object_set_new(e, "status", json_integer(status));
        if (error)
                json_object_set_new(e, "error", json_string(error));
        if (body && *body) {
                json_t *b = json_string(body);
                if (b == NULL) /* not UTF-8: keep it visible but valid */
                        b = json_string("(binary answer)");
                json_object_set_new(e, "body", b);
        }
        char *s = json_text(e);
        json_decref(e);
        return s;
}

/* One attempt ended (or could not start: admitted false, e.g. a mapping
 * error); r->id names m. */
static void finish_attempt(struct delivery *d, struct dmsg *m, const struct attempt_report *r,
                           bool admitted)
{
        struct lane *l = m->lane;
        struct ddest *dst = l->dest;
        if (m->in_flight) {
                m->in_flight = false;
                l->in_flight = false;
                dst->in_flight--;
                d->n_in_flight--;
        }
        int64_t now = delivery_now_ms();
        double secs = (double)(delivery_mono_ms() - m->started_ms) / 1000.0;
        int attempts = m->row.attempts + 1;
        const char *lb[3];
        if (d->metrics) {
                metrics_inc(d->m.attempts, labels2(dst->name, attempt_result_name(r->result), lb));
                if (admitted)
                        metrics_observe(d->m.duration, labels2(dst->name, NULL, lb), secs);
        }
        if (admitted && dst->cfg &&
            breaker_record(&dst->breaker, &dst->cfg->breaker, r->result, now)) {
                log_warn("delivery.breaker_open", "destination=%s failures=%u open_ms=%llu",
                         dst->name, dst->breaker.consecutive_failures,
                         (unsigned long long)dst->cfg->breaker.open_ms);
                dispatch_arm_breaker(d, dst);
        }
        dispatch_breaker_gauge(d, dst);
        char *err =
            r->result == ATTEMPT_DELIVERED ? NULL : error_text(r->status, r->error, r->body);
        json_t *detail = json_pack("{s:s, s:I, s:i, s:s, s:f}", "destination", dst->name, "id",
                                   (json_int_t)m->row.id, "attempt", attempts, "result",
                                   attempt_result_name(r->result), "duration_s", secs);
        if (detail && r->status)
                json_object_set_new(detail, "status", json_integer(r->status));
        if (detail && r->error)
                json_object_set_new(detail, "error", json_string(r->error));
        step_add(d, m->row.correlation_id, "attempt", detail);

        /* a destination removed by a reload keeps its message pending */
        static const struct takt_retry removed = {.initial_ms = 500, .max_ms = 300000};
        const struct takt_retry *retry = dst->cfg ? &dst->cfg->retry : &removed;
        unsigned max_attempts = retry->max_attempts;
        if (r->result == ATTEMPT_DELIVERED) {
                lane_remove_head(l);
                if (d->metrics)
                        metrics_observe(d->m.end_to_end, labels2(dst->name, NULL, lb),
                                        (double)(now - m->row.created_ms) / 1000.0);
                step_add(d, m->row.correlation_id, "delivered",
                         json_pack("{s:s, s:I, s:i}", "destination", dst->name, "id",
                                   (json_int_t)m->row.id, "attempts", attempts));
                outcome_add(d, m, "delivered", attempts, 0, NULL, now, true);
                lane_update(d, l);
        } else if (r->result == ATTEMPT_RETRY &&
                   (max_attempts == 0 || (unsigned)attempts < max_attempts)) {
                uint64_t delay =
                    backoff_delay_ms(retry, attempts, next_random(d), r->retry_after_ms);
                m->row.attempts = attempts;
                m->row.next_attempt_ms = now + (int64_t)delay;
                log_debug("delivery.retry", "destination=%s id=%lld attempt=%d delay_ms=%llu",
                          dst->name, (long long)m->row.id, attempts, (unsigned long long)delay);
                outcome_add(d, m, "pending", attempts, m->row.next_attempt_ms, err, 0, false);
                lane_update(d, l);
        } else {
                lane_remove_head(l);
                log_warn("delivery.failed", "destination=%s id=%lld attempts=%d error=\"%s\"",
                         dst->name, (long long)m->row.id, attempts, r->error ? r->error : "");
                step_add(d, m->row.correlation_id, "failed",
                         json_pack("{s:s, s:I, s:i, s:s?}", "destination", dst->name, "id",
                                   (json_int_t)m->row.id, "attempts", attempts, "error", r->error));
                int64_t id = m->row.id;
                outcome_add(d, m, "failed", attempts, 0, err, 0, true);
                lane_block(d, l, id, false);
        }
        free(err);
        if (d->shutting_down)
                delivery_maybe_finished(d);
        dispatch_kick(d);
}

void dispatch_attempt_done(void *arg, const struct attempt_report *r)
{
        struct delivery *d = arg;
        if (d->grace_over)
                return; /* past shutdown_grace: the row stays pending */
        struct dmsg *m = msg_find(d, r->id);
        if (m == NULL || !m->in_flight || m->lane == NULL)
                return; /* cancelled or unknown: nothing to record */
        finish_attempt(d, m, r, true);
}

/* The body for the destination: its dialect for HTTP, the canonical
 * envelope for Kafka. The canonical envelope goes out as the text it was
 * stored as when that is known (no parse, no dump); a dialect needs the
 * JSON. NULL with *error set on a mapping error. */
static char *render(struct ddest *dst, struct dmsg *m, char *error, size_t errlen)
{
        const struct store_outbox_row *row = &m->row;
        bool as_is = dst->cfg->type != TAKT_DEST_HTTP || dst->dialect == NULL;
        if (as_is && row->envelope_text) {
                char *body = strdup(row->envelope_text);
                if (body == NULL)
                        snprintf(error, errlen, "out of memory");
                return body;
        }
        json_t *env = store_outbox_row_envelope(row);
        if (env == NULL) {
                snprintf(error, errlen, "no envelope");
                return NULL;
        }
        json_t *out = env;
        if (!as_is) {
                struct canon_errors errs = {0};
                out = dialect_outbound(dst->dialect, env, &errs);
                json_decref(env);
                if (out == NULL) {
                        int n = snprintf(error, errlen, "mapping: %.100s ",
                                         errs.count ? errs.items[0].path : "");
                        if (n > 0 && (size_t)n < errlen)
                                snprintf(error + n, errlen - (size_t)n, "%.120s",
                                         errs.count ? errs.items[0].message : "failed");
                        return NULL;
                }
        }
        char *body = json_text(out);
        json_decref(out);
        if (body == NULL)
                snprintf(error, errlen, "cannot encode the body");
        return body;
}

static int start(struct delivery *d, struct ddest *dst, struct dmsg *m, const char *body,
                 char *error, size_t errlen)
{
        if (dst->cfg->type == TAKT_DEST_HTTP) {
                if (dst->http == NULL) {
                        snprintf(error, errlen, "no http target");
                        return -1;
                }
                if (http_target_send(dst->http, &m->row, body, strlen(body)) != 0) {
                        snprintf(error, errlen, "connection error");
                        return -1;
                }
                return 0;
        }
        if (d->kafka == NULL) {
                snprintf(error, errlen, "no kafka producer");
                return -1;
        }
        return kafka_out_send(d->kafka, dst->topic, &m->row, body, strlen(body), error, errlen);
}

static void pump(struct delivery *d, struct ddest *dst)
{
        while (dst->ready_head && dst->cfg && !d->shutting_down) {
                if (dst->in_flight >= takt_dest_max_in_flight(dst->cfg))
                        return;
                struct lane *l = dst->ready_head;
                struct dmsg *m = l->head;
                char error[256] = "";
                char *body = render(dst, m, error, sizeof(error));
                if (body == NULL) {
                        m->started_ms = delivery_mono_ms();
                        struct attempt_report r = {
                            .id = m->row.id, .result = ATTEMPT_FAILED, .error = error};
                        finish_attempt(d, m, &r, false);
                        continue;
                }
                bool admitted = breaker_admit(&dst->breaker, &dst->cfg->breaker, delivery_now_ms());
                dispatch_breaker_gauge(d, dst);
                if (!admitted) {
                        free(body);
                        dispatch_arm_breaker(d, dst);
                        return;
                }
                dst->ready_head = l->ready_next;
                if (dst->ready_head == NULL)
                        dst->ready_tail = NULL;
                l->ready = false;
                l->ready_next = NULL;
                l->in_flight = true;
                m->in_flight = true;
                m->started_ms = delivery_mono_ms();
                dst->in_flight++;
                d->n_in_flight++;
                int rc = start(d, dst, m, body, error, sizeof(error));
                free(body);
                if (rc != 0) {
                        struct attempt_report r = {
                            .id = m->row.id, .result = ATTEMPT_RETRY, .error = error};
                        finish_attempt(d, m, &r, true);
                }
        }
}

void dispatch_pump_all(struct delivery *d)
{
        for (struct ddest *dst = d->dests; dst; dst = dst->next)
                pump(d, dst);
}
