/* erp.c — the ERP. A timer releases work orders at --rate, round-robin over
 * the plants, encoded in the ERP's dialect and POSTed to
 * /v1/ingest/<erp source>; takt's 202 (or 200 duplicate) makes the order
 * released. Deliveries to the ERP destination are postings: decoded, added
 * to the ERP totals of their plant (server.c already dropped repeated
 * Idempotency-Keys), and a completion closes its order. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static void on_released(void *arg, int status, const char *body, size_t len)
{
        struct sim_order *o = arg;
        struct sim *s = o->sim;
        s->releases_pending--;
        if (status >= 200 && status < 300) {
                o->released = true;
                s->stats.released++;
                return;
        }
        s->stats.release_rejected++;
        if (s->stats.release_rejected <= 5)
                sim_say(s, "takt refused the release of %s/%s: %d %.*s", o->spec.plant,
                        o->spec.work_order, status, (int)(len > 300 ? 300 : len), body);
}

static void release_one(struct sim *s)
{
        char number[32], path[160];
        int plant = s->next_plant;
        s->next_plant = (s->next_plant + 1) % s->opts.nplants;
        /* unique across runs against the same database: seconds since the
         * epoch (mod 10^7) and a sequence number */
        snprintf(number, sizeof(number), "%07lld%05ld", (long long)(s->start_ms / 1000) % 10000000,
                 ++s->next_order);
        struct sim_order *o = sim_order_get(s, number, true);
        if (o == NULL)
                return;
        o->plant = plant;
        sim_order_generate(&s->rng, s->opts.plants[plant].code, number, sim_now_ms(), &o->spec);
        json_t *msg = s->erp_codec->encode_release(&o->spec);
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
        if (text == NULL)
                return;
        snprintf(path, sizeof(path), "/v1/ingest/%s", s->opts.erp_source);
        s->releases_pending++;
        sim_client_call(s->client, path, text, &s->erp_auth, true, on_released, o);
        free(text);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;
        if (s->phase == SIM_RUNNING)
                release_one(s);
}

void sim_erp_start(struct sim *s)
{
        double period = 1.0 / s->opts.rate;
        struct timeval tv = {.tv_sec = (time_t)period,
                             .tv_usec = (suseconds_t)((period - (double)(time_t)period) * 1e6)};
        s->release_tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
        if (s->release_tick)
                evtimer_add(s->release_tick, &tv);
        release_one(s); /* the first at once */
}

void sim_erp_stop_releasing(struct sim *s)
{
        if (s->release_tick)
                evtimer_del(s->release_tick);
}

int sim_erp_on_posting(struct sim *s, const char *type, const char *key, const json_t *body)
{
        struct sim_posting p;
        if (!s->erp_codec->decode_posting(type, body, &p)) {
                sim_say(s, "ERP could not read a %s posting (%s)", type, key);
                return 400;
        }
        if (p.kind == SIM_POST_OTHER)
                return 200;
        int plant = sim_plant_by_code(s, p.plant);
        struct sim_order *o = sim_order_get(s, p.work_order, false);
        if (plant < 0 || o == NULL) {
                /* e.g. an earlier run's order, delivered late from takt's outbox */
                if (s->stats.foreign++ == 0)
                        sim_say(s, "ERP got a %s for %s/%s, not an order of this run: not counted",
                                type, p.plant, p.work_order);
                return 200;
        }
        sim_totals_add(&s->stats.erp[plant], &p);
        if (p.kind == SIM_POST_COMPLETE)
                o->closed = true;
        return 200;
}
