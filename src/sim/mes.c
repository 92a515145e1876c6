/* mes.c — each plant's MES. A delivered work_order.released (decoded in the
 * plant's MES dialect) starts the MES's plan for the order (plan.c); each
 * step waits its delay on the order's timer, is encoded in the MES dialect
 * and POSTed to /v1/ingest/<mes source>; the next step waits for takt's
 * answer, so one order's messages arrive in order. What takt accepted is
 * added to the MES totals that the ERP's must match at the end. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static void schedule(struct sim_order *o);

static void add_mes_totals(struct sim_order *o, const struct sim_event *ev)
{
        struct sim_posting p;
        if (sim_event_posting(&o->spec, ev, &p))
                sim_totals_add(&o->sim->stats.mes[o->plant], &p);
}

static void on_answer(void *arg, int status, const char *body, size_t len)
{
        struct sim_order *o = arg;
        struct sim *s = o->sim;
        const struct sim_event *ev = &o->plan[o->next];
        if (status >= 200 && status < 300) {
                s->stats.mes_accepted++;
                add_mes_totals(o, ev);
                o->next++;
                schedule(o);
                return;
        }
        s->stats.mes_rejected++;
        o->mes_playing = false;
        if (s->stats.mes_rejected <= 5 && status != 0)
                sim_say(s, "takt refused %s for %s/%s: %d %.*s", sim_ev_type(ev), o->spec.plant,
                        o->spec.work_order, status, (int)(len > 300 ? 300 : len), body);
}

static void send_step(evutil_socket_t fd, short what, void *arg)
{
        struct sim_order *o = arg;
        struct sim *s = o->sim;
        const struct sim_plant_opts *p = &s->opts.plants[o->plant];
        const struct sim_event *ev = &o->plan[o->next];
        if (ev->kind == SIM_EV_COMPLETE && p->completion == SIM_COMPLETION_OPERATION) {
                add_mes_totals(o, ev); /* takt derives it from the last final confirmation */
                o->next++;
                o->mes_playing = false;
                return;
        }
        char id[SIM_NAME + 64], path[160];
        snprintf(id, sizeof(id), "%s-%s-%02d", p->mes_source, o->spec.work_order, o->next);
        json_t *msg = s->mes_codec[o->plant]->encode_event(&o->spec, ev, id, sim_now_ms());
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
        if (text == NULL) {
                o->mes_playing = false;
                return;
        }
        snprintf(path, sizeof(path), "/v1/ingest/%s", p->mes_source);
        s->stats.mes_sent++;
        sim_client_call(s->client, path, text, &s->mes_auth[o->plant], true, on_answer, o);
        free(text);
}

static void schedule(struct sim_order *o)
{
        if (o->next >= o->nplan || o->sim->phase == SIM_REPORTING) {
                o->mes_playing = false;
                return;
        }
        int64_t ms = o->plan[o->next].delay_ms;
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        if (o->step == NULL)
                o->step = evtimer_new(o->sim->base, send_step, o);
        if (o->step == NULL || evtimer_add(o->step, &tv) != 0)
                o->mes_playing = false;
}

int sim_mes_on_delivery(struct sim *s, int plant, const char *type, const json_t *body)
{
        if (strcmp(type, "work_order.released") != 0)
                return 200; /* changes, cancellations: noted, nothing to play */
        struct sim_order_spec spec;
        if (!s->mes_codec[plant]->decode_release(body, &spec)) {
                sim_say(s, "MES %s could not read a release", s->opts.plants[plant].code);
                return 400;
        }
        if (strcmp(spec.plant, s->opts.plants[plant].code) != 0) {
                sim_say(s, "MES %s got an order for plant %s", s->opts.plants[plant].code,
                        spec.plant);
                return 400;
        }
        struct sim_order *o = sim_order_get(s, spec.work_order, true);
        if (o == NULL)
                return 503;
        if (o->mes_playing || o->nplan > 0)
                return 200; /* the same order again (new message id): already on it */
        o->plant = plant;
        o->spec = spec; /* the MES works from what it received */
        const struct sim_plant_opts *p = &s->opts.plants[plant];
        struct sim_plan_params pp = {
            .completion = p->completion,
            .scrap = p->scrap,
            .hold_rate = s->opts.hold_rate,
            .scrap_rate = s->opts.scrap_rate,
            .delay_min_ms = s->opts.delay_min_ms,
            .delay_max_ms = s->opts.delay_max_ms,
            .hold_ms = s->opts.hold_ms,
        };
        o->nplan = sim_plan_build(&s->rng, &o->spec, &pp, o->plan);
        o->next = 0;
        o->mes_playing = true;
        schedule(o);
        return 200;
}

void sim_mes_stop(struct sim *s)
{
        for (size_t i = 0; i < s->norders; i++) {
                if (s->orders[i]->step)
                        evtimer_del(s->orders[i]->step);
        }
}
