/* main.c — taktd: the command line (contract §7), start-up, signals, reload
 * and shutdown. It owns struct takt, the one context every module gets its
 * parts from, and wires the modules together:
 *
 *   http -> ingest (dialect, canon, router, orchestrator) -> store (COMMIT)
 *        -> delivery (HTTP, Kafka) -> ingest (delivered: dispatched/closed)
 *
 * Two threads: the main loop runs everything but delivery, which runs on
 * the delivery worker's loop (takt/delivery_worker.h); they exchange
 * messages only. Configuration generations stay alive until exit because
 * both loops point into them.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "takt/admin.h"
#include "takt/config.h"
#include "takt/delivery_worker.h"
#include "takt/dialect.h"
#include "takt/http.h"
#include "takt/ingest.h"
#include "takt/log.h"
#include "takt/metrics.h"
#include "takt/sd_notify.h"
#include "takt/store.h"

#include "api/gauges.h"
#include "api/pruner.h"

#define DEFAULT_CONFIG "/etc/takt/taktd.yaml"

/* A loaded configuration and the dialects it names. Every generation stays
 * alive until exit, because requests and deliveries in flight may point into
 * an older one; a reload is rare and a generation is small. */
struct generation {
        struct takt_config *cfg;
        struct dialect_set *dialects;
        struct generation *older;
};

struct takt {
        struct event_base *base;
        struct generation *gen; /* current; owns the chain of older ones */
        struct metrics *metrics;
        struct store *store;
        struct delivery_worker *delivery;
        struct ingest *ingest;
        struct admin *admin;
        struct gauges *gauges;
        struct pruner *pruner;
        struct http_server *http;
        struct event *sig_term, *sig_int, *sig_hup, *watchdog, *drain_timer;
        bool stopping;
        bool delivery_drained;
        bool was_ready; /* the store has been ready since start */
        int exit_code;  /* of run_daemon once the loop ends */
        double stop_deadline;
};

static void usage(FILE *out)
{
        fprintf(out,
                "usage: taktd [--config FILE] [--foreground]          run the daemon\n"
                "       taktd --check-config [--config FILE]          validate and exit 0/1\n"
                "       taktd --migrate [--config FILE]               create/upgrade the schema\n"
                "       taktd --replay [--message ID | --destination NAME | --plant CODE |\n"
                "                      --all-failed] [--dry-run]      failed -> pending\n"
                "       taktd --version | --help\n"
                "\n"
                "The default config is " DEFAULT_CONFIG ". TAKT_PG_CONNINFO overrides\n"
                "postgres.conninfo. See taktd(8) and docs/ for the whole reference.\n");
}

/* Load a config and its dialects; NULL with err on failure. */
static struct generation *generation_load(const char *path, char *err, size_t errlen)
{
        struct takt_config *cfg = takt_config_load(path, err, errlen);
        if (!cfg)
                return NULL;
        struct dialect_set *dialects = dialect_set_load(cfg, err, errlen);
        if (!dialects) {
                takt_config_free(cfg);
                return NULL;
        }
        struct generation *g = calloc(1, sizeof(*g));
        g->cfg = cfg;
        g->dialects = dialects;
        return g;
}

static void generations_free(struct generation *g)
{
        while (g) {
                struct generation *older = g->older;
                dialect_set_free(g->dialects);
                takt_config_free(g->cfg);
                free(g);
                g = older;
        }
}

/* ---- signals and lifecycle ---- */

/* The store logs its own readiness changes; here they start work. A
 * schema newer than this build is fatal at start-up (an older build must
 * not write into it); found later, it only keeps the daemon not ready. */
static void on_store_ready(void *arg, bool ready, const char *reason)
{
        struct takt *t = arg;
        if (!ready) {
                if (!t->was_ready && store_schema_too_new(t->store)) {
                        log_error("daemon.start_refused", "reason=\"%s\"", reason ? reason : "");
                        t->exit_code = 1;
                        event_base_loopexit(t->base, NULL);
                }
                return;
        }
        t->was_ready = true; /* delivery resumes on its own store's readiness */
        ingest_resume_sla(t->ingest);
}

static void on_delivered(void *arg, const struct store_outbox_row *row,
                         const struct takt_destination *dest)
{
        struct takt *t = arg;
        ingest_delivered(t->ingest, row, dest);
}

static void on_reload(evutil_socket_t fd, short what, void *arg)
{
        struct takt *t = arg;
        const struct takt_config *old = t->gen->cfg;
        char err[1024];
        sd_notify_send("RELOADING=1");
        struct generation *g = generation_load(old->path, err, sizeof(err));
        if (!g) {
                log_error("config.reload_refused", "error=\"%s\" keeping=previous", err);
                sd_notify_send("READY=1");
                return;
        }
        if (strcmp(g->cfg->listen.address, old->listen.address) != 0 ||
            g->cfg->listen.port != old->listen.port ||
            strcmp(g->cfg->postgres.conninfo, old->postgres.conninfo) != 0)
                log_warn("config.restart_needed",
                         "reason=\"listen and postgres settings change on restart only\"");
        g->older = t->gen;
        t->gen = g;
        takt_log_set_level(g->cfg->log_level);
        ingest_configure(t->ingest, g->cfg, g->dialects);
        admin_configure(t->admin, g->cfg);
        delivery_worker_configure(t->delivery, g->cfg, g->dialects);
        pruner_configure(t->pruner, g->cfg);
        log_info("config.reloaded", "path=%s sources=%zu destinations=%zu plants=%zu", g->cfg->path,
                 g->cfg->n_sources, g->cfg->n_destinations, g->cfg->n_plants);
        sd_notify_send("READY=1");
}

static void on_delivery_drained(void *arg)
{
        struct takt *t = arg;
        t->delivery_drained = true;
}

/* While stopping: leave the loop once accepted requests are answered and
 * delivery has drained (delivery bounds its own grace period). */
static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
        struct takt *t = arg;
        if (ingest_pending(t->ingest) == 0 && t->delivery_drained) {
                event_base_loopexit(t->base, NULL);
                return;
        }
        struct timeval tv = {0, 20000};
        evtimer_add(t->drain_timer, &tv);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
        struct takt *t = arg;
        if (t->stopping) {
                log_warn("daemon.stop_now", "signal=%d", (int)sig);
                event_base_loopexit(t->base, NULL);
                return;
        }
        t->stopping = true;
        sd_notify_send("STOPPING=1");
        log_info("daemon.stopping", "signal=%d pending_requests=%u", (int)sig,
                 ingest_pending(t->ingest));
        delivery_worker_shutdown(t->delivery, on_delivery_drained, t);
        on_drain_tick(-1, 0, t);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
        sd_notify_send("WATCHDOG=1");
}

static int run_daemon(struct takt *t)
{
        const struct takt_config *cfg = t->gen->cfg;
        char err[1024];
        t->base = event_base_new();
        t->metrics = metrics_new();
        metrics_process_register(t->metrics, TAKT_VERSION);
        t->store = store_new_for(t->base, cfg->postgres.conninfo,
                                 cfg->postgres.migrate == TAKT_MIGRATE_AUTO, t->metrics,
                                 STORE_ROLE_INGEST);
        t->delivery =
            delivery_worker_new(t->base, t->metrics, cfg, t->gen->dialects, err, sizeof(err));
        if (!t->delivery) {
                log_error("daemon.start_failed", "error=\"%s\"", err);
                return 1;
        }
        t->ingest = ingest_new(t->base, t->store, t->metrics, cfg, t->gen->dialects);
        ingest_set_delivery(t->ingest, t->delivery);
        delivery_worker_set_delivered_cb(t->delivery, on_delivered, t);
        if (delivery_worker_start(t->delivery, err, sizeof(err)) != 0) {
                log_error("daemon.start_failed", "error=\"%s\"", err);
                return 1;
        }
        t->admin = admin_new(t->store, t->metrics, cfg);
        t->gauges = gauges_new(t->base, t->store, t->metrics);
        t->pruner = pruner_new(t->base, t->store, t->metrics, cfg);

        struct http_server_opts opts = {
            .address = cfg->listen.address,
            .port = cfg->listen.port,
            .max_body = cfg->listen.max_body,
            .tls_cert = cfg->listen.tls_cert,
            .tls_key = cfg->listen.tls_key,
            .tls_client_ca = cfg->listen.tls_client_ca,
        };
        t->http = http_server_new(t->base, &opts, err, sizeof(err));
        if (!t->http) {
                log_error("daemon.start_failed", "error=\"%s\"", err);
                return 1;
        }
        ingest_register(t->ingest, t->http);
        admin_register(t->admin, t->http);

        store_set_ready_cb(t->store, on_store_ready, t);
        store_start(t->store);

        t->sig_term = evsignal_new(t->base, SIGTERM, on_stop, t);
        t->sig_int = evsignal_new(t->base, SIGINT, on_stop, t);
        t->sig_hup = evsignal_new(t->base, SIGHUP, on_reload, t);
        t->drain_timer = evtimer_new(t->base, on_drain_tick, t);
        event_add(t->sig_term, NULL);
        event_add(t->sig_int, NULL);
        event_add(t->sig_hup, NULL);
        uint64_t wd = sd_watchdog_interval_usec();
        if (wd) {
                struct timeval tv = {(time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000)};
                t->watchdog = event_new(t->base, -1, EV_PERSIST, on_watchdog, t);
                event_add(t->watchdog, &tv);
        }
        const char *bootstrap = delivery_worker_kafka_bootstrap(t->delivery);
        log_info("daemon.started", "version=%s listen=%s:%u kafka=%s config=%s", TAKT_VERSION,
                 cfg->listen.address, (unsigned)http_server_port(t->http),
                 bootstrap ? bootstrap : cfg->kafka.brokers, cfg->path);
        sd_notify_send("READY=1");
        event_base_dispatch(t->base);
        log_info("daemon.stopped", "exit_code=%d", t->exit_code);
        return t->exit_code;
}

static void takt_free(struct takt *t)
{
        /* The store first: it fails whatever is still queued while every
         * module that registered a callback is alive. */
        if (t->store)
                store_free(t->store);
        if (t->ingest)
                ingest_free(t->ingest);
        if (t->http)
                http_server_free(t->http);
        delivery_worker_free(t->delivery);
        if (t->admin)
                admin_free(t->admin);
        gauges_free(t->gauges);
        pruner_free(t->pruner);
        struct event *evs[] = {t->sig_term, t->sig_int, t->sig_hup, t->watchdog, t->drain_timer};
        for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
                if (evs[i])
                        event_free(evs[i]);
        if (t->metrics)
                metrics_free(t->metrics);
        generations_free(t->gen);
        if (t->base)
                event_base_free(t->base);
}

/* ---- one-shot commands ---- */

static int cmd_migrate(const struct takt_config *cfg)
{
        char err[1024];
        int version = 0;
        if (store_migrate_blocking(cfg->postgres.conninfo, &version, err, sizeof(err)) != 0) {
                fprintf(stderr, "taktd: migrate failed: %s\n", err);
                return 1;
        }
        printf("schema at version %d\n", version);
        return 0;
}

static int cmd_replay(const struct takt_config *cfg, const struct store_replay_selector *sel,
                      bool dry_run)
{
        char err[1024];
        long count = 0;
        if (store_replay_blocking(cfg->postgres.conninfo, sel, dry_run, &count, err, sizeof(err)) !=
            0) {
                fprintf(stderr, "taktd: replay failed: %s\n", err);
                return 1;
        }
        printf(dry_run ? "%ld failed messages would be replayed\n"
                       : "%ld failed messages replayed\n",
               count);
        return 0;
}

int main(int argc, char **argv)
{
        enum {
                OPT_CHECK = 256,
                OPT_MIGRATE,
                OPT_REPLAY,
                OPT_MESSAGE,
                OPT_DESTINATION,
                OPT_PLANT,
                OPT_ALL_FAILED,
                OPT_DRY_RUN
        };
        static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"foreground", no_argument, NULL, 'f'},
            {"check-config", no_argument, NULL, OPT_CHECK},
            {"migrate", no_argument, NULL, OPT_MIGRATE},
            {"replay", no_argument, NULL, OPT_REPLAY},
            {"message", required_argument, NULL, OPT_MESSAGE},
            {"destination", required_argument, NULL, OPT_DESTINATION},
            {"plant", required_argument, NULL, OPT_PLANT},
            {"all-failed", no_argument, NULL, OPT_ALL_FAILED},
            {"dry-run", no_argument, NULL, OPT_DRY_RUN},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *config_path = DEFAULT_CONFIG;
        bool foreground = false, dry_run = false;
        int command = 0;
        int selectors = 0;
        struct store_replay_selector sel = {0};
        int opt;
        while ((opt = getopt_long(argc, argv, "c:fVh", options, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'f':
                        foreground = true;
                        break;
                case OPT_CHECK:
                case OPT_MIGRATE:
                case OPT_REPLAY:
                        if (command && command != opt) {
                                fprintf(stderr, "taktd: choose one of --check-config, "
                                                "--migrate, --replay\n");
                                usage(stderr);
                                return 2;
                        }
                        command = opt;
                        break;
                case OPT_MESSAGE:
                        sel.message_id = optarg;
                        selectors++;
                        break;
                case OPT_DESTINATION:
                        sel.destination = optarg;
                        selectors++;
                        break;
                case OPT_PLANT:
                        sel.plant = optarg;
                        selectors++;
                        break;
                case OPT_ALL_FAILED:
                        sel.all_failed = true;
                        selectors++;
                        break;
                case OPT_DRY_RUN:
                        dry_run = true;
                        break;
                case 'V':
                        printf("taktd %s\n", TAKT_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "taktd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        if ((selectors || dry_run) && command != OPT_REPLAY) {
                fprintf(stderr, "taktd: --message, --destination, --plant, --all-failed and "
                                "--dry-run go with --replay\n");
                usage(stderr);
                return 2;
        }
        if (command == OPT_REPLAY && selectors != 1) {
                fprintf(stderr, "taktd: --replay needs exactly one of --message, --destination, "
                                "--plant, --all-failed\n");
                usage(stderr);
                return 2;
        }

        char err[1024];
        struct takt t = {0};
        t.gen = generation_load(config_path, err, sizeof(err));
        if (!t.gen) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        takt_log_set_level(t.gen->cfg->log_level);
        int rc;
        switch (command) {
        case OPT_CHECK:
                printf("%s: ok\n", t.gen->cfg->path);
                rc = 0;
                break;
        case OPT_MIGRATE:
                rc = cmd_migrate(t.gen->cfg);
                break;
        case OPT_REPLAY:
                rc = cmd_replay(t.gen->cfg, &sel, dry_run);
                break;
        default:
                if (!foreground && daemon(0, 1) != 0) {
                        fprintf(stderr, "taktd: cannot detach: %s\n", strerror(errno));
                        rc = 1;
                        break;
                }
                signal(SIGPIPE, SIG_IGN);
                rc = run_daemon(&t);
                break;
        }
        takt_free(&t);
        return rc;
}
