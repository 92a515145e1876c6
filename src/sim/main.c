/* main.c — takt-sim: plays an ERP and the MES of one or more plants against
 * a running taktd (see sim_usage(), docs/operations.md). Phases: RUNNING
 * (releasing for --duration), DRAINING (no new orders; waits up to --drain
 * for every order to close and the totals to meet), REPORTING (reads the SLA
 * breaches, prints the report, leaves the loop). SIGINT moves one phase on,
 * SIGTERM goes straight to the report. Exit: 0, 1 (--check failed), 2 (usage
 * or missing credentials), 3 (cannot listen). */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

int64_t sim_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sim_plant_by_code(const struct sim *s, const char *code)
{
        for (int i = 0; i < s->opts.nplants; i++) {
                if (strcmp(s->opts.plants[i].code, code) == 0)
                        return i;
        }
        return -1;
}

struct sim_order *sim_order_get(struct sim *s, const char *work_order, bool create)
{
        json_t *idx = json_object_get(s->order_index, work_order);
        if (idx != NULL)
                return s->orders[json_integer_value(idx)];
        if (!create)
                return NULL;
        if (s->norders == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 256;
                struct sim_order **grown = realloc(s->orders, cap * sizeof(*grown));
                if (grown == NULL)
                        return NULL;
                s->orders = grown;
                s->cap = cap;
        }
        struct sim_order *o = calloc(1, sizeof(*o));
        if (o == NULL)
                return NULL;
        o->sim = s;
        sim_copy(o->spec.work_order, sizeof(o->spec.work_order), work_order);
        json_object_set_new(s->order_index, work_order, json_integer((json_int_t)s->norders));
        s->orders[s->norders++] = o;
        return o;
}

void sim_stats_refresh(struct sim *s)
{
        struct sim_stats *st = &s->stats;
        st->elapsed_s = (double)(sim_now_ms() - s->start_ms) / 1000.0;
        st->closed = st->open = 0;
        st->releases_unanswered = s->releases_pending;
        st->open_sample[0] = '\0';
        for (size_t i = 0; i < s->norders; i++) {
                const struct sim_order *o = s->orders[i];
                if (!o->released)
                        continue;
                if (o->closed) {
                        st->closed++;
                        continue;
                }
                if (st->open++ < 5) {
                        size_t n = strlen(st->open_sample);
                        snprintf(st->open_sample + n, sizeof(st->open_sample) - n, "%s%s/%s",
                                 n ? ", " : "", o->spec.plant, o->spec.work_order);
                }
        }
        if (st->open > 5) {
                size_t n = strlen(st->open_sample);
                snprintf(st->open_sample + n, sizeof(st->open_sample) - n, ", ...");
        }
}

void sim_say(struct sim *s, const char *fmt, ...)
{
        va_list ap;
        if (s->progress_tty)
                fputs("\r\033[K", stderr);
        fputs("takt-sim: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static const char *phase_name(enum sim_phase p)
{
        return p == SIM_RUNNING ? "running " : p == SIM_DRAINING ? "draining" : "done    ";
}

static void report_and_exit(struct sim *s)
{
        sim_stats_refresh(s);
        if (s->progress_tty)
                fputs("\r\033[K", stderr);
        if (s->opts.json) {
                json_t *r = sim_report_json(&s->stats);
                json_dumpf(r, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
                json_decref(r);
        } else {
                sim_report_print(stdout, &s->stats);
        }
        fflush(stdout);
        s->exit_code = s->opts.check && !sim_stats_ok(&s->stats) ? 1 : 0;
        event_base_loopexit(s->base, NULL);
}

static void finish(struct sim *s)
{
        if (s->phase == SIM_REPORTING)
                return;
        s->phase = SIM_REPORTING;
        sim_erp_stop_releasing(s);
        sim_admin_stop(s);
        sim_mes_stop(s);
        if (s->phase_timer)
                evtimer_del(s->phase_timer);
        sim_admin_read_sla(s, false, report_and_exit);
}

static void on_phase_timer(evutil_socket_t fd, short what, void *arg);

static void arm_phase_timer(struct sim *s, int64_t ms)
{
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        if (s->phase_timer == NULL)
                s->phase_timer = evtimer_new(s->base, on_phase_timer, s);
        if (s->phase_timer)
                evtimer_add(s->phase_timer, &tv);
}

static void start_drain(struct sim *s)
{
        if (s->phase != SIM_RUNNING)
                return;
        s->phase = SIM_DRAINING;
        sim_erp_stop_releasing(s);
        sim_say(s, "released for %.0f s; draining (up to %lld s) until every order is closed",
                (double)(sim_now_ms() - s->start_ms) / 1000.0,
                (long long)(s->opts.drain_ms / 1000));
        arm_phase_timer(s, s->opts.drain_ms);
}

static void on_phase_timer(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;
        if (s->phase == SIM_RUNNING)
                start_drain(s);
        else
                finish(s);
}

static bool drained(struct sim *s)
{
        if (s->stats.open != 0 || s->releases_pending != 0)
                return false;
        for (size_t i = 0; i < s->norders; i++) {
                if (s->orders[i]->mes_playing)
                        return false;
        }
        for (int i = 0; i < s->stats.nplants; i++) {
                if (!sim_totals_equal(&s->stats.mes[i], &s->stats.erp[i]))
                        return false;
        }
        return true;
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;
        char line[256];
        static const int plain_every = 10; /* seconds between plain progress lines */
        sim_stats_refresh(s);
        if (s->phase == SIM_DRAINING && drained(s)) {
                finish(s);
                return;
        }
        if (s->opts.quiet)
                return;
        sim_progress_format(line, sizeof(line), &s->stats, phase_name(s->phase));
        if (s->progress_tty)
                fprintf(stderr, "\r\033[K%s", line);
        else if ((long)s->stats.elapsed_s % plain_every == 0)
                fprintf(stderr, "%s\n", line);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        struct sim *s = arg;
        if (sig == SIGINT && s->phase == SIM_RUNNING)
                start_drain(s);
        else
                finish(s);
}

/* Credentials from the environment; false (with a message) when one that
 * is needed is missing. */
static bool credential(const char *token_env, const char *hmac_env, struct sim_auth *out,
                       const char *who)
{
        out->token = token_env[0] ? getenv(token_env) : NULL;
        out->secret = hmac_env[0] ? getenv(hmac_env) : NULL;
        if (out->token != NULL || out->secret != NULL)
                return true;
        fprintf(stderr,
                "takt-sim: %s: $%s is not set (the demo's values: set -a; . conf/demo.env; "
                "set +a)\n",
                who, token_env[0] ? token_env : hmac_env);
        return false;
}

static bool setup(struct sim *s)
{
        bool ok = credential(s->opts.erp_token_env, s->opts.erp_hmac_env, &s->erp_auth,
                             s->opts.erp_source);
        for (int i = 0; i < s->opts.nplants; i++) {
                const struct sim_plant_opts *p = &s->opts.plants[i];
                ok = credential(p->token_env, p->hmac_env, &s->mes_auth[i], p->mes_source) && ok;
                s->mes_codec[i] = sim_mes_codec_find(p->mes_dialect);
                s->stats.nplants = s->opts.nplants;
                sim_copy(s->stats.plants[i], sizeof(s->stats.plants[i]), p->code);
        }
        s->erp_codec = sim_erp_codec_find(s->opts.erp_dialect);
        s->admin_auth.token = getenv(s->opts.admin_token_env);
        s->may_reject = s->admin_auth.token != NULL && s->opts.replay_every_ms > 0;
        if (!s->may_reject)
                fprintf(stderr, "takt-sim: $%s not set: no replays, so no 400 faults\n",
                        s->opts.admin_token_env);
        s->order_index = json_object();
        s->seen_keys = json_object();
        s->faulted = json_object();
        s->stats.sla_breaches = -1;
        s->sla_at_start = -1;
        return ok;
}

static void teardown(struct sim *s)
{
        sim_server_stop(s);
        sim_client_free(s->client);
        struct event **evs[] = {&s->release_tick, &s->progress_tick, &s->replay_tick,
                                &s->phase_timer,  &s->sigint_ev,     &s->sigterm_ev};
        for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
                if (*evs[i])
                        event_free(*evs[i]);
        }
        for (size_t i = 0; i < s->norders; i++) {
                if (s->orders[i]->step)
                        event_free(s->orders[i]->step);
                free(s->orders[i]);
        }
        free(s->orders);
        json_decref(s->order_index);
        json_decref(s->seen_keys);
        json_decref(s->faulted);
        if (s->base)
                event_base_free(s->base);
}

static void start(struct sim *s)
{
        struct timeval second = {.tv_sec = 1, .tv_usec = 0};
        s->progress_tick = event_new(s->base, -1, EV_PERSIST, on_progress, s);
        s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s);
        s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s);
        if (s->progress_tick)
                evtimer_add(s->progress_tick, &second);
        if (s->sigint_ev)
                evsignal_add(s->sigint_ev, NULL);
        if (s->sigterm_ev)
                evsignal_add(s->sigterm_ev, NULL);
        sim_say(s,
                "serving MES/ERP destinations on http://%s:%d/, driving taktd at http://%s:%d "
                "(%d plant(s), %.3g orders/s, seed %llu)",
                s->opts.listen_addr, s->opts.listen_port, s->opts.taktd_host, s->opts.taktd_port,
                s->opts.nplants, s->opts.rate, (unsigned long long)s->opts.seed);
        sim_erp_start(s);
        sim_admin_start(s);
        if (s->opts.duration_ms > 0)
                arm_phase_timer(s, s->opts.duration_ms);
}

int main(int argc, char **argv)
{
        struct sim sim = {0}; /* the one context */
        struct sim *s = &sim;
        char err[256];
        switch (sim_args_parse(argc, argv, &s->opts, err, sizeof(err))) {
        case SIM_ARGS_HELP:
                sim_usage(stdout);
                return 0;
        case SIM_ARGS_ERROR:
                fprintf(stderr, "takt-sim: %s\n", err);
                sim_usage(stderr);
                return 2;
        case SIM_ARGS_OK:
                break;
        }
        if (s->opts.seed == 0)
                s->opts.seed = (uint64_t)sim_now_ms() ^ ((uint64_t)getpid() << 32);
        sim_rng_seed(&s->rng, s->opts.seed);
        s->progress_tty = !s->opts.quiet && isatty(STDERR_FILENO);
        s->start_ms = sim_now_ms();
        signal(SIGPIPE, SIG_IGN);
        if (!setup(s)) {
                teardown(s);
                return 2;
        }
        s->base = event_base_new();
        s->client =
            s->base ? sim_client_new(s->base, s->opts.taktd_host, s->opts.taktd_port) : NULL;
        if (s->client == NULL || !sim_server_start(s, err, sizeof(err))) {
                fprintf(stderr, "takt-sim: %s\n", s->client ? err : "cannot start the event loop");
                teardown(s);
                return 3;
        }
        sim_admin_read_sla(s, true, start);
        event_base_dispatch(s->base);
        sim_client_shutdown(s->client);
        int rc = s->exit_code;
        teardown(s);
        return rc;
}
