/* store.c — the store's lifecycle and readiness.
 *
 * Owns its connections (ingest, delivery, admin, listen, as many as its
 * roles need: opened by store_new_for, so store_conn_*() are valid at once;
 * NULL for a connection the store does not open) and decides
 * readiness: every connection up and the schema at the version this build
 * knows. The schema version is read on the admin connection whenever it comes
 * up and, while the store is not ready, once a second (so a daemon started on
 * an unmigrated database becomes ready once someone runs taktd --migrate).
 * With auto_migrate, a missing schema is migrated by one pipeline on the
 * admin connection (the same plan as taktd --migrate, migrate.c): an
 * implicit transaction under the advisory lock, guarded against a concurrent
 * migration. Readiness changes are logged and reported to the ready callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "migrate.h"
#include "store_internal.h"
#include "takt/log.h"

#define STORE_RECHECK_MS          1000
#define STORE_MIGRATE_RETRY_TICKS 30 /* after a failed migrate: auto, rechecks before the next */

enum store_conn { CONN_INGEST, CONN_DELIVERY, CONN_ADMIN, CONN_LISTEN, STORE_CONNS };
static const char *const conn_names[STORE_CONNS] = {"ingest", "delivery", "admin", "listen"};

enum schema_state {
        SCHEMA_UNKNOWN, /* not read since the admin connection came up */
        SCHEMA_CHECKING,
        SCHEMA_MIGRATING,
        SCHEMA_KNOWN,
};

struct store {
        struct event_base *base;
        char *conninfo; /* owned */
        bool auto_migrate;
        struct metrics *metrics; /* borrowed, may be NULL (not used yet) */

        struct pg_conn *conns[STORE_CONNS]; /* owned, by enum store_conn */
        bool opened[STORE_CONNS];           /* the roles need this connection */
        struct batch_line *line;            /* owned */
        uint64_t ingest_epoch;

        enum schema_state schema;
        int schema_version;
        char schema_error[300]; /* why the last check or migration failed, "" if none */
        int migrate_hold;       /* rechecks to wait before migrating again after a failure */
        struct event *recheck;  /* owned: the once-a-second re-check */

        store_ready_cb ready_cb;
        void *ready_arg;
        bool started, shutting_down;
        bool ready, reported;
        char reason[700];
};

static void store_check_schema(struct store *s);

/* ---- readiness ---- */

/* Why the store is not ready, into reason; true when it is. */
static bool store_eval(const struct store *s, char *reason, size_t len)
{
        int known = store_schema_version_known();
        if (!s->started) {
                snprintf(reason, len, "starting");
                return false;
        }
        for (size_t i = 0; i < STORE_CONNS; i++) {
                const struct pg_conn *c = s->conns[i];
                if (!s->opened[i])
                        continue;
                if (!c) {
                        snprintf(reason, len, "postgres unreachable: connecting");
                        return false;
                }
                if (!pg_conn_is_up(c)) {
                        const char *err = pg_conn_last_error(c);
                        snprintf(reason, len, "postgres unreachable: %s",
                                 *err ? err : "connecting");
                        return false;
                }
        }
        if (s->schema_error[0]) {
                snprintf(reason, len, "%s", s->schema_error);
                return false;
        }
        if (s->schema != SCHEMA_KNOWN) {
                snprintf(reason, len, "checking the schema version");
                return false;
        }
        if (s->schema_version < known) {
                snprintf(reason, len, "schema not migrated: run taktd --migrate");
                return false;
        }
        if (s->schema_version > known) {
                snprintf(reason, len, "schema version %d is newer than this build knows (%d)",
                         s->schema_version, known);
                return false;
        }
        reason[0] = '\0';
        return true;
}

bool store_schema_too_new(const struct store *s)
{
        return s->schema == SCHEMA_KNOWN && s->schema_version > store_schema_version_known();
}

/* Re-evaluate; log and report a change. */
static void store_update(struct store *s)
{
        if (s->shutting_down || !s->started)
                return;
        char reason[sizeof(s->reason)];
        bool ready = store_eval(s, reason, sizeof(reason));
        if (s->reported && ready == s->ready && strcmp(reason, s->reason) == 0)
                return;
        s->ready = ready;
        s->reported = true;
        memcpy(s->reason, reason, sizeof(reason));
        char logged[sizeof(s->reason)];
        store_log_safe(logged, sizeof(logged), s->reason);
        if (ready)
                log_info("store.ready", "schema_version=%d", s->schema_version);
        else
                log_warn("store.not_ready", "reason=\"%s\"", logged);
        if (s->ready_cb)
                s->ready_cb(s->ready_arg, ready, ready ? NULL : s->reason);
}

/* ---- schema version and migrate: auto ---- */

static void schema_failed(struct store *s, const char *what, const char *error)
{
        snprintf(s->schema_error, sizeof(s->schema_error), "%s: %s", what, error);
        s->schema = SCHEMA_UNKNOWN;
        store_update(s);
}

static void migrate_done(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct store *s = arg;
        if (s->shutting_down)
                return;
        if (error) {
                char logged[512];
                store_log_safe(logged, sizeof(logged), error);
                log_error("store.migrate_failed", "error=\"%s\" retry_s=%d", logged,
                          STORE_MIGRATE_RETRY_TICKS * STORE_RECHECK_MS / 1000);
                s->migrate_hold = STORE_MIGRATE_RETRY_TICKS;
                schema_failed(s, "migration failed", error);
                return;
        }
        log_info("store.migrated", "schema_version=%d", store_schema_version_known());
        s->schema = SCHEMA_UNKNOWN;
        store_check_schema(s);
}

/* One pipeline: lock; schema_version; guard (nobody migrated since we read
 * `from`); the plan. No BEGIN: the pipeline is one implicit transaction. */
static void store_migrate_async(struct store *s, int from)
{
        struct store_sql_list plan = {0};
        if (store_migrate_plan(from, &plan) < 0) {
                store_sql_list_clear(&plan);
                schema_failed(s, "migration failed", "embedded migration does not parse");
                return;
        }
        char guard[300];
        snprintf(guard, sizeof(guard),
                 "DO $guard$ BEGIN IF (SELECT coalesce(max(version), 0) FROM schema_version) "
                 "<> %d THEN RAISE EXCEPTION 'schema changed by a concurrent migration'; "
                 "END IF; END $guard$",
                 from);
        size_t n = plan.n + 3;
        struct pg_stmt *stmts = calloc(n, sizeof(*stmts));
        if (!stmts)
                abort(); /* out of memory */
        stmts[0].sql = STORE_MIGRATE_LOCK_SQL;
        stmts[1].sql = STORE_SCHEMA_VERSION_CREATE_SQL;
        stmts[2].sql = guard;
        for (size_t i = 0; i < plan.n; i++)
                stmts[i + 3].sql = plan.stmts[i];
        log_info("store.migrating", "from=%d to=%d", from, store_schema_version_known());
        if (pg_conn_submit(s->conns[CONN_ADMIN], stmts, n, migrate_done, s) == 0)
                s->schema = SCHEMA_MIGRATING;
        free(stmts);
        store_sql_list_clear(&plan);
}

static void schema_checked(void *arg, PGresult *const *results, size_t n, const char *error)
{
        struct store *s = arg;
        if (s->shutting_down || s->schema != SCHEMA_CHECKING)
                return;
        int version = 0;
        if (error) {
                const char *state =
                    results[0] ? PQresultErrorField(results[0], PG_DIAG_SQLSTATE) : NULL;
                if (!state || strcmp(state, STORE_SQLSTATE_UNDEFINED_TABLE) != 0) {
                        schema_failed(s, "schema check failed", error);
                        return;
                }
        } else {
                version = atoi(PQgetvalue(results[0], 0, 0));
        }
        if (version < store_schema_version_known() && s->auto_migrate) {
                if (s->migrate_hold > 0) { /* keep saying why it failed */
                        s->schema = SCHEMA_UNKNOWN;
                        return;
                }
                s->schema_error[0] = '\0';
                store_migrate_async(s, version);
                if (s->schema == SCHEMA_MIGRATING)
                        return;
        }
        s->schema_error[0] = '\0';
        s->schema = SCHEMA_KNOWN;
        s->schema_version = version;
        store_update(s);
}

static void store_check_schema(struct store *s)
{
        if (s->shutting_down || !pg_conn_is_up(s->conns[CONN_ADMIN]) ||
            s->schema == SCHEMA_CHECKING || s->schema == SCHEMA_MIGRATING)
                return;
        struct pg_stmt stmt = {STORE_SCHEMA_VERSION_SQL, 0, NULL};
        if (pg_conn_submit(s->conns[CONN_ADMIN], &stmt, 1, schema_checked, s) == 0)
                s->schema = SCHEMA_CHECKING;
}

static void recheck_cb(evutil_socket_t fd, short what, void *arg)
{
        struct store *s = arg;
        if (s->migrate_hold > 0)
                s->migrate_hold--;
        if (!s->ready)
                store_check_schema(s);
}

/* ---- connections ---- */

const char store_keyed_session_sql[] = "SET enable_seqscan = off";

static void conn_state(void *arg, struct pg_conn *c, bool up)
{
        struct store *s = arg;
        if (c == s->conns[CONN_INGEST] && !up)
                s->ingest_epoch++;
        /* The ingest and delivery connections only read and write rows by
         * key, always through an index. Their statements are prepared, and
         * a generic plan made while a table is small (a new database, the
         * first minutes) joins the unnest() rows against a sequential scan
         * and keeps doing so as the table grows: measured 0.9 ms instead of
         * 0.1 ms per work-order write at a few hundred orders, and worse
         * later. First thing on every connect, before anything is planned. */
        if (up && (c == s->conns[CONN_INGEST] || c == s->conns[CONN_DELIVERY])) {
                struct pg_stmt keyed_only = {store_keyed_session_sql, 0, NULL};
                pg_conn_submit(c, &keyed_only, 1, NULL, NULL);
        }
        if (c == s->conns[CONN_ADMIN]) {
                s->schema = SCHEMA_UNKNOWN;
                s->schema_error[0] = '\0';
                if (up)
                        store_check_schema(s);
        }
        store_update(s);
}

/* ---- public ---- */

struct store *store_new(struct event_base *base, const char *conninfo, bool auto_migrate,
                        struct metrics *metrics)
{
        return store_new_for(base, conninfo, auto_migrate, metrics,
                             STORE_ROLE_INGEST | STORE_ROLE_DELIVERY);
}

struct store *store_new_for(struct event_base *base, const char *conninfo, bool auto_migrate,
                            struct metrics *metrics, unsigned roles)
{
        struct store *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->base = base;
        s->conninfo = strdup(conninfo ? conninfo : "");
        s->auto_migrate = auto_migrate;
        s->metrics = metrics;
        s->recheck = event_new(base, -1, EV_PERSIST, recheck_cb, s);
        s->line = batch_line_new(s);
        if (!s->conninfo || !s->recheck || !s->line) {
                store_free(s);
                return NULL;
        }
        s->opened[CONN_INGEST] = roles & STORE_ROLE_INGEST;
        s->opened[CONN_DELIVERY] = s->opened[CONN_LISTEN] = roles & STORE_ROLE_DELIVERY;
        s->opened[CONN_ADMIN] = true;
        for (size_t i = 0; i < STORE_CONNS; i++)
                if (s->opened[i])
                        s->conns[i] = pg_conn_new(base, s->conninfo, conn_names[i], conn_state, s);
        snprintf(s->reason, sizeof(s->reason), "starting");
        return s;
}

void store_set_ready_cb(struct store *s, store_ready_cb cb, void *arg)
{
        s->ready_cb = cb;
        s->ready_arg = arg;
}

void store_start(struct store *s)
{
        if (s->started)
                return;
        s->started = true;
        struct timeval tv = {STORE_RECHECK_MS / 1000, (STORE_RECHECK_MS % 1000) * 1000};
        event_add(s->recheck, &tv);
        store_update(s);
}

bool store_is_ready(const struct store *s, const char **reason)
{
        if (reason)
                *reason = s->ready ? NULL : s->reason;
        return s->ready;
}

void store_free(struct store *s)
{
        if (!s)
                return;
        s->shutting_down = true;
        s->ready = false;
        if (s->recheck)
                event_free(s->recheck);
        if (s->line)
                batch_line_shutdown(s->line);
        for (size_t i = 0; i < STORE_CONNS; i++) {
                struct pg_conn *c = s->conns[i];
                s->conns[i] = NULL; /* callbacks run by the free see it gone */
                pg_conn_free(c);
        }
        if (s->line)
                batch_line_free(s->line);
        free(s->conninfo);
        free(s);
}

struct pg_conn *store_conn_ingest(struct store *s)
{
        return s->conns[CONN_INGEST];
}

struct pg_conn *store_conn_delivery(struct store *s)
{
        return s->conns[CONN_DELIVERY];
}

struct pg_conn *store_conn_admin(struct store *s)
{
        return s->conns[CONN_ADMIN];
}

struct pg_conn *store_conn_listen(struct store *s)
{
        return s->conns[CONN_LISTEN];
}

struct event_base *store_base(const struct store *s)
{
        return s->base;
}

uint64_t store_ingest_epoch(const struct store *s)
{
        return s->ingest_epoch;
}

bool store_accepts_batches(const struct store *s)
{
        return s->ready && !s->shutting_down && s->conns[CONN_INGEST] &&
               pg_conn_is_up(s->conns[CONN_INGEST]);
}

struct batch_line *store_batch_line(struct store *s)
{
        return s->line;
}
