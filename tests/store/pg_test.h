/* pg_test.h — what the store's integration tests share: a fresh database per
 * test, blocking SQL for setup and checks, and running the loop until a
 * callback has fired. The server comes from tests/harness/with-postgres.sh
 * (TAKT_PG_CONNINFO); without it every test FAILS. */
#ifndef TAKT_TESTS_PG_TEST_H
#define TAKT_TESTS_PG_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

struct event_base;
struct store;

/* For main(): 0 when TAKT_PG_CONNINFO is set, else prints why and returns 1
 * (the test FAILS, never skips). */
int pgt_require_server(void);
/* TAKT_PG_CONNINFO; fails the test when unset. */
const char *pgt_base_conninfo(void);

/* CREATE DATABASE with a unique name; returns its conninfo (caller frees). */
char *pgt_fresh_db(void);

/* Run SQL (blocking) on conninfo and fail the test on error. Returns the
 * result of the last statement (caller PQclears). */
PGresult *pgt_exec(const char *conninfo, const char *sql);
/* The first column of the first row as a long (fails the test on error). */
long pgt_long(const char *conninfo, const char *sql);
/* Migrate conninfo with store_migrate_blocking (fails the test on error). */
void pgt_migrate(const char *conninfo);

/* Run the loop until *flag or timeout_ms passed; returns *flag. */
bool pgt_run_until(struct event_base *base, const bool *flag, int timeout_ms);
/* Run the loop for ms. */
void pgt_run_for(struct event_base *base, int ms);

/* tests/harness/pg-stop.sh or pg-start.sh (fails the test when they fail). */
void pgt_server_stop(void);
void pgt_server_start(void);

/* A store on the loop, started and waited for until ready (fails the test
 * when it is not ready within 10 s). */
struct store *pgt_store_ready(struct event_base *base, const char *conninfo, bool auto_migrate);

/* Records one store_json_cb answer. */
struct pgt_json {
        bool done;
        json_t *result; /* owned reference (store.h: results are new references) */
        char error[512];
};
void pgt_json_cb(void *arg, json_t *result, const char *error);
void pgt_json_clear(struct pgt_json *j);

#endif
