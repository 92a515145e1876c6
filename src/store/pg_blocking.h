/* pg_blocking.h — blocking libpq helpers for the command line paths
 * (taktd --migrate, taktd --replay). Never used on the event loop. */
#ifndef TAKT_PG_BLOCKING_H
#define TAKT_PG_BLOCKING_H

#include <stddef.h>

#include <libpq-fe.h>

/* Connect as "taktd-<role>" (store_pq_connect); NULL with err on failure.
 * Server notices are dropped (the CLI prints only its own result). The
 * caller PQfinish()es the connection. */
PGconn *pgb_connect(const char *conninfo, const char *role, char *err, size_t errlen);

/* Run one statement with text params. Returns the result (caller
 * PQclear()s) when it succeeded, else NULL with err ("<what>: <message>"). */
PGresult *pgb_exec(PGconn *pg, const char *what, const char *sql, int n_params,
                   const char *const *params, char *err, size_t errlen);

/* Run a statement whose result is not needed: 0, or -1 with err. */
int pgb_run(PGconn *pg, const char *what, const char *sql, char *err, size_t errlen);

/* The primary message of a failed result (or the connection's error), without
 * the trailing newline, into buf. */
void pgb_error_text(const PGconn *pg, const PGresult *res, char *buf, size_t len);

#endif
