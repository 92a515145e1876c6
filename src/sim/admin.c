/* admin.c — what the simulator does as the plant's operator: every
 * --replay-every it asks GET /v1/messages?state=failed and replays each
 * failed message (POST /v1/messages/{id}/replay), saying so on the terminal;
 * and it reads takt_sla_breaches_total from /metrics at the start and the
 * end (the report shows the difference). */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

struct replay {
        struct sim *sim;
        char line[320]; /* what to say when the replay is accepted */
};

static void on_replayed(void *arg, int status, const char *body, size_t len)
{
        struct replay *r = arg;
        struct sim *s = r->sim;
        s->replay_in_flight--;
        if (status >= 200 && status < 300) {
                s->stats.replayed++;
                sim_say(s, "%s", r->line);
        } else if (status != 0) {
                sim_say(s, "replay refused: %d %.*s", status, (int)(len > 200 ? 200 : len), body);
        }
        free(r);
}

static void replay_one(struct sim *s, const json_t *m)
{
        char id[64], path[128];
        const json_t *jid = json_object_get(m, "id");
        if (json_is_integer(jid))
                snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, json_integer_value(jid));
        else if (json_is_string(jid) && strlen(json_string_value(jid)) < sizeof(id))
                sim_copy(id, sizeof(id), json_string_value(jid));
        else
                return;
        struct replay *r = calloc(1, sizeof(*r));
        if (r == NULL)
                return;
        r->sim = s;
        snprintf(r->line, sizeof(r->line),
                 "replayed failed message %s: %s for %s/%s to %s after %lld attempt(s) (%s)", id,
                 sim_json_str(m, "type"), sim_json_str(m, "plant"), sim_json_str(m, "work_order"),
                 sim_json_str(m, "destination"),
                 (long long)json_integer_value(json_object_get(m, "attempts")),
                 sim_json_str(m, "last_error"));
        snprintf(path, sizeof(path), "/v1/messages/%s/replay", id);
        s->replay_in_flight++;
        sim_client_call(s->client, path, "{}", &s->admin_auth, false, on_replayed, r);
}

static void on_failed_list(void *arg, int status, const char *body, size_t len)
{
        struct sim *s = arg;
        s->replay_in_flight--;
        if (status != 200) {
                if (status != 0)
                        sim_say(s, "GET /v1/messages?state=failed answered %d", status);
                return;
        }
        json_t *doc = json_loadb(body, len, 0, NULL);
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(doc, "messages"), i, m)
        {
                replay_one(s, m);
        }
        json_decref(doc);
}

static void on_replay_tick(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;
        if (s->replay_in_flight > 0 || s->phase == SIM_REPORTING)
                return;
        s->replay_in_flight++;
        sim_client_call(s->client, "/v1/messages?state=failed", NULL, &s->admin_auth, false,
                        on_failed_list, s);
}

void sim_admin_start(struct sim *s)
{
        if (s->admin_auth.token == NULL || s->opts.replay_every_ms <= 0)
                return;
        struct timeval tv = {.tv_sec = s->opts.replay_every_ms / 1000,
                             .tv_usec = (s->opts.replay_every_ms % 1000) * 1000};
        s->replay_tick = event_new(s->base, -1, EV_PERSIST, on_replay_tick, s);
        if (s->replay_tick)
                evtimer_add(s->replay_tick, &tv);
}

void sim_admin_stop(struct sim *s)
{
        if (s->replay_tick)
                evtimer_del(s->replay_tick);
}

struct sla_read {
        struct sim *sim;
        bool at_start;
        void (*done)(struct sim *s);
};

static void on_metrics(void *arg, int status, const char *body, size_t len)
{
        struct sla_read *r = arg;
        struct sim *s = r->sim;
        double v = status == 200 ? sim_metric_sum(body, len, "takt_sla_breaches_total") : -1;
        if (status == 200 && v < 0)
                v = 0; /* no breach series yet */
        if (r->at_start) {
                s->sla_at_start = v;
                if (status == 0)
                        sim_say(s, "taktd does not answer at http://%s:%d yet: retrying",
                                s->opts.taktd_host, s->opts.taktd_port);
        } else if (v >= 0) {
                s->stats.sla_breaches = v - (s->sla_at_start > 0 ? s->sla_at_start : 0);
        }
        void (*done)(struct sim *) = r->done;
        free(r);
        if (done)
                done(s);
}

void sim_admin_read_sla(struct sim *s, bool at_start, void (*done)(struct sim *s))
{
        struct sla_read *r = calloc(1, sizeof(*r));
        if (r == NULL) {
                if (done)
                        done(s);
                return;
        }
        *r = (struct sla_read){.sim = s, .at_start = at_start, .done = done};
        sim_client_call(s->client, "/metrics", NULL, &s->admin_auth, false, on_metrics, r);
}
