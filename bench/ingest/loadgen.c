/* loadgen.c — takt's ingest load generator (takt-loadgen).
 *
 * Posts canonical work_order.released messages (loadgen_msg.c; ~600 bytes,
 * unique ids) to one URL over N keep-alive HTTP/1.1 connections, one request
 * in flight per connection, with an optional bearer token.
 *
 * Closed loop (default): each connection sends its next message as soon as
 *   the previous one is answered; latency is answer time - send time.
 * Open loop (-r RATE): messages are due at fixed times t0 + k/RATE whether or
 *   not the server keeps up; a due message waits for a free connection, and
 *   its latency is measured from its intended send time (no coordinated
 *   omission). Messages still waiting or unanswered at the end are counted
 *   with their latency so far, as a lower bound.
 *
 * Only answers of requests intended after the warm-up count. Prints one line:
 *   mode=closed concurrency=16 rate=0 ok=.. errors=.. msgs_per_s=.. p50_ms=.. p99_ms=..
 * With -o FILE it also writes one line per counted 2xx answer,
 *   <seq> <intended send time> <answer time>
 * (CLOCK_MONOTONIC seconds; message seq has id lg-<prefix>-<seq>), which
 * bench/delivery joins with the receiver's arrival times.
 * Everything lives in one struct loadgen on main()'s stack; no globals. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "loadgen_msg.h"
#include "loadgen_stats.h"

#define MAX_CONCURRENCY 4096
#define ERRORS_SHOWN    5

struct options {
        const char *url;
        const char *token; /* may be NULL */
        const char *plant;
        const char *prefix;       /* id prefix; default from time and pid */
        const char *accepted_log; /* -o: per-message answer log; may be NULL */
        unsigned concurrency;
        double rate;       /* messages/s; 0 = closed loop */
        double duration_s; /* whole run, warm-up included */
        double warmup_s;
        double drain_s; /* how long to wait for answers after the end */
};

struct loadgen;

struct slot {
        struct loadgen *lg;
        struct evhttp_connection *conn; /* owned */
        bool busy;
        double intended; /* intended send time of the request in flight */
        uint64_t seq;    /* its message number */
};

struct loadgen {
        struct options opt;
        struct event_base *base;
        char host[256];
        int port;
        char path[1024];
        char host_header[300];
        char auth_header[1100];
        char prefix[64];
        struct slot *slots; /* owned, opt.concurrency of them */
        double t0;
        bool stopping;
        unsigned in_flight;
        uint64_t seq;        /* next message number */
        uint64_t scheduled;  /* open loop: messages due so far */
        uint64_t sent;       /* open loop: messages sent so far */
        struct event *tick;  /* open loop scheduler, owned */
        struct event *stop;  /* end of the run, owned */
        struct event *drain; /* give up waiting for answers, owned */
        uint64_t ok, http_errors, conn_errors, window_ok;
        unsigned errors_shown;
        struct loadgen_stats stats;
        FILE *accepted; /* owned; -o, or NULL */
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool in_window(const struct loadgen *lg, double intended)
{
        return intended >= lg->t0 + lg->opt.warmup_s && intended < lg->t0 + lg->opt.duration_s;
}

static void record_latency(struct loadgen *lg, double intended, double done)
{
        if (in_window(lg, intended) && !loadgen_stats_add(&lg->stats, (done - intended) * 1e3)) {
                fprintf(stderr, "loadgen: out of memory for samples\n");
                event_base_loopbreak(lg->base);
        }
}

static void send_one(struct slot *s, double intended);

/* The slot is free again: give it the next message, or end the run. */
static void next(struct slot *s)
{
        struct loadgen *lg = s->lg;
        if (lg->stopping) {
                if (lg->in_flight == 0)
                        event_base_loopexit(lg->base, NULL);
                return;
        }
        if (lg->opt.rate <= 0) {
                send_one(s, now_s());
        } else if (lg->sent < lg->scheduled) {
                send_one(s, lg->t0 + (double)lg->sent / lg->opt.rate);
                lg->sent++;
        }
}

static void show_error(struct loadgen *lg, struct evhttp_request *req, int code)
{
        if (lg->errors_shown++ >= ERRORS_SHOWN)
                return;
        char body[200] = "";
        if (req) {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                ev_ssize_t n = evbuffer_copyout(in, body, sizeof(body) - 1);
                body[n > 0 ? n : 0] = '\0';
        }
        fprintf(stderr, "loadgen: answer %d %s\n", code, code ? body : "(connection error)");
}

static void on_done(struct evhttp_request *req, void *arg)
{
        struct slot *s = arg;
        struct loadgen *lg = s->lg;
        double t = now_s();
        int code = req ? evhttp_request_get_response_code(req) : 0;

        s->busy = false;
        lg->in_flight--;
        if (code >= 200 && code < 300) {
                lg->ok++;
                if (t >= lg->t0 + lg->opt.warmup_s && t <= lg->t0 + lg->opt.duration_s)
                        lg->window_ok++;
                record_latency(lg, s->intended, t);
                if (lg->accepted && in_window(lg, s->intended))
                        fprintf(lg->accepted, "%llu %.6f %.6f\n", (unsigned long long)s->seq,
                                s->intended, t);
        } else {
                if (code == 0)
                        lg->conn_errors++;
                else
                        lg->http_errors++;
                show_error(lg, req, code);
        }
        next(s);
}

static void send_one(struct slot *s, double intended)
{
        struct loadgen *lg = s->lg;
        char body[1024];
        s->seq = lg->seq++;
        size_t len = loadgen_msg_render(body, sizeof(body), lg->prefix, lg->opt.plant, s->seq);
        struct evhttp_request *req = evhttp_request_new(on_done, s);
        if (!req || len == 0) {
                fprintf(stderr, "loadgen: cannot build a request\n");
                event_base_loopbreak(lg->base);
                return;
        }
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Host", lg->host_header);
        evhttp_add_header(h, "Content-Type", "application/json");
        if (lg->auth_header[0])
                evhttp_add_header(h, "Authorization", lg->auth_header);
        evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
        s->busy = true;
        s->intended = intended;
        lg->in_flight++;
        if (evhttp_make_request(s->conn, req, EVHTTP_REQ_POST, lg->path) != 0) {
                /* libevent has freed req */
                s->busy = false;
                lg->in_flight--;
                lg->conn_errors++;
        }
}

/* Open loop: every millisecond, mark due messages and hand them to free slots. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct loadgen *lg = arg;
        uint64_t due = (uint64_t)((now_s() - lg->t0) * lg->opt.rate);
        if (due > lg->scheduled)
                lg->scheduled = due;
        for (unsigned i = 0; i < lg->opt.concurrency && lg->sent < lg->scheduled; i++)
                if (!lg->slots[i].busy)
                        next(&lg->slots[i]);
}

/* The answers still missing when we give up count as latency so far. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
        struct loadgen *lg = arg;
        double t = now_s();
        for (unsigned i = 0; i < lg->opt.concurrency; i++)
                if (lg->slots[i].busy)
                        record_latency(lg, lg->slots[i].intended, t);
        event_base_loopexit(lg->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
        struct loadgen *lg = arg;
        double t = now_s();
        lg->stopping = true;
        if (lg->tick)
                event_del(lg->tick);
        /* open loop: messages that were due but never got a connection */
        for (uint64_t k = lg->sent; k < lg->scheduled; k++)
                record_latency(lg, lg->t0 + (double)k / lg->opt.rate, t);
        if (lg->in_flight == 0) {
                event_base_loopexit(lg->base, NULL);
                return;
        }
        struct timeval tv = {(time_t)lg->opt.drain_s, 0};
        event_add(lg->drain, &tv);
}

static void usage(FILE *f, const char *argv0)
{
        fprintf(f,
                "usage: %s -u URL [-t TOKEN] [-c CONCURRENCY] [-d SECONDS] [-r RATE]\n"
                "          [-w WARMUP_SECONDS] [-p PLANT] [-P ID_PREFIX] [-o FILE]\n"
                "  -u URL   e.g. http://127.0.0.1:8470/v1/ingest/erp\n"
                "  -t TOKEN bearer token (default: $TAKT_BENCH_TOKEN)\n"
                "  -c N     connections, one request in flight each (default 16)\n"
                "  -d S     run time including warm-up (default 10)\n"
                "  -r RATE  open loop at RATE messages/s (default 0: closed loop)\n"
                "  -w S     warm-up not measured (default 1)\n"
                "  -p PLANT plant code (default DE01)\n"
                "  -P ID    message id prefix: ids are lg-ID-<seq> (default from time, pid)\n"
                "  -o FILE  write '<seq> <intended> <answered>' (monotonic s) per counted 2xx\n",
                argv0);
}

static bool parse_options(int argc, char **argv, struct options *o)
{
        *o = (struct options){.token = getenv("TAKT_BENCH_TOKEN"),
                              .plant = "DE01",
                              .concurrency = 16,
                              .duration_s = 10,
                              .warmup_s = 1,
                              .drain_s = 10};
        int c;
        while ((c = getopt(argc, argv, "u:t:c:d:r:w:p:P:o:h")) != -1) {
                switch (c) {
                case 'u':
                        o->url = optarg;
                        break;
                case 't':
                        o->token = optarg;
                        break;
                case 'c':
                        o->concurrency = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'd':
                        o->duration_s = strtod(optarg, NULL);
                        break;
                case 'r':
                        o->rate = strtod(optarg, NULL);
                        break;
                case 'w':
                        o->warmup_s = strtod(optarg, NULL);
                        break;
                case 'p':
                        o->plant = optarg;
                        break;
                case 'P':
                        o->prefix = optarg;
                        break;
                case 'o':
                        o->accepted_log = optarg;
                        break;
                case 'h':
                        usage(stdout, argv[0]);
                        exit(0);
                default:
                        return false;
                }
        }
        return o->url && optind == argc && o->concurrency >= 1 &&
               o->concurrency <= MAX_CONCURRENCY && o->duration_s > o->warmup_s &&
               o->warmup_s >= 0 && o->rate >= 0;
}

static bool parse_url(struct loadgen *lg)
{
        struct evhttp_uri *uri = evhttp_uri_parse(lg->opt.url);
        if (!uri)
                return false;
        const char *scheme = evhttp_uri_get_scheme(uri), *host = evhttp_uri_get_host(uri);
        const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
        bool ok = scheme && strcmp(scheme, "http") == 0 && host && strlen(host) < sizeof(lg->host);
        if (ok) {
                snprintf(lg->host, sizeof(lg->host), "%s", host);
                lg->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
                snprintf(lg->path, sizeof(lg->path), "%s%s%s", path && *path ? path : "/",
                         query ? "?" : "", query ? query : "");
                snprintf(lg->host_header, sizeof(lg->host_header), "%s:%d", lg->host, lg->port);
        }
        evhttp_uri_free(uri);
        return ok;
}

static void report(struct loadgen *lg)
{
        double window = lg->opt.duration_s - lg->opt.warmup_s;
        double max = lg->stats.n ? loadgen_stats_percentile(&lg->stats, 100) : 0;
        printf("mode=%s concurrency=%u rate=%.0f ok=%llu errors=%llu conn_errors=%llu "
               "msgs_per_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f samples=%zu\n",
               lg->opt.rate > 0 ? "open" : "closed", lg->opt.concurrency, lg->opt.rate,
               (unsigned long long)lg->ok, (unsigned long long)lg->http_errors,
               (unsigned long long)lg->conn_errors, (double)lg->window_ok / window,
               loadgen_stats_percentile(&lg->stats, 50), loadgen_stats_percentile(&lg->stats, 99),
               max, lg->stats.n);
}

int main(int argc, char **argv)
{
        struct loadgen lg = {0};
        if (!parse_options(argc, argv, &lg.opt)) {
                usage(stderr, argv[0]);
                return 2;
        }
        if (!parse_url(&lg)) {
                fprintf(stderr, "loadgen: not an http:// URL: %s\n", lg.opt.url);
                return 2;
        }
        if (lg.opt.token)
                snprintf(lg.auth_header, sizeof(lg.auth_header), "Bearer %s", lg.opt.token);
        if (lg.opt.prefix)
                snprintf(lg.prefix, sizeof(lg.prefix), "%s", lg.opt.prefix);
        else
                snprintf(lg.prefix, sizeof(lg.prefix), "%lx%x", (unsigned long)time(NULL),
                         (unsigned)getpid());
        signal(SIGPIPE, SIG_IGN);

        int rc = 1;
        lg.base = event_base_new();
        lg.slots = calloc(lg.opt.concurrency, sizeof(*lg.slots));
        lg.stop = lg.base ? evtimer_new(lg.base, on_stop, &lg) : NULL;
        lg.drain = lg.base ? evtimer_new(lg.base, on_drain, &lg) : NULL;
        if (!lg.base || !lg.slots || !lg.stop || !lg.drain)
                goto out;
        if (lg.opt.accepted_log && !(lg.accepted = fopen(lg.opt.accepted_log, "w"))) {
                fprintf(stderr, "loadgen: cannot write %s\n", lg.opt.accepted_log);
                goto out;
        }
        for (unsigned i = 0; i < lg.opt.concurrency; i++) {
                struct slot *s = &lg.slots[i];
                s->lg = &lg;
                s->conn = evhttp_connection_base_new(lg.base, NULL, lg.host, (uint16_t)lg.port);
                if (!s->conn)
                        goto out;
                evhttp_connection_set_timeout(s->conn, 30);
        }

        lg.t0 = now_s();
        struct timeval end = {(time_t)lg.opt.duration_s,
                              (suseconds_t)((lg.opt.duration_s - (time_t)lg.opt.duration_s) * 1e6)};
        event_add(lg.stop, &end);
        if (lg.opt.rate > 0) {
                struct timeval ms = {0, 1000};
                lg.tick = event_new(lg.base, -1, EV_PERSIST, on_tick, &lg);
                if (!lg.tick)
                        goto out;
                event_add(lg.tick, &ms);
        } else {
                for (unsigned i = 0; i < lg.opt.concurrency; i++)
                        send_one(&lg.slots[i], lg.t0);
        }
        event_base_dispatch(lg.base);
        report(&lg);
        rc = lg.ok > 0 ? 0 : 1;
out:
        if (lg.slots)
                for (unsigned i = 0; i < lg.opt.concurrency; i++)
                        if (lg.slots[i].conn)
                                evhttp_connection_free(lg.slots[i].conn);
        free(lg.slots);
        if (lg.tick)
                event_free(lg.tick);
        if (lg.stop)
                event_free(lg.stop);
        if (lg.drain)
                event_free(lg.drain);
        if (lg.base)
                event_base_free(lg.base);
        loadgen_stats_free(&lg.stats);
        if (lg.accepted && fclose(lg.accepted) != 0)
                rc = 1;
        return rc;
}
