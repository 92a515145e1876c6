/* pg_test.c — helpers for the store's integration tests (pg_test.h). */
#include "pg_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "takt/store.h"

int pgt_require_server(void)
{
        const char *ci = getenv("TAKT_PG_CONNINFO");
        if (ci && *ci)
                return 0;
        fprintf(stderr, "TAKT_PG_CONNINFO is not set: run under tests/harness/with-postgres.sh\n");
        return 1;
}

const char *pgt_base_conninfo(void)
{
        const char *ci = getenv("TAKT_PG_CONNINFO");
        if (!ci || !*ci)
                fail_msg("TAKT_PG_CONNINFO is not set: run under tests/harness/with-postgres.sh");
        return ci;
}

char *pgt_fresh_db(void)
{
        static unsigned counter;
        char name[64], sql[128];
        snprintf(name, sizeof(name), "takt_t_%ld_%u_%ld", (long)getpid(), counter++,
                 (long)time(NULL) % 100000);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
        PQclear(pgt_exec(pgt_base_conninfo(), sql));
        char *ci = NULL;
        assert_true(asprintf(&ci, "%s dbname=%s", pgt_base_conninfo(), name) > 0);
        return ci;
}

PGresult *pgt_exec(const char *conninfo, const char *sql)
{
        PGconn *pg = PQconnectdb(conninfo);
        if (PQstatus(pg) != CONNECTION_OK)
                fail_msg("connect %s: %s", conninfo, PQerrorMessage(pg));
        PGresult *res = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                fail_msg("%s: %s", sql, PQerrorMessage(pg));
        PQfinish(pg);
        return res;
}

long pgt_long(const char *conninfo, const char *sql)
{
        PGresult *res = pgt_exec(conninfo, sql);
        assert_true(PQntuples(res) >= 1);
        long v = atol(PQgetvalue(res, 0, 0));
        PQclear(res);
        return v;
}

void pgt_migrate(const char *conninfo)
{
        char err[512] = "";
        int version = 0;
        if (store_migrate_blocking(conninfo, &version, err, sizeof(err)) != 0)
                fail_msg("migrate: %s", err);
        assert_int_equal(version, store_schema_version_known());
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool pgt_run_until(struct event_base *base, const bool *flag, int timeout_ms)
{
        struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
        struct timeval tv = {0, 20000};
        event_add(t, &tv);
        long long deadline = now_ms() + timeout_ms;
        while (!(flag && *flag) && now_ms() < deadline)
                event_base_loop(base, EVLOOP_ONCE);
        event_free(t);
        return flag && *flag;
}

void pgt_run_for(struct event_base *base, int ms)
{
        pgt_run_until(base, NULL, ms);
}

static void run_script(const char *name)
{
        const char *src = getenv("TAKT_SOURCE_DIR");
        assert_non_null(src);
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s/tests/harness/%s >/dev/null", src, name);
        if (system(cmd) != 0)
                fail_msg("%s failed", cmd);
}

void pgt_server_stop(void)
{
        run_script("pg-stop.sh");
}

void pgt_server_start(void)
{
        run_script("pg-start.sh");
}

struct ready_box {
        bool ready;
};

static void on_ready(void *arg, bool ready, const char *reason)
{
        ((struct ready_box *)arg)->ready = ready;
}

struct store *pgt_store_ready(struct event_base *base, const char *conninfo, bool auto_migrate)
{
        static struct ready_box box;
        box.ready = false;
        struct store *s = store_new(base, conninfo, auto_migrate, NULL);
        assert_non_null(s);
        store_set_ready_cb(s, on_ready, &box);
        store_start(s);
        if (!pgt_run_until(base, &box.ready, 10000)) {
                const char *reason = NULL;
                store_is_ready(s, &reason);
                fail_msg("store not ready: %s", reason ? reason : "?");
        }
        store_set_ready_cb(s, NULL, NULL);
        return s;
}

void pgt_json_cb(void *arg, json_t *result, const char *error)
{
        struct pgt_json *j = arg;
        j->done = true;
        j->result = result; /* a new reference: ours now */
        snprintf(j->error, sizeof(j->error), "%s", error ? error : "");
}

void pgt_json_clear(struct pgt_json *j)
{
        json_decref(j->result);
        memset(j, 0, sizeof(*j));
}
