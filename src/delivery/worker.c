/* worker.c — the delivery engine on its own thread (see
 * takt/delivery_worker.h). Owns the worker's event base, its store, the
 * engine and the two mailboxes; every message between the loops is one of
 * the small structs below, allocated by the sender and freed by whoever
 * runs (or discards) it. Committed rows are handed over (the batch's
 * rows carry their envelope as text only); a delivered row crosses back as
 * a deep copy without a JSON reference. No jansson object is shared. */
#include "takt/delivery_worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "takt/json_text.h"
#include "takt/log.h"
#include "takt/mailbox.h"

struct delivery_worker {
        /* worker thread's, created on the main thread before it starts */
        struct event_base *base;   /* owned */
        struct store *store;       /* owned */
        struct delivery *engine;   /* owned */
        struct mailbox *to_worker; /* owned, runs on base */
        /* main thread's */
        struct mailbox *to_main; /* owned, runs on the main base */
        delivery_delivered_cb delivered_cb;
        void *delivered_arg;
        delivery_drained_cb drained_cb;
        void *drained_arg;
        pthread_t thread;
        bool started;
};

struct rows_msg {
        struct delivery_worker *w;
        struct store_outbox_row *rows; /* owned array of owned rows */
        size_t n;
};

struct delivered_msg {
        struct delivery_worker *w;
        struct store_outbox_row row;         /* owned */
        const struct takt_destination *dest; /* borrowed from a generation */
};

struct configure_msg {
        struct delivery_worker *w;
        const struct takt_config *cfg;
        const struct dialect_set *dialects;
};

static void post(struct mailbox *mb, mailbox_fn run, mailbox_fn discard, void *arg)
{
        if (!arg || mailbox_post(mb, run, discard, arg) != 0)
                abort(); /* out of memory */
}

/* A copy that shares nothing with the sender's thread. */
static int row_copy_unshared(struct store_outbox_row *dst, const struct store_outbox_row *src)
{
        if (store_outbox_row_copy(dst, src) != 0)
                return -1;
        if (dst->envelope) {
                if (!dst->envelope_text)
                        dst->envelope_text = json_text(dst->envelope);
                json_decref(dst->envelope);
                dst->envelope = NULL;
                if (!dst->envelope_text) {
                        store_outbox_row_clear(dst);
                        return -1;
                }
        }
        return 0;
}

static void rows_msg_free(void *arg)
{
        struct rows_msg *m = arg;
        store_outbox_rows_free(m->rows, m->n);
        free(m);
}

static void delivered_msg_free(void *arg)
{
        struct delivered_msg *m = arg;
        store_outbox_row_clear(&m->row);
        free(m);
}

/* ---- on the worker thread ---- */

static void run_submit(void *arg)
{
        struct rows_msg *m = arg;
        delivery_submit(m->w->engine, m->rows, m->n);
        rows_msg_free(m);
}

static void run_configure(void *arg)
{
        struct configure_msg *m = arg;
        delivery_configure(m->w->engine, m->cfg, m->dialects);
        free(m);
}

static void run_drained_on_main(void *arg);

static void on_engine_drained(void *arg)
{
        struct delivery_worker *w = arg;
        post(w->to_main, run_drained_on_main, NULL, w);
}

static void run_shutdown(void *arg)
{
        struct delivery_worker *w = arg;
        delivery_shutdown(w->engine, on_engine_drained, w);
}

static void run_stop(void *arg)
{
        struct delivery_worker *w = arg;
        event_base_loopexit(w->base, NULL);
}

static void run_delivered_on_main(void *arg);

static void on_engine_delivered(void *arg, const struct store_outbox_row *row,
                                const struct takt_destination *dest)
{
        struct delivery_worker *w = arg;
        struct delivered_msg *m = calloc(1, sizeof(*m));
        if (!m || row_copy_unshared(&m->row, row) != 0)
                abort(); /* out of memory */
        m->w = w;
        m->dest = dest;
        post(w->to_main, run_delivered_on_main, delivered_msg_free, m);
}

/* The worker's store checks the schema itself: delivery starts (and
 * resumes after a reconnect) when its own connections are ready. */
static void on_store_ready(void *arg, bool ready, const char *reason)
{
        struct delivery_worker *w = arg;
        if (ready)
                delivery_resume(w->engine);
}

/* A source waits for its answer; a delivery waits for no one. So when the
 * machine is busy, the worker yields to the main loop: it runs
 * WORKER_NICE steps nicer than the daemon (on Linux a thread has its own
 * nice value). Measured on two cores (docs/performance.md): ingest p50 at
 * concurrency 1 from 1.76-2.21 to 1.58-1.67 ms, and deliveries still keep
 * up with ingest and stay within their latency goal. */
#define WORKER_NICE 5

static void yield_to_main_loop(void)
{
        id_t self = (id_t)gettid();
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, self);
        if (nice == -1 && errno != 0)
                return;
        int target = nice + WORKER_NICE > 19 ? 19 : nice + WORKER_NICE;
        if (setpriority(PRIO_PROCESS, self, target) != 0)
                log_warn("delivery.nice_failed", "error=\"%s\"", strerror(errno));
}

static void *worker_main(void *arg)
{
        struct delivery_worker *w = arg;
        pthread_setname_np(pthread_self(), "takt-delivery"); /* top -H, ps -L */
        yield_to_main_loop();
        store_start(w->store);
        event_base_dispatch(w->base);
        return NULL;
}

/* ---- on the main thread ---- */

static void run_delivered_on_main(void *arg)
{
        struct delivered_msg *m = arg;
        if (m->w->delivered_cb)
                m->w->delivered_cb(m->w->delivered_arg, &m->row, m->dest);
        delivered_msg_free(m);
}

static void run_drained_on_main(void *arg)
{
        struct delivery_worker *w = arg;
        if (w->drained_cb)
                w->drained_cb(w->drained_arg);
}

struct delivery_worker *delivery_worker_new(struct event_base *main_base, struct metrics *metrics,
                                            const struct takt_config *cfg,
                                            const struct dialect_set *dialects, char *err,
                                            size_t errlen)
{
        struct delivery_worker *w = calloc(1, sizeof(*w));
        if (!w || !(w->base = event_base_new()) || !(w->to_worker = mailbox_new(w->base)) ||
            !(w->to_main = mailbox_new(main_base)) ||
            !(w->store = store_new_for(w->base, cfg->postgres.conninfo, false, metrics,
                                       STORE_ROLE_DELIVERY))) {
                snprintf(err, errlen, "delivery worker: out of memory or file descriptors");
                delivery_worker_free(w);
                return NULL;
        }
        w->engine = delivery_new(w->base, w->store, metrics, cfg, dialects, err, errlen);
        if (!w->engine) {
                delivery_worker_free(w);
                return NULL;
        }
        delivery_set_delivered_cb(w->engine, on_engine_delivered, w);
        store_set_ready_cb(w->store, on_store_ready, w);
        return w;
}

void delivery_worker_set_delivered_cb(struct delivery_worker *w, delivery_delivered_cb cb,
                                      void *arg)
{
        w->delivered_cb = cb;
        w->delivered_arg = arg;
}

int delivery_worker_start(struct delivery_worker *w, char *err, size_t errlen)
{
        /* Signals are the main loop's: the worker thread blocks them all. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
                snprintf(err, errlen, "delivery worker: cannot start a thread: %s", strerror(rc));
                return -1;
        }
        w->started = true;
        return 0;
}

void delivery_worker_submit(struct delivery_worker *w, struct store_outbox_row *rows, size_t n)
{
        if (n == 0) {
                free(rows);
                return;
        }
        struct rows_msg *m = malloc(sizeof(*m));
        if (!m)
                abort(); /* out of memory */
        *m = (struct rows_msg){w, rows, n};
        post(w->to_worker, run_submit, rows_msg_free, m);
}

void delivery_worker_configure(struct delivery_worker *w, const struct takt_config *cfg,
                               const struct dialect_set *dialects)
{
        struct configure_msg *m = malloc(sizeof(*m));
        if (m)
                *m = (struct configure_msg){w, cfg, dialects};
        post(w->to_worker, run_configure, free, m);
}

void delivery_worker_shutdown(struct delivery_worker *w, delivery_drained_cb cb, void *arg)
{
        w->drained_cb = cb;
        w->drained_arg = arg;
        post(w->to_worker, run_shutdown, NULL, w);
}

void delivery_worker_free(struct delivery_worker *w)
{
        if (!w)
                return;
        if (w->started) {
                post(w->to_worker, run_stop, NULL, w);
                pthread_join(w->thread, NULL);
        }
        /* The thread is gone: its objects are ours now. The store first: it
         * fails what is still queued while the engine is alive. */
        store_free(w->store);
        delivery_free(w->engine);
        mailbox_free(w->to_worker);
        if (w->base)
                event_base_free(w->base);
        mailbox_free(w->to_main);
        free(w);
}

const char *delivery_worker_kafka_bootstrap(const struct delivery_worker *w)
{
        return delivery_kafka_bootstrap(w->engine);
}
