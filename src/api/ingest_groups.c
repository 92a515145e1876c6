/* ingest_groups.c — the group-commit queue (see ingest.c for intake).
 *
 * Requests that passed intake wait in a FIFO. At the end of a loop turn (the
 * `kick` event) every waiting request moves into one group: one store batch,
 * decided together and committed together. A group is "deciding" from its
 * begin until its commit is sent, then "committing" until the commit
 * callback. The next group begins as soon as no group is deciding, up to
 * INGEST_GROUPS_IN_FLIGHT at once: while one group commits, the next ones
 * are decided and queued behind it on the same connection (store.h, fast
 * path), so PostgreSQL starts on the next group as soon as one is flushed.
 * Three, not two: with deliveries held back, 2,449 -> 2,686 msg/s at c=64
 * (three alternating rounds each; four gave no more); with deliveries
 * running, the same within noise (docs/performance.md, session 6).
 * Answers go out in each group's commit callback, so no 202 precedes its
 * COMMIT. takt's own events (a delivery moved an order, an SLA came due)
 * wait up to INGEST_INTERNAL_WAIT_MS for a source request to share a group
 * with. */
#include "ingest_internal.h"

#include <event2/event.h>
#include <stdlib.h>

#include "sla_timers.h"
#include "takt/delivery_worker.h"
#include "takt/http.h"
#include "takt/log.h"
#include "takt/metrics.h"

#define INGEST_MAX_GROUP_ITEMS  4000 /* messages per group transaction */
#define INGEST_GROUPS_IN_FLIGHT 3
#define INGEST_INTERNAL_WAIT_MS 5

struct ingest_group {
        struct ingest *ing;
        struct ingest_group *next; /* ing->groups */
        struct store_batch *batch; /* owned; NULL before begin */
        struct ingest_req **reqs;  /* owned array of owned requests */
        size_t n;
        bool deciding;
        json_t *deadlines; /* owned: [[plant, work_order, ms]] decided */
};

static void start_groups(struct ingest *ing);

/* A new group may begin: something waits, no group is being decided, and
 * fewer than INGEST_GROUPS_IN_FLIGHT are. */
static bool may_start(const struct ingest *ing)
{
        return ing->wait_head && ing->n_deciding == 0 && ing->n_groups < INGEST_GROUPS_IN_FLIGHT;
}

/* Start the next group at the end of this loop turn when a source request
 * waits; when only takt's own events wait, a little later. */
static void kick(struct ingest *ing)
{
        if (!may_start(ing))
                return;
        bool source_waiting = false;
        for (const struct ingest_req *r = ing->wait_head; r && !source_waiting; r = r->next)
                source_waiting = r->kind == INGEST_HTTP;
        if (source_waiting) {
                event_del(ing->kick);
                event_active(ing->kick, EV_TIMEOUT, 0);
        } else if (!evtimer_pending(ing->kick, NULL)) {
                struct timeval tv = {0, INGEST_INTERNAL_WAIT_MS * 1000};
                evtimer_add(ing->kick, &tv);
        }
}

static void answer(struct ingest_req *req)
{
        struct ingest *ing = req->ing;
        if (req->kind != INGEST_HTTP || !req->http)
                return;
        if (req->status == 503)
                http_response_header(req->http, "Retry-After", "5");
        http_respond_json(req->http, req->status, req->body);
        req->body = NULL;
        req->http = NULL;
        metrics_observe(ing->m_duration, NULL, ingest_monotonic() - req->started);
}

/* Nothing was accepted: a source request gets 503; takt's own events are
 * not lost with a failed transaction: they go again when the retry timer
 * fires. */
static void answer_unavailable(struct ingest_req *req, const char *why)
{
        json_decref(req->body);
        req->status = 503;
        req->body = json_pack("{s:s, s:s}", "status", "unavailable", "error", why);
        if (req->kind == INGEST_HTTP) {
                for (size_t i = 0; i < req->n_items; i++)
                        ingest_count(req->ing, req->source->name,
                                     canon_type_name(req->items[i].type), "unavailable");
                answer(req);
                return;
        }
        log_warn("ingest.internal_retry", "plant=%s work_order=%s error=\"%s\"", req->plant,
                 req->work_order, why);
        struct ingest_req *again = calloc(1, sizeof(*again));
        if (!again)
                abort(); /* out of memory */
        *again = *req;
        again->next = req->ing->retry_head;
        again->body = NULL;
        again->retries++;
        req->ing->retry_head = again;
        req->plant = req->work_order = NULL;
        req->delivered_env = NULL;
        if (!evtimer_pending(req->ing->retry_timer, NULL)) {
                struct timeval tv = {1, 0};
                evtimer_add(req->ing->retry_timer, &tv);
        }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
        struct ingest *ing = arg;
        struct ingest_req *r = ing->retry_head;
        ing->retry_head = NULL;
        while (r) {
                struct ingest_req *next = r->next;
                r->next = NULL;
                ingest_enqueue(ing, r);
                r = next;
        }
}

static void set_deciding(struct ingest_group *g, bool deciding)
{
        if (g->deciding != deciding)
                g->ing->n_deciding += deciding ? 1 : -1;
        g->deciding = deciding;
}

/* The group is over: free it and let the next one start. */
static void group_finish(struct ingest_group *g)
{
        struct ingest *ing = g->ing;
        for (struct ingest_group **p = &ing->groups; *p; p = &(*p)->next) {
                if (*p == g) {
                        *p = g->next;
                        break;
                }
        }
        ing->n_groups--;
        ing->n_in_groups -= g->n;
        set_deciding(g, false);
        for (size_t i = 0; i < g->n; i++)
                ingest_req_free(g->reqs[i]);
        free(g->reqs);
        store_batch_free(g->batch);
        json_decref(g->deadlines);
        free(g);
        kick(ing);
}

static void group_fail(struct ingest_group *g, const char *error)
{
        log_warn("ingest.transaction_failed", "requests=%zu error=\"%s\"", g->n, error);
        for (size_t i = 0; i < g->n; i++)
                answer_unavailable(g->reqs[i], "database unavailable, nothing was accepted");
        group_finish(g);
}

static void group_begin(struct ingest_group *g);

static void on_committed(void *arg, struct store_batch *b, const char *error)
{
        struct ingest_group *g = arg;
        struct ingest *ing = g->ing;
        if (error && store_batch_retry(b)) {
                /* Decided from cached orders that had moved on, or a
                 * duplicate: nothing was written; decide again from what
                 * the next batch loads. */
                store_batch_free(g->batch);
                g->batch = NULL;
                json_decref(g->deadlines);
                g->deadlines = NULL;
                for (size_t i = 0; i < g->n; i++) {
                        json_decref(g->reqs[i]->body);
                        g->reqs[i]->body = NULL;
                }
                group_begin(g);
                return;
        }
        if (error) {
                group_fail(g, error);
                return;
        }
        for (size_t i = 0; i < g->n; i++) {
                struct ingest_req *req = g->reqs[i];
                if (req->kind == INGEST_HTTP) {
                        for (size_t k = 0; k < req->n_items; k++)
                                ingest_count(ing, req->source->name,
                                             canon_type_name(req->items[k].type),
                                             req->items[k].result);
                }
                answer(req);
        }
        size_t i;
        json_t *d;
        json_array_foreach(g->deadlines, i, d)
        {
                sla_timers_arm(ing->sla, json_string_value(json_array_get(d, 0)),
                               json_string_value(json_array_get(d, 1)),
                               json_integer_value(json_array_get(d, 2)));
        }
        size_t n_rows = 0;
        struct store_outbox_row *rows = store_batch_take_outbox_rows(b, &n_rows);
        if (ing->delivery)
                delivery_worker_submit(ing->delivery, rows, n_rows);
        else
                store_outbox_rows_free(rows, n_rows);
        group_finish(g);
}

static void on_loaded(void *arg, struct store_batch *b, const char *error)
{
        struct ingest_group *g = arg;
        if (error) {
                group_fail(g, error);
                return;
        }
        g->deadlines = ingest_batch_decide(g->ing, b, g->reqs, g->n);
        set_deciding(g, false);
        store_batch_commit(b, on_committed, g);
        kick(g->ing); /* the next group may be decided while this one commits */
}

/* The keys the group needs loaded: work orders (a source message's order
 * may be new; the order of takt's own events exists) and inbox ids. */
static void group_keys(const struct ingest_group *g, struct store_wo_key **wos, size_t *n_wos,
                       struct store_inbox_key **inbox, size_t *n_inbox)
{
        size_t cap = 0;
        for (size_t i = 0; i < g->n; i++)
                cap += g->reqs[i]->n_items + 1;
        *wos = calloc(cap, sizeof(**wos));
        *inbox = calloc(cap, sizeof(**inbox));
        if (!*wos || !*inbox)
                abort(); /* out of memory */
        *n_wos = *n_inbox = 0;
        for (size_t i = 0; i < g->n; i++) {
                const struct ingest_req *req = g->reqs[i];
                if (req->kind != INGEST_HTTP) {
                        (*wos)[(*n_wos)++] =
                            (struct store_wo_key){req->plant, req->work_order, false};
                        continue;
                }
                for (size_t k = 0; k < req->n_items; k++) {
                        const json_t *env = req->items[k].env;
                        const char *wo = canon_str(env, "work_order");
                        if (wo)
                                (*wos)[(*n_wos)++] =
                                    (struct store_wo_key){canon_str(env, "plant"), wo, true};
                        (*inbox)[(*n_inbox)++] =
                            (struct store_inbox_key){req->source->name, canon_str(env, "id")};
                }
        }
}

/* Begin (or begin again) the group's store batch. */
static void group_begin(struct ingest_group *g)
{
        struct ingest *ing = g->ing;
        struct store_wo_key *wos;
        struct store_inbox_key *inbox;
        size_t n_wos, n_inbox;
        group_keys(g, &wos, &n_wos, &inbox, &n_inbox);
        set_deciding(g, true);
        g->batch = store_batch_begin(ing->store, wos, n_wos, inbox, n_inbox, on_loaded, g);
        free(wos);
        free(inbox);
        if (!g->batch) {
                const char *reason = "database unavailable";
                store_is_ready(ing->store, &reason);
                for (size_t i = 0; i < g->n; i++)
                        answer_unavailable(g->reqs[i], reason);
                group_finish(g);
        }
}

/* Move what waits (up to INGEST_MAX_GROUP_ITEMS messages) into a new group. */
static void start_groups(struct ingest *ing)
{
        if (!may_start(ing))
                return;
        size_t n = 0, items = 0;
        for (struct ingest_req *r = ing->wait_head; r && (n == 0 || items < INGEST_MAX_GROUP_ITEMS);
             r = r->next) {
                n++;
                items += r->n_items + 1;
        }
        struct ingest_group *g = calloc(1, sizeof(*g));
        if (!g || !(g->reqs = calloc(n, sizeof(*g->reqs))))
                abort(); /* out of memory */
        g->ing = ing;
        g->n = n;
        for (size_t i = 0; i < n; i++) {
                struct ingest_req *r = ing->wait_head;
                ing->wait_head = r->next;
                r->next = NULL;
                g->reqs[i] = r;
        }
        if (!ing->wait_head)
                ing->wait_tail = &ing->wait_head;
        ing->n_waiting -= (unsigned)n;
        ing->n_in_groups += n;
        struct ingest_group **tail = &ing->groups;
        while (*tail)
                tail = &(*tail)->next;
        *tail = g;
        ing->n_groups++;
        group_begin(g);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
        start_groups(arg);
}

void ingest_enqueue(struct ingest *ing, struct ingest_req *req)
{
        req->ing = ing;
        *ing->wait_tail = req;
        ing->wait_tail = &req->next;
        ing->n_waiting++;
        if (req->kind == INGEST_HTTP || !evtimer_pending(ing->kick, NULL))
                kick(ing);
}

void ingest_groups_init(struct ingest *ing)
{
        ing->wait_tail = &ing->wait_head;
        ing->kick = event_new(ing->base, -1, 0, on_kick, ing);
        ing->retry_timer = evtimer_new(ing->base, on_retry, ing);
        if (!ing->kick || !ing->retry_timer)
                abort(); /* out of memory */
}

unsigned ingest_pending(const struct ingest *ing)
{
        return ing->n_waiting + (unsigned)ing->n_in_groups;
}

void ingest_groups_free(struct ingest *ing)
{
        /* The store fails an in-flight batch when it is freed first; whatever
         * still waits was never accepted. */
        while (ing->wait_head) {
                struct ingest_req *r = ing->wait_head;
                ing->wait_head = r->next;
                answer_unavailable(r, "shutting down");
                ingest_req_free(r);
        }
        ing->wait_tail = &ing->wait_head;
        ing->n_waiting = 0;
        while (ing->groups) {
                struct ingest_group *g = ing->groups;
                ing->groups = g->next; /* unlinked here; group_finish frees it */
                for (size_t i = 0; i < g->n; i++)
                        answer_unavailable(g->reqs[i], "shutting down");
                group_finish(g);
        }
        while (ing->retry_head) {
                struct ingest_req *r = ing->retry_head;
                ing->retry_head = r->next;
                ingest_req_free(r);
        }
        event_free(ing->retry_timer);
        event_free(ing->kick);
}
