/* outbox_delivery.c — the delivery engine's queries (include/takt/
 * store_delivery.h): page pending rows, list blocked lanes, write a loop
 * turn's outcomes and trace steps in one transaction over unnest() arrays,
 * aggregate counts for the gauges, LISTEN takt_outbox. Owned by the
 * delivery helper; everything runs on the store's delivery connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_array.h"
#include "trace_rows.h"
#include "store_internal.h"
#include "takt/store_delivery.h"

/* One queued request: which callback to call (one of them is set). Freed
 * after the callback. */
struct od_req {
        store_rows_cb rows_cb;
        store_blocked_cb blocked_cb;
        store_done_cb done_cb;
        store_counts_cb counts_cb;
        void *arg;
};

static struct od_req *od_req_new(void *arg)
{
        struct od_req *r = calloc(1, sizeof(*r));
        if (r)
                r->arg = arg;
        return r;
}

static char *dup_value(const PGresult *res, int row, int col)
{
        if (PQgetisnull(res, row, col))
                return NULL;
        return strdup(PQgetvalue(res, row, col));
}

static int submit_on(struct pg_conn *c, const struct pg_stmt *stmts, size_t n, pg_done_cb cb,
                     struct od_req *r)
{
        if (r == NULL || c == NULL || pg_conn_submit(c, stmts, n, cb, r) != 0) {
                free(r);
                return -1;
        }
        return 0;
}

/* The dispatcher's own statements, in order on the delivery connection. */
static int submit(struct store *s, const struct pg_stmt *stmts, size_t n, pg_done_cb cb,
                  struct od_req *r)
{
        return submit_on(store_conn_delivery(s), stmts, n, cb, r);
}

/* ---- pending pages ---- */

static void rows_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct od_req *r = arg;
        struct store_outbox_row *rows = NULL;
        int count = 0;
        if (error == NULL && n == 1 && results[0] != NULL) {
                count = PQntuples(results[0]);
                rows = count > 0 ? calloc((size_t)count, sizeof(*rows)) : NULL;
                if (count > 0 && rows == NULL) {
                        error = "out of memory";
                        count = 0;
                }
                for (int i = 0; i < count; i++)
                        store_outbox_row_from_result(results[0], i, &rows[i]);
        }
        r->rows_cb(r->arg, rows, (size_t)count, error);
        free(r);
}

int store_outbox_load_pending(struct store *s, int64_t after_id, int limit, store_rows_cb cb,
                              void *arg)
{
        static const char sql[] =
            "SELECT " STORE_OUTBOX_COLUMNS " FROM outbox o"
            " WHERE o.state = 'pending' AND o.id > $1::bigint"
            " AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.destination = o.destination"
            " AND b.lane = o.lane AND b.state IN ('failed', 'held') AND b.id < o.id)"
            " ORDER BY o.id LIMIT $2::int";
        char after[24], lim[16];
        snprintf(after, sizeof(after), "%lld", (long long)after_id);
        snprintf(lim, sizeof(lim), "%d", limit);
        const char *params[] = {after, lim};
        struct pg_stmt st = {sql, 2, params};
        struct od_req *r = od_req_new(arg);
        if (r)
                r->rows_cb = cb;
        return submit(s, &st, 1, rows_done, r);
}

/* ---- blocked lanes ---- */

static void blocked_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct od_req *r = arg;
        struct store_blocked_lane *lanes = NULL;
        int count = 0;
        if (error == NULL && n == 1 && results[0] != NULL) {
                count = PQntuples(results[0]);
                lanes = count > 0 ? calloc((size_t)count, sizeof(*lanes)) : NULL;
                if (count > 0 && lanes == NULL) {
                        error = "out of memory";
                        count = 0;
                }
                for (int i = 0; i < count; i++) {
                        lanes[i].destination = dup_value(results[0], i, 0);
                        lanes[i].lane = dup_value(results[0], i, 1);
                        lanes[i].first_id = strtoll(PQgetvalue(results[0], i, 2), NULL, 10);
                        lanes[i].held = PQgetvalue(results[0], i, 3)[0] == 't';
                }
        }
        r->blocked_cb(r->arg, lanes, (size_t)count, error);
        free(r);
}

int store_outbox_blocked_lanes(struct store *s, store_blocked_cb cb, void *arg)
{
        static const char sql[] =
            "SELECT destination, lane, min(id), (array_agg(state ORDER BY id))[1] = 'held'"
            " FROM outbox WHERE state IN ('failed', 'held') GROUP BY 1, 2";
        struct pg_stmt st = {sql, 0, NULL};
        struct od_req *r = od_req_new(arg);
        if (r)
                r->blocked_cb = cb;
        return submit(s, &st, 1, blocked_done, r);
}

void store_blocked_lanes_free(struct store_blocked_lane *lanes, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(lanes[i].destination);
                free(lanes[i].lane);
        }
        free(lanes);
}

/* ---- outcomes ---- */

/* An integer element, or SQL NULL when null. */
static void add_int_or_null(struct pg_array *a, long long v, bool null)
{
        if (null)
                pg_array_add(a, NULL);
        else
                pg_array_add_int(a, v);
}

static void done_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct od_req *r = arg;
        r->done_cb(r->arg, error);
        free(r);
}

/* An outcome updates its row only while the row is still pending. That
 * state is a parameter per row (u.was), not the constant 'pending': with a
 * constant the planner may read every 'pending' entry of outbox_open_idx
 * and hash-join them to u, and that partial index keeps an entry for each
 * delivered row until VACUUM removes it. auto_explain at c=64 after 8 s:
 * 23,906 index entries and 3,015 heap pages per outcome batch of 34 rows,
 * 6-13 ms, growing with the table. Compared with u.was, the state can only
 * be checked on the row found by its id. tests/store/test_plans.c holds
 * this to a bounded number of buffers per row. */
const char store_outcome_update_sql[] =
    "UPDATE outbox o SET state = u.state, attempts = u.attempts,"
    " next_attempt_at = to_timestamp(u.next_ms / 1000.0),"
    " last_error = COALESCE(u.last_error, o.last_error),"
    " delivered_at = to_timestamp(u.delivered_ms / 1000.0)"
    " FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[],"
    " $6::bigint[], $7::text[]) AS u(id, state, attempts, next_ms, last_error, delivered_ms, was)"
    " WHERE o.id = u.id AND o.state = u.was";

enum {
        OUT_ID,
        OUT_STATE,
        OUT_ATT,
        OUT_NEXT,
        OUT_ERR,
        OUT_DELIV,
        OUT_WAS,
        TR_CID,
        TR_AT,
        TR_STEPS,
        N_ARRS
};

int store_outbox_record(struct store *s, const struct store_outcome *o, size_t n_outcomes,
                        const struct store_trace_step *t, size_t n_steps, store_done_cb cb,
                        void *arg)
{
        static const char trace_sql[] =
            "INSERT INTO trace (correlation_id, at, steps)"
            " SELECT c, to_timestamp(a / 1000.0), st::json"
            " FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(c, a, st)";
        struct pg_array a[N_ARRS];
        for (int i = 0; i < N_ARRS; i++)
                pg_array_init(&a[i]);
        for (size_t i = 0; i < n_outcomes; i++) {
                pg_array_add_int(&a[OUT_ID], o[i].id);
                pg_array_add(&a[OUT_STATE], o[i].state);
                pg_array_add_int(&a[OUT_ATT], o[i].attempts);
                add_int_or_null(&a[OUT_NEXT], o[i].next_attempt_ms, o[i].next_attempt_ms == 0);
                pg_array_add(&a[OUT_ERR], o[i].last_error);
                add_int_or_null(&a[OUT_DELIV], o[i].delivered_ms, o[i].delivered_ms == 0);
                pg_array_add(&a[OUT_WAS], "pending");
        }
        struct trace_rows *rows = trace_rows_new();
        for (size_t i = 0; i < n_steps; i++)
                trace_rows_add(rows, t[i].correlation_id, t[i].step, t[i].at_ms,
                               t[i].detail ? t[i].detail : "{}");
        size_t n_rows = trace_rows_to_arrays(rows, &a[TR_CID]);
        trace_rows_free(rows);
        const char *p[N_ARRS];
        for (int i = 0; i < N_ARRS; i++)
                p[i] = pg_array_text(&a[i]);
        /* Asynchronous commit: an outcome lost in a crash only means the
         * message is sent again (at least once, same Idempotency-Key), so
         * its COMMIT need not wait for the WAL flush. Acceptance (ingest)
         * stays synchronous; the next synchronous commit flushes this too. */
        struct pg_stmt all[5] = {{"BEGIN", 0, NULL},
                                 {"SET LOCAL synchronous_commit TO off", 0, NULL}};
        size_t ns = 2;
        if (n_outcomes > 0)
                all[ns++] = (struct pg_stmt){store_outcome_update_sql, 7, &p[OUT_ID]};
        if (n_rows > 0)
                all[ns++] = (struct pg_stmt){trace_sql, 3, &p[TR_CID]};
        all[ns++] = (struct pg_stmt){"COMMIT", 0, NULL};
        struct od_req *r = od_req_new(arg);
        if (r)
                r->done_cb = cb;
        /* pg_conn_submit copies the parameters. */
        int rc = submit(s, all, ns, done_done, r);
        for (int i = 0; i < N_ARRS; i++)
                pg_array_free(&a[i]);
        return rc;
}

/* ---- gauges ---- */

static void counts_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct od_req *r = arg;
        struct store_outbox_count *c = NULL;
        int count = 0;
        if (error == NULL && n == 1 && results[0] != NULL) {
                count = PQntuples(results[0]);
                c = count > 0 ? calloc((size_t)count, sizeof(*c)) : NULL;
                if (count > 0 && c == NULL) {
                        error = "out of memory";
                        count = 0;
                }
                for (int i = 0; i < count; i++) {
                        c[i].destination = dup_value(results[0], i, 0);
                        c[i].state = dup_value(results[0], i, 1);
                        c[i].count = strtol(PQgetvalue(results[0], i, 2), NULL, 10);
                        c[i].oldest_s = strtod(PQgetvalue(results[0], i, 3), NULL);
                }
        }
        r->counts_cb(r->arg, c, (size_t)count, error);
        free(r);
}

int store_outbox_counts(struct store *s, store_counts_cb cb, void *arg)
{
        static const char sql[] =
            "SELECT destination, state, count(*),"
            " COALESCE(extract(epoch from now() - min(created_at)), 0)::float8"
            " FROM outbox WHERE state IN ('pending', 'failed') GROUP BY 1, 2";
        struct pg_stmt st = {sql, 0, NULL};
        struct od_req *r = od_req_new(arg);
        if (r)
                r->counts_cb = cb;
        /* On the admin connection: counting reads every entry of the open
         * state indexes, including those of rows delivered since the last
         * VACUUM (112 ms per count after 40 s at c=64, growing with the
         * table), and on the delivery connection each count held up the
         * outcomes queued behind it. */
        return submit_on(store_conn_admin(s), &st, 1, counts_done, r);
}

void store_outbox_counts_free(struct store_outbox_count *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(c[i].destination);
                free(c[i].state);
        }
        free(c);
}

void store_outbox_listen(struct store *s, store_outbox_notify_cb cb, void *arg)
{
        struct pg_conn *c = store_conn_listen(s);
        if (c)
                pg_conn_listen(c, "takt_outbox", cb, arg);
}

bool store_delivery_conn_up(struct store *s)
{
        struct pg_conn *c = store_conn_delivery(s);
        return c != NULL && pg_conn_is_up(c);
}
