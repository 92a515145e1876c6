/* admin.c — the admin connection's queries (store.h "admin queries"): the
 * admin API's, the gauges' and the pruner's. Each query builds its JSON
 * answer in PostgreSQL (jsonb) and returns one value; this file only parses
 * it and calls back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT     1000

static const char work_order_sql[] =
    "SELECT jsonb_build_object('doc', w.doc, 'deliveries', coalesce(("
    " SELECT jsonb_agg(jsonb_build_object('id', o.id, 'destination', o.destination,"
    " 'type', o.type, 'state', o.state, 'attempts', o.attempts,"
    " 'last_error', o.last_error) ORDER BY o.id)"
    " FROM outbox o WHERE o.plant = w.plant AND o.work_order = w.work_order"
    " AND o.state <> 'delivered'), '[]'))"
    " FROM work_orders w WHERE w.plant = $1 AND w.work_order = $2";

static const char messages_sql[] =
    "SELECT jsonb_build_object('messages', coalesce(jsonb_agg(m.j ORDER BY m.id DESC), '[]'))"
    " FROM (SELECT id, jsonb_build_object('id', id, 'destination', destination,"
    " 'plant', plant, 'work_order', work_order, 'type', type, 'state', state,"
    " 'attempts', attempts, 'last_error', last_error,"
    " 'created_at', " STORE_SQL_TS(
        "created_at") ") AS j"
                      " FROM outbox WHERE ($1::text IS NULL OR state = $1)"
                      " AND ($2::text IS NULL OR destination = $2) AND ($3::text IS NULL OR plant "
                      "= $3)"
                      " ORDER BY id DESC LIMIT $4::int) m";

/* Rows hold the steps one transaction recorded (003_trace_steps.sql):
 * flattened, in time order, rows and steps in the order written. */
#define TRACE_STEP_AT STORE_SQL_TS("to_timestamp((s.step->>'at_ms')::bigint / 1000.0)")
static const char trace_sql[] =
    "SELECT jsonb_build_object('correlation_id', $1::text, 'steps',"
    " jsonb_agg(jsonb_build_object('step', s.step->'step', 'at', " TRACE_STEP_AT ","
    " 'detail', s.step->'detail') ORDER BY (s.step->>'at_ms')::bigint, t.id, s.n))"
    " FROM trace t, json_array_elements(t.steps) WITH ORDINALITY AS s(step, n)"
    " WHERE t.correlation_id = $1 HAVING count(*) > 0";

static const char sla_sql[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('plant', plant, 'work_order', work_order,"
    " 'doc', doc, 'deadline_ms', (extract(epoch from next_deadline_at) * 1000)::bigint)"
    " ORDER BY next_deadline_at), '[]')"
    " FROM work_orders WHERE next_deadline_at IS NOT NULL";

const char store_replay_sql[] =
    "WITH r AS (UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = now()"
    " WHERE state = 'failed' AND ($1::bigint IS NULL OR id = $1::bigint)"
    " AND ($2::text IS NULL OR destination = $2) AND ($3::text IS NULL OR plant = $3)"
    " RETURNING id, state, correlation_id, destination),"
    " t AS (INSERT INTO trace (correlation_id, at, steps)"
    " SELECT coalesce(correlation_id, ''), now(), jsonb_build_array(jsonb_build_object("
    " 'step', 'replayed', 'at_ms', (extract(epoch FROM now()) * 1000)::bigint,"
    " 'detail', jsonb_build_object('id', id, 'destination', destination, 'by', $4::text)))"
    " FROM r)"
    " SELECT jsonb_build_object('id', id, 'state', state) FROM r ORDER BY id";

struct admin_req {
        store_json_cb cb;
        void *arg;
        int result_at; /* the statement whose first row, first column is the answer */
};

static void admin_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct admin_req *req = arg;
        json_t *result = NULL;
        if (!error) {
                const PGresult *res = results[req->result_at];
                if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
                        result = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
        }
        req->cb(req->arg, result, error); /* the callback owns result */
        free(req);
}

/* Submit on the admin connection; 0, or -1 when it is not up (cb not called). */
static int admin_submit(struct store *s, const struct pg_stmt *stmts, size_t n, int result_at,
                        store_json_cb cb, void *arg)
{
        struct pg_conn *c = store_conn_admin(s);
        struct admin_req *req = malloc(sizeof(*req));
        if (!req)
                return -1;
        *req = (struct admin_req){cb, arg, result_at};
        if (!c || pg_conn_submit(c, stmts, n, admin_done, req) < 0) {
                free(req);
                return -1;
        }
        return 0;
}

int store_work_order_get(struct store *s, const char *plant, const char *work_order,
                         store_json_cb cb, void *arg)
{
        const char *params[] = {plant, work_order};
        struct pg_stmt stmt = {work_order_sql, 2, params};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}

int store_messages_list(struct store *s, const char *state, const char *destination,
                        const char *plant, int limit, store_json_cb cb, void *arg)
{
        char lim[16];
        snprintf(lim, sizeof(lim), "%d",
                 limit <= 0          ? DEFAULT_LIMIT
                 : limit > MAX_LIMIT ? MAX_LIMIT
                                     : limit);
        const char *params[] = {state, destination, plant, lim};
        struct pg_stmt stmt = {messages_sql, 4, params};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}

int store_trace_get(struct store *s, const char *correlation_id, store_json_cb cb, void *arg)
{
        const char *params[] = {correlation_id};
        struct pg_stmt stmt = {trace_sql, 1, params};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}

int store_message_replay(struct store *s, int64_t id, store_json_cb cb, void *arg)
{
        char ids[24];
        snprintf(ids, sizeof(ids), "%lld", (long long)id);
        const char *params[] = {ids, NULL, NULL, "api"};
        /* One pipeline = one implicit transaction: the NOTIFY goes out at commit. */
        struct pg_stmt stmts[] = {{store_replay_sql, 4, params},
                                  {STORE_NOTIFY_OUTBOX_SQL, 0, NULL}};
        return admin_submit(s, stmts, 2, 0, cb, arg);
}

int store_sla_pending(struct store *s, store_json_cb cb, void *arg)
{
        struct pg_stmt stmt = {sla_sql, 0, NULL};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}

static const char work_order_stats_sql[] =
    "SELECT jsonb_build_object('work_orders', coalesce((SELECT jsonb_agg(jsonb_build_object("
    "'plant', plant, 'state', state, 'count', n)) FROM (SELECT plant, state, count(*) AS n"
    " FROM work_orders GROUP BY plant, state) c), '[]'),"
    " 'parked', (SELECT coalesce(sum(json_array_length(doc->'parked')), 0)::bigint"
    " FROM work_orders WHERE state = 'new'))";

int store_work_order_stats(struct store *s, store_json_cb cb, void *arg)
{
        struct pg_stmt stmt = {work_order_stats_sql, 0, NULL};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}

/* One statement, so one transaction: each table's oldest rows past their
 * retention, at most $4 of each, found through an index that starts at the
 * oldest (007_retention_indexes.sql), never by reading young rows, and
 * deleted by id (ctid for the inbox) from an array: as "IN (SELECT ...)"
 * the planner hash-joins the ids with a scan of the whole table. An inbox
 * record stays while its work order is open, however old: a resent
 * confirmation must stay a duplicate, not count twice. A NULL retention
 * (forever) compares with NULL and deletes nothing. The trace is
 * append-only: its oldest rows are its first ids, and only those $4 are
 * looked at. tests/store/test_plans.c holds the plan to its indexes. */
const char store_prune_sql[] =
    "WITH o AS (DELETE FROM outbox WHERE id = ANY(ARRAY(SELECT id FROM outbox"
    " WHERE state = 'delivered' AND delivered_at < now() - $1::bigint * interval '1 ms'"
    " ORDER BY delivered_at LIMIT $4::int)) RETURNING 1),"
    " i AS (DELETE FROM inbox WHERE ctid = ANY(ARRAY(SELECT x.ctid FROM inbox x"
    " WHERE x.received_at < now() - $2::bigint * interval '1 ms' AND NOT EXISTS"
    " (SELECT 1 FROM work_orders w WHERE w.plant = x.envelope->>'plant'"
    " AND w.work_order = x.envelope->>'work_order' AND w.state NOT IN ('closed', 'cancelled'))"
    " ORDER BY x.received_at LIMIT $4::int)) RETURNING 1),"
    " t AS (DELETE FROM trace WHERE id = ANY(ARRAY(SELECT id FROM"
    " (SELECT id, at FROM trace ORDER BY id LIMIT $4::int) head"
    " WHERE at < now() - $3::bigint * interval '1 ms')) RETURNING 1)"
    " SELECT jsonb_build_object('outbox', (SELECT count(*) FROM o),"
    " 'inbox', (SELECT count(*) FROM i), 'trace', (SELECT count(*) FROM t))";

/* A retention as a parameter: decimal milliseconds, or NULL for forever. */
static const char *retention_param(char *buf, size_t len, uint64_t ms)
{
        if (ms == 0)
                return NULL;
        snprintf(buf, len, "%llu", (unsigned long long)ms);
        return buf;
}

int store_prune(struct store *s, const struct store_retention *r, int limit, store_json_cb cb,
                void *arg)
{
        char out[24], in[24], tr[24], lim[16];
        snprintf(lim, sizeof(lim), "%d", limit);
        const char *params[] = {retention_param(out, sizeof(out), r->delivered_ms),
                                retention_param(in, sizeof(in), r->inbox_ms),
                                retention_param(tr, sizeof(tr), r->trace_ms), lim};
        struct pg_stmt stmt = {store_prune_sql, 4, params};
        return admin_submit(s, &stmt, 1, 0, cb, arg);
}
