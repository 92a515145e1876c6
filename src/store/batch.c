/* batch.c — the ingest group transaction (store.h, struct store_batch).
 *
 * Batches run one at a time on the ingest connection, in the order they
 * began (struct batch_line): the active batch owns the connection's open
 * transaction from its BEGIN until COMMIT or ROLLBACK has been queued; the
 * next batch's BEGIN queues behind that on the same FIFO connection.
 *
 * Fast path (one round trip): when every work order the batch names is in
 * the line's cache (wo_cache.h) or may be new, phase 1 reads nothing: the
 * batch is "loaded" from the cache, and phase 2 is one pipeline without
 * BEGIN/COMMIT (an implicit transaction: committed at its sync, rolled back
 * whole on any error). Its writes carry what the decisions assumed: the
 * inbox INSERT fails on a duplicate, a new order's INSERT fails when the
 * order exists, and a cached order's UPDATE requires the version it was
 * decided against (takt_require, 002_ingest_checks.sql). Any of those
 * (SQLSTATE 23505 or 40001) marks the batch store_batch_retry(); the next
 * batch begun then takes the slow path. Once a fast batch is sent, its
 * writes are cached and the line moves on: the next batch is decided while
 * this one commits (pipelined on the same connection). If it fails, its
 * orders are forgotten, and a batch decided from them fails its checks.
 * Slow path, phase 1 (one pipeline): BEGIN; lock and load the work orders
 * (SELECT ... FOR UPDATE, in key order so two daemons lock alike); look up
 * the inbox. What it loads, and every order a batch commits, is cached; a
 * batch that fails forgets the orders it touched.
 * Phase 2 (one pipeline): every write as one multi-row statement per table,
 * rows passed as array parameters to unnest(), then COMMIT:
 *   inbox INSERT; work_orders upsert; release of held postings that were
 *   stored before this batch (UPDATE ... RETURNING); outbox INSERT in put
 *   order (WITH ORDINALITY ... ORDER BY, so ids follow put order) RETURNING;
 *   trace INSERT (one row per correlation id: its steps in order); COMMIT.
 * Held postings put by this same batch are released in memory when
 * store_batch_release_held() is called after them, so the release UPDATE
 * runs before the outbox INSERT and touches only older rows.
 * Any failure: ROLLBACK is queued and the caller gets the first error;
 * nothing is written. A connection lost between the phases is detected by
 * the ingest epoch (store.c), and phase 2 is then never sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "pg_array.h"
#include "store_internal.h"
#include "takt/json_text.h"
#include "trace_rows.h"
#include "wo_cache.h"

/* Work orders kept by the cache: about 5 kB each as JSON objects. */
#define WO_CACHE_ENTRIES 10000

#define OUTBOX_RETURNING " RETURNING " STORE_OUTBOX_COLUMNS

static const char lock_sql[] =
    "SELECT plant, work_order, doc, version FROM work_orders "
    "WHERE (plant, work_order) IN (SELECT * FROM unnest($1::text[], $2::text[])) "
    "ORDER BY plant, work_order FOR UPDATE";
static const char inbox_lookup_sql[] =
    "SELECT source, message_id, http_status, answer FROM inbox "
    "WHERE (source, message_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))";

static const char inbox_insert_sql[] =
    "INSERT INTO inbox (source, message_id, correlation_id, http_status, answer, envelope) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::json[], "
    "$6::json[])";
static const char wo_upsert_sql[] =
    "INSERT INTO work_orders (plant, work_order, state, revision, doc, next_deadline_at, "
    "updated_at) "
    "SELECT u.plant, u.work_order, u.state, u.revision, u.doc, "
    "CASE WHEN u.deadline_ms > 0 THEN to_timestamp(u.deadline_ms / 1000.0) END, now() "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::json[], "
    "$6::bigint[]) AS u(plant, work_order, state, revision, doc, deadline_ms) "
    "ON CONFLICT (plant, work_order) DO UPDATE SET state = excluded.state, "
    "revision = excluded.revision, doc = excluded.doc, version = work_orders.version + 1, "
    "next_deadline_at = excluded.next_deadline_at, updated_at = excluded.updated_at";
/* The fast path's work-order write: $7 is the version each decision saw,
 * or -1 for an order assumed new (a plain INSERT: a duplicate key fails). */
static const char wo_checked_sql[] =
    "WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
    "$5::json[], $6::bigint[], $7::bigint[]) "
    "AS u(plant, work_order, state, revision, doc, deadline_ms, expected)), "
    "upd AS (UPDATE work_orders w SET state = u.state, revision = u.revision, doc = u.doc, "
    "version = w.version + 1, "
    "next_deadline_at = CASE WHEN u.deadline_ms > 0 THEN to_timestamp(u.deadline_ms / 1000.0) "
    "END, updated_at = now() FROM u WHERE u.expected >= 0 AND w.plant = u.plant "
    "AND w.work_order = u.work_order AND w.version = u.expected RETURNING 1), "
    "ins AS (INSERT INTO work_orders (plant, work_order, state, revision, doc, "
    "next_deadline_at, updated_at) "
    "SELECT u.plant, u.work_order, u.state, u.revision, u.doc, "
    "CASE WHEN u.deadline_ms > 0 THEN to_timestamp(u.deadline_ms / 1000.0) END, now() "
    "FROM u WHERE u.expected < 0 RETURNING 1) "
    "SELECT takt_require((SELECT count(*) FROM upd) = "
    "(SELECT count(*) FROM u WHERE u.expected >= 0), "
    "'work order changed since it was cached')";
static const char release_sql[] =
    "UPDATE outbox SET state = 'pending', next_attempt_at = now() "
    "WHERE state = 'held' "
    "AND (plant, work_order) IN (SELECT * FROM unnest($1::text[], $2::text[]))" OUTBOX_RETURNING;
static const char outbox_insert_sql[] =
    "INSERT INTO outbox (destination, plant, work_order, lane, type, message_id, "
    "correlation_id, envelope, state, next_attempt_at) "
    "SELECT u.destination, u.plant, u.work_order, u.lane, u.type, u.message_id, "
    "u.correlation_id, u.envelope, u.state, CASE WHEN u.state = 'pending' THEN now() END "
    "FROM unnest($1::text[], $2::text[], $3::json[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[]) "
    "WITH ORDINALITY AS u(destination, lane, envelope, state, plant, work_order, type, "
    "message_id, correlation_id, ord) "
    "ORDER BY u.ord RETURNING " STORE_OUTBOX_COLUMNS_NO_ENVELOPE;
/* One row per correlation id: the steps this batch recorded for it. */
static const char trace_insert_sql[] =
    "INSERT INTO trace (correlation_id, at, steps) "
    "SELECT u.correlation_id, to_timestamp(u.at_ms / 1000.0), u.steps "
    "FROM unnest($1::text[], $2::bigint[], $3::json[]) AS u(correlation_id, at_ms, steps)";

enum { KEY_IN_SOURCE, KEY_IN_ID, KEY_COLS }; /* the inbox keys (phase 1) */
enum { IN_SOURCE, IN_ID, IN_CORRELATION, IN_STATUS, IN_ANSWER, IN_ENVELOPE, IN_COLS };
enum { WO_PLANT, WO_ORDER, WO_STATE, WO_REVISION, WO_DOC, WO_DEADLINE, WO_EXPECTED, WO_COLS };
enum {
        OB_DESTINATION,
        OB_LANE,
        OB_ENVELOPE,
        OB_STATE,
        OB_PLANT,
        OB_ORDER,
        OB_TYPE,
        OB_ID,
        OB_CORRELATION,
        OB_COLS
};
enum { TR_CORRELATION, TR_AT, TR_STEPS, TR_COLS };
enum { REL_PLANT, REL_ORDER, REL_COLS };

enum batch_state {
        B_WAITING,    /* in the line's queue */
        B_LOADING,    /* phase 1 in flight */
        B_LOADED,     /* transaction open, in the caller's hands */
        B_COMMITTING, /* phase 2 in flight */
        B_DONE,       /* transaction closed (committed, rolled back or lost) */
};

/* A work order the batch names (copied from the begin call). */
struct wo_ref {
        char *plant, *work_order; /* owned */
        bool may_be_new;
};

struct outbox_put {
        char *destination, *lane, *envelope;      /* owned; envelope as JSON text */
        char *plant, *work_order;                 /* owned, from the envelope (may be NULL) */
        char *type, *message_id, *correlation_id; /* owned, from the envelope */
        bool held;
};

struct store_batch {
        struct batch_line *line;  /* NULL once the store is freed */
        struct store_batch *next; /* the line's waiting queue */
        struct store_batch *live_prev, *live_next;
        enum batch_state state;
        bool fast;           /* loaded from the cache: no transaction before phase 2 */
        bool tx_open;        /* BEGIN sent, COMMIT or ROLLBACK not yet */
        bool retry;          /* the fast path's assumptions failed: nothing written */
        bool abandoned;      /* freed by the caller while a request was in flight */
        uint64_t epoch;      /* ingest epoch of phase 1 */
        struct event *defer; /* owned: an error reported from the loop */
        char *defer_error;   /* owned */
        bool defer_commit;   /* the deferred error is for the commit callback */

        store_batch_loaded_cb loaded_cb;
        void *loaded_arg;
        store_batch_committed_cb committed_cb;
        void *committed_arg;

        struct pg_array keys[KEY_COLS];
        struct wo_ref *refs; /* owned array */
        size_t n_refs;
        json_t *work_orders; /* owned: key -> doc */
        json_t *expected;    /* owned: key -> version the decisions saw (-1: absent) */
        json_t *answers;     /* owned: key -> {"http_status", "body"} */

        struct pg_array inbox[IN_COLS];
        json_t *wo_puts; /* owned: key -> [plant, work_order, state, revision, doc, deadline] */
        struct outbox_put *outbox; /* owned array */
        size_t n_outbox, cap_outbox;
        json_t *last_envelope;    /* owned reference: the envelope last dumped ... */
        char *last_text;          /* owned: ... as JSON text (see envelope_text) */
        struct trace_rows *trace; /* owned */
        struct pg_array release[REL_COLS];

        struct store_outbox_row *rows; /* owned, after commit, id order */
        size_t n_rows;
};

struct batch_line {
        struct store *store;
        struct store_batch *active;                /* owns the open transaction */
        struct store_batch *wait_head, *wait_tail; /* begun, not started */
        struct store_batch *live;                  /* every batch not yet freed */
        struct wo_cache *cache;                    /* owned */
        unsigned load_next; /* fast batches refused: as many next batches load */
};

/* ---- helpers ---- */

static char *xstrdup(const char *s)
{
        char *d = s ? strdup(s) : NULL;
        if (s && !d)
                abort(); /* out of memory */
        return d;
}

static void arrays_init(struct pg_array *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                pg_array_init(&a[i]);
}

static void arrays_free(struct pg_array *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                pg_array_free(&a[i]);
}

static const char *json_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static json_t *json_col(const PGresult *res, int row, int col)
{
        if (PQgetisnull(res, row, col))
                return json_null();
        json_t *j = json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
        return j ? j : json_null();
}

/* ---- the line ---- */

struct batch_line *batch_line_new(struct store *s)
{
        struct batch_line *line = calloc(1, sizeof(*line));
        if (!line)
                return NULL;
        line->store = s;
        line->cache = wo_cache_new(WO_CACHE_ENTRIES);
        return line;
}

static void live_unlink(struct store_batch *b)
{
        if (!b->line)
                return;
        if (b->live_prev)
                b->live_prev->live_next = b->live_next;
        else
                b->line->live = b->live_next;
        if (b->live_next)
                b->live_next->live_prev = b->live_prev;
        b->live_prev = b->live_next = NULL;
}

static void wait_unlink(struct store_batch *b)
{
        struct batch_line *line = b->line;
        struct store_batch **p = &line->wait_head, *prev = NULL;
        while (*p && *p != b) {
                prev = *p;
                p = &(*p)->next;
        }
        if (!*p)
                return;
        *p = b->next;
        if (line->wait_tail == b)
                line->wait_tail = prev;
        b->next = NULL;
}

/* Report error to the batch's current callback from the loop, never from
 * inside the caller's own call. */
static void batch_defer(struct store_batch *b, bool commit, const char *error)
{
        free(b->defer_error);
        b->defer_error = xstrdup(error);
        b->defer_commit = commit;
        event_active(b->defer, EV_TIMEOUT, 1);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
        struct store_batch *b = arg;
        if (b->defer_commit)
                b->committed_cb(b->committed_arg, b, b->defer_error);
        else
                b->loaded_cb(b->loaded_arg, b, b->defer_error);
}

static void line_pump(struct batch_line *line);

/* The batch's transaction is over (or abandoned): queue a ROLLBACK when
 * asked and the transaction can still be open, then start the next batch. */
static void batch_release(struct store_batch *b, bool rollback)
{
        struct batch_line *line = b->line;
        if (!line || line->active != b)
                return;
        line->active = NULL;
        struct pg_conn *c = store_conn_ingest(line->store);
        bool open = b->tx_open;
        b->tx_open = false;
        if (rollback && open && c && pg_conn_is_up(c) &&
            b->epoch == store_ingest_epoch(line->store)) {
                struct pg_stmt stmt = {"ROLLBACK", 0, NULL};
                pg_conn_submit(c, &stmt, 1, NULL, NULL);
        }
        line_pump(line);
}

static void batch_destroy(struct store_batch *b)
{
        live_unlink(b);
        if (b->defer)
                event_free(b->defer);
        free(b->defer_error);
        arrays_free(b->keys, KEY_COLS);
        for (size_t i = 0; i < b->n_refs; i++) {
                free(b->refs[i].plant);
                free(b->refs[i].work_order);
        }
        free(b->refs);
        json_decref(b->expected);
        arrays_free(b->inbox, IN_COLS);
        trace_rows_free(b->trace);
        arrays_free(b->release, REL_COLS);
        json_decref(b->work_orders);
        json_decref(b->answers);
        json_decref(b->wo_puts);
        for (size_t i = 0; i < b->n_outbox; i++) {
                struct outbox_put *p = &b->outbox[i];
                free(p->destination);
                free(p->lane);
                free(p->envelope);
                free(p->plant);
                free(p->work_order);
                free(p->type);
                free(p->message_id);
                free(p->correlation_id);
        }
        free(b->outbox);
        json_decref(b->last_envelope);
        free(b->last_text);
        store_outbox_rows_free(b->rows, b->n_rows);
        free(b);
}

/* ---- phase 1 ---- */

static void phase1_parse(struct store_batch *b, const PGresult *locked, const PGresult *inbox)
{
        for (int r = 0; locked && r < PQntuples(locked); r++) {
                const char *plant = PQgetvalue(locked, r, 0), *wo = PQgetvalue(locked, r, 1);
                char *key = store_pair_key(plant, wo);
                json_t *doc = json_col(locked, r, 2);
                int64_t version = strtoll(PQgetvalue(locked, r, 3), NULL, 10);
                wo_cache_put(b->line->cache, plant, wo, doc, version);
                json_object_set_new(b->expected, key, json_integer(version));
                json_object_set_new(b->work_orders, key, doc);
                free(key);
        }
        for (int r = 0; inbox && r < PQntuples(inbox); r++) {
                char *key = store_pair_key(PQgetvalue(inbox, r, 0), PQgetvalue(inbox, r, 1));
                json_object_set_new(b->answers, key,
                                    json_pack("{s:i, s:o}", "http_status",
                                              atoi(PQgetvalue(inbox, r, 2)), "body",
                                              json_col(inbox, r, 3)));
                free(key);
        }
}

static void phase1_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct store_batch *b = arg;
        if (b->abandoned) {
                batch_release(b, true);
                batch_destroy(b);
                return;
        }
        if (error) {
                b->state = B_DONE;
                batch_release(b, true);
                b->loaded_cb(b->loaded_arg, b, error);
                return;
        }
        /* results: BEGIN, then the lock (when keys), then the inbox lookup. */
        size_t i = 1;
        const PGresult *locked = b->n_refs ? results[i++] : NULL;
        const PGresult *inbox = b->keys[KEY_IN_SOURCE].n ? results[i++] : NULL;
        phase1_parse(b, locked, inbox);
        b->state = B_LOADED;
        b->loaded_cb(b->loaded_arg, b, NULL);
}

static int phase1_send(struct store_batch *b)
{
        struct store *s = b->line->store;
        struct pg_array wo_keys[2]; /* plant, work order: only the slow path needs them */
        arrays_init(wo_keys, 2);
        for (size_t i = 0; i < b->n_refs; i++) {
                pg_array_add(&wo_keys[0], b->refs[i].plant);
                pg_array_add(&wo_keys[1], b->refs[i].work_order);
        }
        const char *wo_params[] = {pg_array_text(&wo_keys[0]), pg_array_text(&wo_keys[1])};
        const char *in_params[] = {pg_array_text(&b->keys[KEY_IN_SOURCE]),
                                   pg_array_text(&b->keys[KEY_IN_ID])};
        struct pg_stmt stmts[3] = {{"BEGIN", 0, NULL}};
        size_t n = 1;
        if (b->n_refs)
                stmts[n++] = (struct pg_stmt){lock_sql, 2, wo_params};
        if (b->keys[KEY_IN_SOURCE].n)
                stmts[n++] = (struct pg_stmt){inbox_lookup_sql, 2, in_params};
        b->epoch = store_ingest_epoch(s);
        int rc = pg_conn_submit(store_conn_ingest(s), stmts, n, phase1_done, b);
        arrays_free(wo_keys, 2); /* pg_conn_submit copied them */
        b->tx_open = rc == 0;
        return rc;
}

/* Load the batch from the cache when every order it names is cached or may
 * be new (then assumed absent). False: phase 1 must read them. */
static bool load_from_cache(struct store_batch *b)
{
        struct batch_line *line = b->line;
        if (line->load_next) {
                line->load_next--;
                return false;
        }
        for (size_t i = 0; i < b->n_refs; i++) {
                const struct wo_ref *ref = &b->refs[i];
                int64_t version = -1;
                const json_t *doc =
                    wo_cache_get(line->cache, ref->plant, ref->work_order, &version);
                if (!doc && !ref->may_be_new) {
                        json_object_clear(b->work_orders);
                        json_object_clear(b->expected);
                        return false;
                }
                char *key = store_pair_key(ref->plant, ref->work_order);
                if (doc)
                        json_object_set(b->work_orders, key, (json_t *)doc);
                json_object_set_new(b->expected, key, json_integer(doc ? version : -1));
                free(key);
        }
        b->fast = true;
        b->epoch = store_ingest_epoch(line->store);
        return true;
}

/* The batch failed, or may have: its orders are no longer known. */
static void forget_orders(struct store_batch *b)
{
        if (!b->line)
                return;
        for (size_t i = 0; i < b->n_refs; i++)
                wo_cache_forget(b->line->cache, b->refs[i].plant, b->refs[i].work_order);
        const char *key;
        json_t *row;
        json_object_foreach(b->wo_puts, key, row)
        {
                wo_cache_forget(b->line->cache, json_string_value(json_array_get(row, 0)),
                                json_string_value(json_array_get(row, 1)));
        }
}

/* Start waiting batches while the connection is free. */
static void line_pump(struct batch_line *line)
{
        while (!line->active && line->wait_head) {
                struct store_batch *b = line->wait_head;
                line->wait_head = b->next;
                if (!line->wait_head)
                        line->wait_tail = NULL;
                b->next = NULL;
                line->active = b;
                if (load_from_cache(b)) {
                        b->state = B_LOADED;
                        batch_defer(b, false, NULL);
                        return;
                }
                b->state = B_LOADING;
                if (phase1_send(b) == 0)
                        return;
                line->active = NULL;
                b->state = B_DONE;
                char error[600];
                snprintf(error, sizeof(error), "postgres unavailable: %s",
                         pg_conn_last_error(store_conn_ingest(line->store)));
                batch_defer(b, false, error);
        }
}

void batch_line_shutdown(struct batch_line *line)
{
        struct store_batch *b;
        while ((b = line->wait_head)) {
                line->wait_head = b->next;
                if (!line->wait_head)
                        line->wait_tail = NULL;
                b->next = NULL;
                b->state = B_DONE;
                b->loaded_cb(b->loaded_arg, b, "shutting down");
        }
}

void batch_line_free(struct batch_line *line)
{
        if (!line)
                return;
        for (struct store_batch *b = line->live; b; b = b->live_next)
                b->line = NULL;
        wo_cache_free(line->cache);
        free(line);
}

/* ---- public: phase 1 ---- */

struct store_batch *store_batch_begin(struct store *s, const struct store_wo_key *wos, size_t n_wos,
                                      const struct store_inbox_key *inbox, size_t n_inbox,
                                      store_batch_loaded_cb cb, void *arg)
{
        if (!store_accepts_batches(s))
                return NULL;
        struct store_batch *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->line = store_batch_line(s);
        b->loaded_cb = cb;
        b->loaded_arg = arg;
        b->defer = event_new(store_base(s), -1, 0, defer_cb, b);
        b->work_orders = json_object();
        b->expected = json_object();
        b->answers = json_object();
        b->wo_puts = json_object();
        arrays_init(b->keys, KEY_COLS);
        arrays_init(b->inbox, IN_COLS);
        b->trace = trace_rows_new();
        arrays_init(b->release, REL_COLS);
        b->refs = calloc(n_wos ? n_wos : 1, sizeof(*b->refs));
        if (!b->defer || !b->work_orders || !b->expected || !b->answers || !b->wo_puts || !b->refs)
                abort(); /* out of memory */
        for (size_t i = 0; i < n_wos; i++) {
                b->refs[i] = (struct wo_ref){xstrdup(wos[i].plant), xstrdup(wos[i].work_order),
                                             wos[i].may_be_new};
        }
        b->n_refs = n_wos;
        for (size_t i = 0; i < n_inbox; i++) {
                pg_array_add(&b->keys[KEY_IN_SOURCE], inbox[i].source);
                pg_array_add(&b->keys[KEY_IN_ID], inbox[i].id);
        }

        struct batch_line *line = b->line;
        b->live_next = line->live;
        if (line->live)
                line->live->live_prev = b;
        line->live = b;
        b->state = B_WAITING;
        if (line->wait_tail)
                line->wait_tail->next = b;
        else
                line->wait_head = b;
        line->wait_tail = b;
        line_pump(line);
        return b;
}

const json_t *store_batch_work_order(const struct store_batch *b, const char *plant,
                                     const char *work_order)
{
        char *key = store_pair_key(plant, work_order);
        const json_t *doc = json_object_get(b->work_orders, key);
        free(key);
        return doc;
}

const json_t *store_batch_inbox_answer(const struct store_batch *b, const char *source,
                                       const char *id)
{
        char *key = store_pair_key(source, id);
        const json_t *answer = json_object_get(b->answers, key);
        free(key);
        return answer;
}

/* ---- public: writes ---- */

/* The JSON text of an envelope, borrowed until the next call: a message
 * routed to several destinations and stored in the inbox is dumped once
 * (ingest puts its outbox rows and then its inbox entry, and a forwarded
 * message is the same object). Holding a reference keeps the address from
 * being reused meanwhile. */
static const char *envelope_text(struct store_batch *b, const json_t *envelope)
{
        if (envelope != b->last_envelope) {
                json_decref(b->last_envelope);
                free(b->last_text);
                b->last_envelope = json_incref((json_t *)envelope);
                b->last_text = json_text(envelope);
                if (!b->last_text)
                        abort(); /* out of memory */
        }
        return b->last_text;
}

void store_batch_put_inbox(struct store_batch *b, const char *source, const char *id,
                           const char *correlation_id, int http_status, const json_t *body,
                           const json_t *envelope)
{
        json_t *null = json_null();
        pg_array_add(&b->inbox[IN_SOURCE], source);
        pg_array_add(&b->inbox[IN_ID], id);
        pg_array_add(&b->inbox[IN_CORRELATION], correlation_id);
        pg_array_add_int(&b->inbox[IN_STATUS], http_status);
        pg_array_add_json(&b->inbox[IN_ANSWER], body ? body : null);
        pg_array_add(&b->inbox[IN_ENVELOPE], envelope ? envelope_text(b, envelope) : NULL);
        json_decref(null);
}

void store_batch_put_work_order(struct store_batch *b, const char *plant, const char *work_order,
                                const json_t *doc, const char *state, int64_t revision,
                                int64_t next_deadline_ms)
{
        /* The last put of an order wins: an upsert may touch a row once. */
        char *key = store_pair_key(plant, work_order);
        json_t *row = json_pack("[s, s, s?, I, O?, I]", plant, work_order, state,
                                (json_int_t)revision, doc, (json_int_t)next_deadline_ms);
        if (!row)
                abort(); /* out of memory or NULL keys */
        json_object_set_new(b->wo_puts, key, row);
        free(key);
}

void store_batch_put_outbox(struct store_batch *b, const char *destination, const char *lane,
                            const json_t *envelope, bool held)
{
        if (b->n_outbox == b->cap_outbox) {
                size_t cap = b->cap_outbox ? 2 * b->cap_outbox : 8;
                struct outbox_put *grown = realloc(b->outbox, cap * sizeof(*grown));
                if (!grown)
                        abort(); /* out of memory */
                b->outbox = grown;
                b->cap_outbox = cap;
        }
        struct outbox_put *p = &b->outbox[b->n_outbox++];
        p->destination = xstrdup(destination);
        p->lane = xstrdup(lane);
        p->envelope = xstrdup(envelope_text(b, envelope)); /* handed to the committed row */
        p->plant = xstrdup(json_str(envelope, "plant"));
        p->work_order = xstrdup(json_str(envelope, "work_order"));
        p->type = xstrdup(json_str(envelope, "type"));
        p->message_id = xstrdup(json_str(envelope, "id"));
        p->correlation_id = xstrdup(json_str(envelope, "correlation_id"));
        p->held = held;
}

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_batch_put_trace(struct store_batch *b, const char *correlation_id, const char *step,
                           int64_t at_ms, const json_t *detail)
{
        char *text = detail ? json_text(detail) : NULL;
        if (detail && !text)
                abort(); /* a cycle: a bug, not input */
        trace_rows_add(b->trace, correlation_id, step, at_ms > 0 ? at_ms : wall_ms(), text);
        free(text);
}

static bool same(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

void store_batch_release_held(struct store_batch *b, const char *plant, const char *work_order)
{
        for (size_t i = 0; i < b->n_outbox; i++) {
                struct outbox_put *p = &b->outbox[i];
                if (p->held && same(p->plant, plant) && same(p->work_order, work_order))
                        p->held = false;
        }
        pg_array_add(&b->release[REL_PLANT], plant);
        pg_array_add(&b->release[REL_ORDER], work_order);
}

/* ---- phase 2 ---- */

static int row_by_id(const void *a, const void *b)
{
        const struct store_outbox_row *x = a, *y = b;
        return (x->id > y->id) - (x->id < y->id);
}

/* puts: the outbox INSERT's rows come back in put order (ORDER BY ord), so
 * row r takes the envelope text of put r; NULL for the release UPDATE's
 * rows, which copy the column. */
static void phase2_collect(struct store_batch *b, const PGresult *res, struct outbox_put *puts)
{
        if (!res)
                return;
        int n = PQntuples(res);
        struct store_outbox_row *grown =
            realloc(b->rows, (b->n_rows + (size_t)n + 1) * sizeof(*grown));
        if (!grown)
                abort(); /* out of memory */
        b->rows = grown;
        for (int r = 0; r < n; r++) {
                char *text = NULL;
                if (puts && (size_t)r < b->n_outbox) {
                        text = puts[r].envelope;
                        puts[r].envelope = NULL;
                }
                store_outbox_row_with_text(res, r, &b->rows[b->n_rows++], text);
        }
}

/* Statement indexes of phase 2 whose rows the dispatcher gets. */
struct phase2_plan {
        struct pg_stmt stmts[7];
        size_t n;
        int release_at, outbox_at;      /* -1 when not sent */
        const char *params[7][OB_COLS]; /* OB_COLS: the widest statement */
        struct pg_array outbox[OB_COLS], wo[WO_COLS], trace[TR_COLS];
};
_Static_assert((int)OB_COLS >= (int)WO_COLS && (int)OB_COLS >= (int)IN_COLS &&
                   (int)OB_COLS >= (int)TR_COLS,
               "phase2_plan.params holds the widest statement's parameters");

static void plan_add(struct phase2_plan *p, const char *sql, const struct pg_array *cols,
                     int n_cols)
{
        const char **params = p->params[p->n];
        for (int i = 0; i < n_cols; i++)
                params[i] = pg_array_text(&cols[i]);
        p->stmts[p->n++] = (struct pg_stmt){sql, n_cols, params};
}

static void plan_build(struct store_batch *b, struct phase2_plan *p)
{
        p->n = 0;
        p->release_at = p->outbox_at = -1;
        arrays_init(p->outbox, OB_COLS);
        arrays_init(p->wo, WO_COLS);
        arrays_init(p->trace, TR_COLS);
        if (b->inbox[IN_SOURCE].n)
                plan_add(p, inbox_insert_sql, b->inbox, IN_COLS);
        const char *key;
        json_t *row;
        json_object_foreach(b->wo_puts, key, row)
        {
                pg_array_add(&p->wo[WO_PLANT], json_string_value(json_array_get(row, 0)));
                pg_array_add(&p->wo[WO_ORDER], json_string_value(json_array_get(row, 1)));
                pg_array_add(&p->wo[WO_STATE], json_string_value(json_array_get(row, 2)));
                pg_array_add_int(&p->wo[WO_REVISION], json_integer_value(json_array_get(row, 3)));
                json_t *doc = json_array_get(row, 4);
                pg_array_add_json(&p->wo[WO_DOC], json_is_null(doc) ? NULL : doc);
                pg_array_add_int(&p->wo[WO_DEADLINE], json_integer_value(json_array_get(row, 5)));
                const json_t *expected = json_object_get(b->expected, key);
                pg_array_add_int(&p->wo[WO_EXPECTED], expected ? json_integer_value(expected) : -1);
        }
        if (p->wo[WO_PLANT].n) {
                if (b->fast)
                        plan_add(p, wo_checked_sql, p->wo, WO_COLS);
                else
                        plan_add(p, wo_upsert_sql, p->wo, WO_EXPECTED);
        }
        if (b->release[REL_PLANT].n) {
                p->release_at = (int)p->n;
                plan_add(p, release_sql, b->release, REL_COLS);
        }
        for (size_t i = 0; i < b->n_outbox; i++) {
                const struct outbox_put *o = &b->outbox[i];
                pg_array_add(&p->outbox[OB_DESTINATION], o->destination);
                pg_array_add(&p->outbox[OB_LANE], o->lane);
                pg_array_add(&p->outbox[OB_ENVELOPE], o->envelope);
                pg_array_add(&p->outbox[OB_STATE], o->held ? "held" : "pending");
                pg_array_add(&p->outbox[OB_PLANT], o->plant);
                pg_array_add(&p->outbox[OB_ORDER], o->work_order);
                pg_array_add(&p->outbox[OB_TYPE], o->type);
                pg_array_add(&p->outbox[OB_ID], o->message_id);
                pg_array_add(&p->outbox[OB_CORRELATION], o->correlation_id);
        }
        if (b->n_outbox) {
                p->outbox_at = (int)p->n;
                plan_add(p, outbox_insert_sql, p->outbox, OB_COLS);
        }
        if (trace_rows_to_arrays(b->trace, p->trace) > 0)
                plan_add(p, trace_insert_sql, p->trace, TR_COLS);
        /* A fast batch's pipeline is one implicit transaction: committed at
         * its sync, or rolled back whole on the first error. */
        if (!b->fast)
                p->stmts[p->n++] = (struct pg_stmt){"COMMIT", 0, NULL};
}

static void plan_free(struct phase2_plan *p)
{
        arrays_free(p->outbox, OB_COLS);
        arrays_free(p->wo, WO_COLS);
        arrays_free(p->trace, TR_COLS);
}

/* Kept between submit and callback: which results hold outbox rows. */
struct phase2_ctx {
        struct store_batch *b;
        int release_at, outbox_at;
};

/* Committed: what the batch wrote is now the orders' current rows, one
 * version past what the batch saw (1 for a new order). */
static void cache_committed(struct store_batch *b)
{
        const char *key;
        json_t *row;
        json_object_foreach(b->wo_puts, key, row)
        {
                json_t *doc = json_array_get(row, 4);
                const json_t *seen = json_object_get(b->expected, key);
                int64_t version =
                    seen && json_integer_value(seen) >= 0 ? json_integer_value(seen) + 1 : 1;
                if (!json_is_null(doc))
                        wo_cache_put(b->line->cache, json_string_value(json_array_get(row, 0)),
                                     json_string_value(json_array_get(row, 1)), doc, version);
        }
}

/* A fast batch refused for what it assumed (a duplicate key: the inbox id
 * or a new order exists; 40001: a cached order moved on) wrote nothing and
 * can be decided again from what phase 1 loads. */
static bool refused_assumption(const struct store_batch *b, PGresult *const *results, size_t n)
{
        if (!b->fast)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!results[i] || PQresultStatus(results[i]) != PGRES_FATAL_ERROR)
                        continue;
                const char *state = PQresultErrorField(results[i], PG_DIAG_SQLSTATE);
                return state && (strcmp(state, "23505") == 0 || strcmp(state, "40001") == 0);
        }
        return false;
}

static void phase2_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct phase2_ctx *ctx = arg;
        struct store_batch *b = ctx->b;
        int release_at = ctx->release_at, outbox_at = ctx->outbox_at;
        free(ctx);
        if (b->line) {
                if (error)
                        forget_orders(b);
                else if (!b->fast) /* a fast batch cached its writes when sent */
                        cache_committed(b);
        }
        if (error && b->line && refused_assumption(b, results, n)) {
                b->retry = true;
                b->line->load_next++;
        }
        if (b->abandoned) {
                batch_release(b, error != NULL);
                batch_destroy(b);
                return;
        }
        b->state = B_DONE;
        if (error) {
                batch_release(b, true);
                b->committed_cb(b->committed_arg, b, error);
                return;
        }
        if (release_at >= 0)
                phase2_collect(b, results[release_at], NULL);
        if (outbox_at >= 0)
                phase2_collect(b, results[outbox_at], b->outbox);
        if (b->n_rows > 1)
                qsort(b->rows, b->n_rows, sizeof(*b->rows), row_by_id);
        batch_release(b, false);
        b->committed_cb(b->committed_arg, b, NULL);
}

void store_batch_commit(struct store_batch *b, store_batch_committed_cb cb, void *arg)
{
        b->committed_cb = cb;
        b->committed_arg = arg;
        if (!b->line) {
                cb(arg, b, "shutting down");
                return;
        }
        if (b->state != B_LOADED) {
                batch_defer(b, true, "the batch has no open transaction");
                return;
        }
        struct store *s = b->line->store;
        struct pg_conn *c = store_conn_ingest(s);
        if (!c || !pg_conn_is_up(c) || (!b->fast && b->epoch != store_ingest_epoch(s))) {
                b->state = B_DONE;
                batch_release(b, false);
                batch_defer(b, true, "connection lost before commit");
                return;
        }
        struct phase2_plan plan;
        plan_build(b, &plan);
        if (plan.n == 0) { /* a fast batch with nothing to write: done */
                plan_free(&plan);
                b->state = B_DONE;
                batch_release(b, false);
                batch_defer(b, true, NULL);
                return;
        }
        struct phase2_ctx *ctx = malloc(sizeof(*ctx));
        if (!ctx)
                abort(); /* out of memory */
        *ctx = (struct phase2_ctx){b, plan.release_at, plan.outbox_at};
        int rc = pg_conn_submit(c, plan.stmts, plan.n, phase2_done, ctx);
        plan_free(&plan);
        if (rc < 0) {
                free(ctx);
                b->state = B_DONE;
                batch_release(b, false);
                batch_defer(b, true, "connection lost before commit");
                return;
        }
        b->state = B_COMMITTING;
        if (b->fast) {
                /* The whole transaction is queued on the connection: the
                 * next batch may be decided now, from what this one will
                 * have written (if it fails, the orders are forgotten and
                 * a batch decided from them fails its checks too). */
                cache_committed(b);
                batch_release(b, false);
        }
}

bool store_batch_retry(const struct store_batch *b)
{
        return b->retry;
}

const struct store_outbox_row *store_batch_outbox_rows(const struct store_batch *b, size_t *n)
{
        *n = b->n_rows;
        return b->rows;
}

struct store_outbox_row *store_batch_take_outbox_rows(struct store_batch *b, size_t *n)
{
        struct store_outbox_row *rows = b->rows;
        *n = b->n_rows;
        b->rows = NULL;
        b->n_rows = 0;
        return rows;
}

void store_batch_free(struct store_batch *b)
{
        if (!b)
                return;
        switch (b->state) {
        case B_WAITING:
                if (b->line)
                        wait_unlink(b);
                break;
        case B_LOADING:
        case B_COMMITTING:
                b->abandoned = true; /* the request's callback frees it */
                event_del(b->defer);
                return;
        case B_LOADED:
                batch_release(b, true);
                break;
        case B_DONE:
                break;
        }
        batch_destroy(b);
}
