/* runtime.h — takt-sim's evented half, one libevent loop, one thread:
 *   client.c  HTTP calls to taktd (a few keep-alive connections, bearer or
 *             HMAC auth, retries with backoff for 5xx / connection errors)
 *   server.c  the MES and ERP destinations on --listen, with fault injection
 *   erp.c     releases work orders at --rate; takes the ERP postings
 *   mes.c     plays each plant's MES for every release it receives
 *   admin.c   replays failed messages; reads SLA breaches from /metrics
 *   main.c    start-up, phases (run, drain, report), signals, progress line
 * Everything hangs off one struct sim owned by main(). */
#ifndef TAKT_SIM_RUNTIME_H
#define TAKT_SIM_RUNTIME_H

#include <event2/event.h>
#include <event2/http.h>

#include "sim.h"

struct sim_client;

/* A credential for one source: bearer token, or HMAC secret (or neither). */
struct sim_auth {
        const char *token;  /* borrowed from the environment */
        const char *secret; /* borrowed from the environment */
};

/* status 0: no answer (connection failed, or gave up). body is only valid
 * during the call. */
typedef void (*sim_http_cb)(void *arg, int status, const char *body, size_t len);

struct sim_client *sim_client_new(struct event_base *base, const char *host, int port);
void sim_client_free(struct sim_client *c);
/* Stop retrying: every waiting retry answers status 0 at once. */
void sim_client_shutdown(struct sim_client *c);
/* POST (body != NULL, copied) or GET. With retry, 5xx/429/no answer are retried
 * with backoff until sim_client_shutdown(). cb may be NULL. */
void sim_client_call(struct sim_client *c, const char *path, const char *body,
                     const struct sim_auth *auth, bool retry, sim_http_cb cb, void *arg);
/* X-Takt-Signature value for body at unix time t. buf >= 96 bytes. */
void sim_hmac_signature(const char *secret, long long t, const char *body, size_t len, char *buf,
                        size_t buflen);

/* One work order, seen from both sides. Owned by struct sim's table. */
struct sim_order {
        struct sim *sim;
        int plant;                  /* index into opts.plants */
        struct sim_order_spec spec; /* as released (ERP), or as received (MES) */
        bool released;              /* takt accepted the release */
        bool closed;                /* the ERP got the completion */
        bool mes_playing;           /* the MES got the release and works on it */
        int nplan, next;
        struct sim_event plan[SIM_MAX_EVENTS];
        struct event *step; /* the MES's next step; owned */
};

enum sim_phase { SIM_RUNNING, SIM_DRAINING, SIM_REPORTING };

struct sim_held; /* a request answered late (timeout fault), server.c */

struct sim {
        struct event_base *base;
        struct sim_opts opts;
        struct sim_rng rng;
        enum sim_phase phase;
        int64_t start_ms;
        struct sim_client *client;
        struct evhttp *http;
        struct sim_auth erp_auth, admin_auth;
        struct sim_auth mes_auth[SIM_MAX_PLANTS];
        const struct sim_erp_codec *erp_codec;
        const struct sim_mes_codec *mes_codec[SIM_MAX_PLANTS];
        bool may_reject; /* 400 faults only when replays are possible */

        struct sim_order **orders; /* owned, each owned */
        size_t norders, cap;
        json_t *order_index; /* work order -> index into orders */
        json_t *seen_keys;   /* Idempotency-Keys answered 2xx: "dest/key" -> true */
        json_t *faulted;     /* keys answered 400 once: "dest/key" -> true */
        long next_order;
        int next_plant;

        struct sim_held *held; /* list, owned */
        struct sim_stats stats;
        double sla_at_start; /* -1 unknown */
        int replay_in_flight;
        int releases_pending; /* releases not yet answered by takt */

        struct event *release_tick, *progress_tick, *replay_tick, *phase_timer;
        struct event *sigint_ev, *sigterm_ev;
        bool progress_tty;
        int exit_code;
};

int64_t sim_now_ms(void);
/* Looks up or adds an order; NULL when the table cannot grow. */
struct sim_order *sim_order_get(struct sim *s, const char *work_order, bool create);
/* Prints a log line (above the progress line on a terminal). */
void sim_say(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sim_plant_by_code(const struct sim *s, const char *code);

bool sim_server_start(struct sim *s, char *err, size_t errlen);
void sim_server_stop(struct sim *s); /* answers held requests, frees the server */

void sim_erp_start(struct sim *s);
void sim_erp_stop_releasing(struct sim *s);
/* A delivery to the ERP destination: HTTP status to answer. */
int sim_erp_on_posting(struct sim *s, const char *type, const char *key, const json_t *body);

/* A delivery to plant's MES destination: HTTP status to answer. */
int sim_mes_on_delivery(struct sim *s, int plant, const char *type, const json_t *body);
void sim_mes_stop(struct sim *s); /* cancels MES step timers */

void sim_admin_start(struct sim *s);
void sim_admin_stop(struct sim *s);
/* Reads takt_sla_breaches_total; cb(s) when done (value in s->stats). */
void sim_admin_read_sla(struct sim *s, bool at_start, void (*done)(struct sim *s));

/* Recomputes closed/open and the open sample. */
void sim_stats_refresh(struct sim *s);

#endif
