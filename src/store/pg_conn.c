/* pg_conn.c — one asynchronous libpq connection on the libevent loop.
 *
 * A small state machine (pg_conn.h): CONNECTING drives PQconnectPoll; IDLE
 * waits for readability only (NOTIFY, or the server going away); BUSY has
 * requests in flight. Requests go out in FIFO order in pipeline mode, each
 * as its statements and one PQpipelineSync, up to PGC_MAX_IN_FLIGHT
 * before the first one's results are back: the server goes from one to the
 * next without waiting for this loop (which may be busy for milliseconds)
 * to read an answer and send the next request. The output is flushed with
 * PQflush (waiting READ|WRITE while it returns 1); results are collected
 * per statement up to the head request's PGRES_PIPELINE_SYNC, then the next
 * request is sent and only then is the finished request's callback called.
 * Each Sync ends a request on its own: an error aborts the rest of its
 * request, never the next one (a request that opened a transaction block
 * keeps it open across its Sync, as without pipelining). The socket is
 * re-read with PQsocket() before every wait because libpq may change it
 * while connecting.
 *
 * Statements with parameters are prepared once per connection (planning
 * costs more than running the small statements takt sends): before a
 * request that uses one not yet prepared, an internal request PREPAREs them;
 * the request then uses PQsendQueryPrepared. Nothing is sent behind a
 * PREPARE until it is answered, so a statement whose PREPARE failed is sent
 * unprepared (PQsendQueryParams) and the error, if any, is the request's
 * own. A reconnect starts with no prepared statements.
 *
 * A failure anywhere (send, flush, read, connection lost) is handled in one
 * place, pgc_fail(): the socket is closed, every queued or in-flight request
 * is called back with an error, and a timer reconnects with backoff
 * (100ms doubling to 5s). Failures found inside pg_conn_submit are handed to
 * the loop first, so a submit never calls a callback. Nothing here blocks. */
#include "pg_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "store_internal.h"
#include "takt/log.h"

#define PGC_BACKOFF_MIN_MS    100
#define PGC_BACKOFF_MAX_MS    5000
#define PGC_CONNECT_TIMEOUT_S 10
#define PGC_LOG_EVERY         12 /* failed attempts in a row: warn on the 1st, 13th, ... */
#define PGC_MAX_IN_FLIGHT     8  /* requests sent before the first one is answered */

enum pgc_state {
        PGC_CONNECTING,
        PGC_IDLE,
        PGC_BUSY,
        PGC_FAILING,    /* a failure is handed to the loop (fail_ev) */
        PGC_RETRY_WAIT, /* closed, reconnect timer armed */
        PGC_CLOSING,    /* pg_conn_free() running */
};

struct pgc_stmt {
        char *sql; /* owned */
        int n_params;
        char **params;  /* owned array of owned strings (NULL = SQL NULL) */
        char pname[24]; /* prepare requests: the statement name to create */
};

/* A statement prepared on the current connection. */
struct pgc_prepared {
        struct pgc_prepared *next;
        char *sql; /* owned */
        char name[24];
};

struct pgc_req {
        struct pgc_req *next;
        struct pgc_stmt *stmts; /* owned, n of them */
        size_t n;
        PGresult **results; /* owned, n slots */
        size_t cur;         /* the statement whose results arrive now */
        char *error;        /* owned: the first error */
        pg_done_cb cb;      /* NULL for internal requests (LISTEN, PREPARE) */
        void *arg;
        bool is_prepare;    /* an internal PREPARE request */
        bool prepare_tried; /* its statements were offered for preparing */
};

struct pgc_listen {
        struct pgc_listen *next;
        char *channel; /* owned */
        pg_notify_cb cb;
        void *arg;
};

struct pg_conn {
        struct event_base *base;
        char *conninfo; /* owned */
        char *name;     /* owned */
        pg_conn_state_cb state_cb;
        void *state_arg;

        PGconn *pg; /* owned; NULL while closed */
        enum pgc_state state;
        bool was_up;           /* reached IDLE since the last (re)connect attempt */
        bool flushing;         /* PQflush returned 1: wait for write too */
        struct event *io;      /* owned: the socket, re-assigned before every wait */
        struct event *timer;   /* owned: reconnect backoff */
        struct event *fail_ev; /* owned: a failure handed to the loop */
        struct event *more_ev; /* owned: results already read wait to be collected */
        int backoff_ms;
        unsigned failures; /* connect attempts failed in a row */
        char last_error[512];

        struct pgc_req *head, *tail; /* FIFO: in flight from head, then unsent */
        struct pgc_req *unsent;      /* the first request not sent yet, or NULL */
        struct pgc_req *last_sent;   /* the last request in flight, or NULL */
        unsigned n_in_flight;
        bool prepare_in_flight;        /* nothing more is sent until it is answered */
        struct pgc_listen *listens;    /* owned list */
        struct pgc_prepared *prepared; /* owned list, for the current connection */
        unsigned next_name;            /* statement names: takt_<n> */
};

static void pgc_io_cb(evutil_socket_t fd, short what, void *arg);
static void pgc_send_more(struct pg_conn *c);

/* ---- requests ---- */

static char *xstrdup(const char *s)
{
        char *d = s ? strdup(s) : NULL;
        if (s && !d)
                abort(); /* out of memory */
        return d;
}

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                abort(); /* out of memory */
        return p;
}

static struct pgc_req *req_new(const struct pg_stmt *stmts, size_t n, pg_done_cb cb, void *arg)
{
        struct pgc_req *r = xcalloc(1, sizeof(*r));
        r->stmts = xcalloc(n, sizeof(*r->stmts));
        r->results = xcalloc(n, sizeof(*r->results));
        r->n = n;
        r->cb = cb;
        r->arg = arg;
        for (size_t i = 0; i < n; i++) {
                struct pgc_stmt *s = &r->stmts[i];
                s->sql = xstrdup(stmts[i].sql);
                s->n_params = stmts[i].n_params;
                s->params = xcalloc((size_t)s->n_params, sizeof(char *));
                for (int p = 0; p < s->n_params; p++)
                        s->params[p] = xstrdup(stmts[i].params[p]);
        }
        return r;
}

static void req_free(struct pgc_req *r)
{
        for (size_t i = 0; i < r->n; i++) {
                for (int p = 0; p < r->stmts[i].n_params; p++)
                        free(r->stmts[i].params[p]);
                free(r->stmts[i].params);
                free(r->stmts[i].sql);
                PQclear(r->results[i]);
        }
        free(r->stmts);
        free(r->results);
        free(r->error);
        free(r);
}

/* Call the request back (results then cleared) and free it. */
static void req_finish(struct pgc_req *r, const char *error)
{
        if (r->cb)
                r->cb(r->arg, (PGresult *const *)r->results, r->n, error);
        req_free(r);
}

/* ---- prepared statements ---- */

static const char *prepared_name(const struct pg_conn *c, const char *sql)
{
        for (const struct pgc_prepared *p = c->prepared; p; p = p->next)
                if (strcmp(p->sql, sql) == 0)
                        return p->name;
        return NULL;
}

static void prepared_clear(struct pg_conn *c)
{
        while (c->prepared) {
                struct pgc_prepared *p = c->prepared;
                c->prepared = p->next;
                free(p->sql);
                free(p);
        }
}

/* An internal request that PREPAREs r's parameterized statements not yet
 * prepared (each once), or NULL when there are none. */
static struct pgc_req *prepare_request_for(struct pg_conn *c, const struct pgc_req *r)
{
        size_t n = 0;
        struct pgc_stmt *todo = xcalloc(r->n, sizeof(*todo));
        for (size_t i = 0; i < r->n; i++) {
                const struct pgc_stmt *s = &r->stmts[i];
                bool seen = s->n_params == 0 || prepared_name(c, s->sql);
                for (size_t k = 0; k < n && !seen; k++)
                        seen = strcmp(todo[k].sql, s->sql) == 0;
                if (seen)
                        continue;
                todo[n].sql = xstrdup(s->sql);
                todo[n].n_params = s->n_params;
                todo[n].params = xcalloc((size_t)s->n_params, sizeof(char *)); /* unused */
                snprintf(todo[n].pname, sizeof(todo[n].pname), "takt_%u", c->next_name++);
                n++;
        }
        if (n == 0) {
                free(todo);
                return NULL;
        }
        struct pgc_req *p = xcalloc(1, sizeof(*p));
        p->stmts = todo;
        p->n = n;
        p->results = xcalloc(n, sizeof(*p->results));
        p->is_prepare = true;
        return p;
}

/* A PREPARE request finished: remember what succeeded. */
static void prepared_note(struct pg_conn *c, const struct pgc_req *r)
{
        for (size_t i = 0; i < r->n; i++) {
                if (!r->results[i] || PQresultStatus(r->results[i]) != PGRES_COMMAND_OK) {
                        log_debug("store.pg.prepare_failed", "conn=%s", c->name);
                        continue;
                }
                struct pgc_prepared *p = xcalloc(1, sizeof(*p));
                p->sql = xstrdup(r->stmts[i].sql);
                memcpy(p->name, r->stmts[i].pname, sizeof(p->name));
                p->next = c->prepared;
                c->prepared = p;
        }
}

static void enqueue(struct pg_conn *c, struct pgc_req *r)
{
        if (c->tail)
                c->tail->next = r;
        else
                c->head = r;
        c->tail = r;
        if (!c->unsent)
                c->unsent = r;
}

/* Fail every queued and in-flight request with "<prefix>: <why>". The queue
 * is detached first: callbacks may submit again (and get -1). */
static void fail_requests(struct pg_conn *c, const char *error)
{
        struct pgc_req *r = c->head;
        c->head = c->tail = c->unsent = c->last_sent = NULL;
        c->n_in_flight = 0;
        c->prepare_in_flight = false;
        while (r) {
                struct pgc_req *next = r->next;
                req_finish(r, error);
                r = next;
        }
}

/* ---- waiting ---- */

static void pgc_fail_later(struct pg_conn *c);

/* Wait for what on the connection's current socket (re-read every time). */
static void pgc_wait(struct pg_conn *c, short what, int timeout_s)
{
        struct timeval tv = {timeout_s, 0};
        int fd = PQsocket(c->pg);
        event_del(c->io);
        if (fd < 0) {
                pgc_fail_later(c);
                return;
        }
        event_assign(c->io, c->base, fd, what, pgc_io_cb, c);
        event_add(c->io, timeout_s > 0 ? &tv : NULL);
}

/* ---- failure and reconnect ---- */

static void pgc_start_connect(struct pg_conn *c);

/* Close, fail every request, tell the owner, schedule the reconnect. */
static void pgc_fail(struct pg_conn *c, const char *why)
{
        bool was_up = c->was_up;
        store_one_line(c->last_error, sizeof(c->last_error), why);
        event_del(c->io);
        event_del(c->fail_ev);
        event_del(c->more_ev);
        if (c->pg)
                PQfinish(c->pg);
        c->pg = NULL;
        c->flushing = false;
        c->was_up = false;
        c->state = PGC_RETRY_WAIT;
        c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : PGC_BACKOFF_MIN_MS;
        if (c->backoff_ms > PGC_BACKOFF_MAX_MS)
                c->backoff_ms = PGC_BACKOFF_MAX_MS;
        c->failures = was_up ? 1 : c->failures + 1;
        char logged[sizeof(c->last_error)];
        store_log_safe(logged, sizeof(logged), c->last_error);
        if (was_up)
                log_warn("store.pg.down", "conn=%s error=\"%s\" retry_ms=%d", c->name, logged,
                         c->backoff_ms);
        else if (c->failures % PGC_LOG_EVERY == 1)
                log_warn("store.pg.connect_failed", "conn=%s error=\"%s\" attempts=%u retry_ms=%d",
                         c->name, logged, c->failures, c->backoff_ms);
        else
                log_debug("store.pg.connect_failed", "conn=%s error=\"%s\" attempts=%u retry_ms=%d",
                          c->name, logged, c->failures, c->backoff_ms);
        struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
        evtimer_add(c->timer, &tv);

        char error[600];
        snprintf(error, sizeof(error), "connection lost: %s", c->last_error);
        fail_requests(c, error);
        if (was_up && c->state_cb)
                c->state_cb(c->state_arg, c, false);
}

static void pgc_fail_conn(struct pg_conn *c)
{
        pgc_fail(c, PQerrorMessage(c->pg));
}

/* A failure found where no callback may run (inside pg_conn_submit): the
 * loop runs pgc_fail at once. */
static void pgc_fail_later(struct pg_conn *c)
{
        store_one_line(c->last_error, sizeof(c->last_error), PQerrorMessage(c->pg));
        event_del(c->io);
        c->state = PGC_FAILING;
        event_active(c->fail_ev, EV_TIMEOUT, 1);
}

static void pgc_fail_ev_cb(evutil_socket_t fd, short what, void *arg)
{
        struct pg_conn *c = arg;
        char why[sizeof(c->last_error)];
        memcpy(why, c->last_error, sizeof(why));
        pgc_fail(c, why);
}

static void pgc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        pgc_start_connect(arg);
}

static void notice_to_log(void *arg, const char *message)
{
        struct pg_conn *c = arg;
        char text[512];
        store_log_safe(text, sizeof(text), message);
        log_debug("store.pg.notice", "conn=%s message=\"%s\"", c->name, text);
}

static void pgc_start_connect(struct pg_conn *c)
{
        c->state = PGC_CONNECTING;
        log_debug("store.pg.connecting", "conn=%s", c->name);
        c->pg = store_pq_connect(c->conninfo, c->name, true);
        if (!c->pg) {
                pgc_fail(c, "out of memory");
                return;
        }
        if (PQstatus(c->pg) == CONNECTION_BAD) {
                pgc_fail_conn(c);
                return;
        }
        PQsetNoticeProcessor(c->pg, notice_to_log, c);
        /* libpq: after PQconnectStartParams, act as if PQconnectPoll said
         * WRITING. */
        pgc_wait(c, EV_WRITE, PGC_CONNECT_TIMEOUT_S);
}

static char *listen_sql(struct pg_conn *c, const char *channel)
{
        char *ident = PQescapeIdentifier(c->pg, channel, strlen(channel));
        if (!ident)
                return NULL;
        size_t len = strlen(ident) + 8;
        char *sql = xcalloc(len, 1);
        snprintf(sql, len, "LISTEN %s", ident);
        PQfreemem(ident);
        return sql;
}

static void queue_listen(struct pg_conn *c, const char *channel)
{
        char *sql = listen_sql(c, channel);
        if (!sql)
                return;
        struct pg_stmt stmt = {sql, 0, NULL};
        enqueue(c, req_new(&stmt, 1, NULL, NULL));
        free(sql);
}

static void pgc_connected(struct pg_conn *c)
{
        if (PQsetnonblocking(c->pg, 1) != 0) {
                pgc_fail_conn(c);
                return;
        }
        c->state = PGC_IDLE;
        c->was_up = true;
        prepared_clear(c); /* a new session has none */
        c->backoff_ms = 0;
        c->failures = 0;
        c->last_error[0] = '\0';
        log_info("store.pg.up", "conn=%s server_version=%d", c->name, PQserverVersion(c->pg));
        for (struct pgc_listen *l = c->listens; l; l = l->next)
                queue_listen(c, l->channel);
        pgc_send_more(c);
        if (c->state_cb)
                c->state_cb(c->state_arg, c, true);
}

static void pgc_connect_poll(struct pg_conn *c, short what)
{
        if (what & EV_TIMEOUT) {
                pgc_fail(c, "connect timeout");
                return;
        }
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_READING:
                pgc_wait(c, EV_READ, PGC_CONNECT_TIMEOUT_S);
                break;
        case PGRES_POLLING_WRITING:
                pgc_wait(c, EV_WRITE, PGC_CONNECT_TIMEOUT_S);
                break;
        case PGRES_POLLING_OK:
                pgc_connected(c);
                break;
        default:
                pgc_fail_conn(c);
                break;
        }
}

/* ---- running requests ---- */

static void dispatch_notifies(struct pg_conn *c)
{
        PGnotify *n;
        while (c->pg && (n = PQnotifies(c->pg))) {
                for (struct pgc_listen *l = c->listens; l; l = l->next)
                        if (strcmp(l->channel, n->relname) == 0)
                                l->cb(l->arg, n->relname, n->extra);
                PQfreemem(n);
        }
}

/* PQflush, then wait for what the flush left to do. Returns -1 on failure
 * (already handed to the loop). */
static int pgc_flush(struct pg_conn *c)
{
        int r = PQflush(c->pg);
        if (r < 0) {
                pgc_fail_later(c);
                return -1;
        }
        c->flushing = r > 0;
        pgc_wait(c, c->flushing ? EV_READ | EV_WRITE : EV_READ, 0);
        return 0;
}

/* Send one request (its statements and a Sync). Returns -1 on failure
 * (already handed to the loop). */
static int pgc_send(struct pg_conn *c, const struct pgc_req *r)
{
        if (c->n_in_flight == 0 && !PQenterPipelineMode(c->pg)) {
                pgc_fail_later(c);
                return -1;
        }
        for (size_t i = 0; i < r->n; i++) {
                const struct pgc_stmt *s = &r->stmts[i];
                const char *const *params = (const char *const *)s->params;
                const char *name =
                    r->is_prepare || s->n_params == 0 ? NULL : prepared_name(c, s->sql);
                int ok = r->is_prepare ? PQsendPrepare(c->pg, s->pname, s->sql, s->n_params, NULL)
                         : name
                             ? PQsendQueryPrepared(c->pg, name, s->n_params, params, NULL, NULL, 0)
                             : PQsendQueryParams(c->pg, s->sql, s->n_params, NULL, params, NULL,
                                                 NULL, 0);
                if (!ok) {
                        pgc_fail_later(c);
                        return -1;
                }
        }
        if (!PQpipelineSync(c->pg)) {
                pgc_fail_later(c);
                return -1;
        }
        return 0;
}

/* Send what is queued, up to PGC_MAX_IN_FLIGHT in flight; a request whose
 * statements are not prepared yet goes behind a PREPARE request and waits
 * for its answer. */
static void pgc_send_more(struct pg_conn *c)
{
        if (c->state != PGC_IDLE && c->state != PGC_BUSY)
                return;
        bool sent = false;
        while (c->unsent && c->n_in_flight < PGC_MAX_IN_FLIGHT && !c->prepare_in_flight) {
                struct pgc_req *r = c->unsent;
                if (!r->is_prepare && !r->prepare_tried) {
                        r->prepare_tried = true;
                        struct pgc_req *p = prepare_request_for(c, r);
                        if (p) {
                                p->next = r;
                                if (c->last_sent)
                                        c->last_sent->next = p;
                                else
                                        c->head = p;
                                c->unsent = r = p;
                        }
                }
                if (pgc_send(c, r) != 0)
                        return;
                c->last_sent = r;
                c->unsent = r->next;
                c->n_in_flight++;
                c->prepare_in_flight = r->is_prepare;
                c->state = PGC_BUSY;
                sent = true;
        }
        if (sent)
                pgc_flush(c);
        else if (c->state == PGC_IDLE)
                pgc_wait(c, EV_READ, 0);
}

/* Collect what has arrived for the head request. Returns 1 when its sync
 * arrived, 0 when more is to come, -1 on a protocol surprise. */
static int collect_results(struct pg_conn *c, struct pgc_req *r)
{
        bool after_null = false;
        while (!PQisBusy(c->pg)) {
                PGresult *res = PQgetResult(c->pg);
                if (!res) {
                        if (after_null)
                                return -1; /* nothing left, yet no sync: never expected */
                        after_null = true;
                        if (r->cur < r->n)
                                r->cur++;
                        continue;
                }
                after_null = false;
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_PIPELINE_SYNC) {
                        PQclear(res);
                        return 1;
                }
                if (!r->error && (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED ||
                                  st == PGRES_BAD_RESPONSE)) {
                        char msg[512];
                        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                        store_one_line(msg, sizeof(msg),
                                       st == PGRES_PIPELINE_ABORTED ? "pipeline aborted"
                                       : primary                    ? primary
                                                                    : PQresultErrorMessage(res));
                        r->error = xstrdup(msg);
                }
                if (r->cur < r->n) {
                        PQclear(r->results[r->cur]);
                        r->results[r->cur] = res;
                } else {
                        PQclear(res);
                }
        }
        return 0;
}

/* The head request is answered: send what may go now, then call it back.
 * The callback comes last and nothing here touches c after it (it may free
 * the connection); results of the next request that are already read wait
 * for the loop, which the re-activated socket event brings back here. */
static void pgc_complete(struct pg_conn *c)
{
        struct pgc_req *r = c->head;
        c->head = r->next;
        if (!c->head)
                c->tail = NULL;
        if (c->last_sent == r)
                c->last_sent = NULL;
        c->n_in_flight--;
        if (r->is_prepare) {
                c->prepare_in_flight = false;
                prepared_note(c, r);
        }
        if (c->n_in_flight == 0) {
                PQexitPipelineMode(c->pg);
                c->state = PGC_IDLE;
        }
        dispatch_notifies(c);
        pgc_send_more(c);
        if (c->state == PGC_BUSY)
                event_active(c->more_ev, EV_TIMEOUT, 1);
        req_finish(r, r->error);
}

static void pgc_busy_io(struct pg_conn *c, short what)
{
        if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
                pgc_fail_conn(c);
                return;
        }
        if (c->flushing) {
                int f = PQflush(c->pg);
                if (f < 0) {
                        pgc_fail_conn(c);
                        return;
                }
                c->flushing = f > 0;
        }
        int done = collect_results(c, c->head);
        if (done < 0) {
                if (PQstatus(c->pg) == CONNECTION_BAD)
                        pgc_fail_conn(c);
                else
                        pgc_fail(c, "unexpected end of pipeline results");
                return;
        }
        if (done) {
                pgc_complete(c);
                return;
        }
        if (PQstatus(c->pg) == CONNECTION_BAD) {
                pgc_fail_conn(c);
                return;
        }
        pgc_wait(c, c->flushing ? EV_READ | EV_WRITE : EV_READ, 0);
}

static void pgc_idle_io(struct pg_conn *c)
{
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
                pgc_fail_conn(c);
                return;
        }
        dispatch_notifies(c);
        if (c->state == PGC_IDLE)
                pgc_send_more(c);
}

static void pgc_io_cb(evutil_socket_t fd, short what, void *arg);

static void pgc_more_cb(evutil_socket_t fd, short what, void *arg)
{
        struct pg_conn *c = arg;
        if (c->state == PGC_BUSY)
                pgc_busy_io(c, 0);
}

static void pgc_io_cb(evutil_socket_t fd, short what, void *arg)
{
        struct pg_conn *c = arg;
        switch (c->state) {
        case PGC_CONNECTING:
                pgc_connect_poll(c, what);
                break;
        case PGC_IDLE:
                pgc_idle_io(c);
                break;
        case PGC_BUSY:
                pgc_busy_io(c, what);
                break;
        default:
                break;
        }
}

/* ---- public ---- */

struct pg_conn *pg_conn_new(struct event_base *base, const char *conninfo, const char *name,
                            pg_conn_state_cb state_cb, void *arg)
{
        struct pg_conn *c = xcalloc(1, sizeof(*c));
        c->base = base;
        c->conninfo = xstrdup(conninfo);
        c->name = xstrdup(name);
        c->state_cb = state_cb;
        c->state_arg = arg;
        c->io = event_new(base, -1, 0, pgc_io_cb, c);
        c->timer = evtimer_new(base, pgc_timer_cb, c);
        c->fail_ev = event_new(base, -1, 0, pgc_fail_ev_cb, c);
        c->more_ev = event_new(base, -1, 0, pgc_more_cb, c);
        if (!c->io || !c->timer || !c->fail_ev || !c->more_ev)
                abort(); /* out of memory */
        pgc_start_connect(c);
        return c;
}

void pg_conn_free(struct pg_conn *c)
{
        if (!c)
                return;
        c->state = PGC_CLOSING;
        event_free(c->io);
        event_free(c->timer);
        event_free(c->fail_ev);
        event_free(c->more_ev);
        fail_requests(c, "shutting down");
        if (c->pg)
                PQfinish(c->pg);
        while (c->listens) {
                struct pgc_listen *next = c->listens->next;
                free(c->listens->channel);
                free(c->listens);
                c->listens = next;
        }
        free(c->conninfo);
        free(c->name);
        prepared_clear(c);
        free(c);
}

bool pg_conn_is_up(const struct pg_conn *c)
{
        return c->state == PGC_IDLE || c->state == PGC_BUSY;
}

const char *pg_conn_last_error(const struct pg_conn *c)
{
        return c->last_error;
}

int pg_conn_submit(struct pg_conn *c, const struct pg_stmt *stmts, size_t n, pg_done_cb cb,
                   void *arg)
{
        if (!pg_conn_is_up(c) || n == 0)
                return -1;
        enqueue(c, req_new(stmts, n, cb, arg));
        pgc_send_more(c);
        return 0;
}

void pg_conn_listen(struct pg_conn *c, const char *channel, pg_notify_cb cb, void *arg)
{
        struct pgc_listen *l = xcalloc(1, sizeof(*l));
        l->channel = xstrdup(channel);
        l->cb = cb;
        l->arg = arg;
        l->next = c->listens;
        c->listens = l;
        if (pg_conn_is_up(c)) {
                queue_listen(c, channel);
                pgc_send_more(c);
        }
}
