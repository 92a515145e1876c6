/* pg_blocking.c — blocking libpq helpers for the command line paths: connect,
 * run one statement, turn a failure into one line of text. */
#include "pg_blocking.h"

#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static void ignore_notice(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

void pgb_error_text(const PGconn *pg, const PGresult *res, char *buf, size_t len)
{
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg || !*msg)
                msg = res ? PQresultErrorMessage(res) : "";
        if (!*msg && pg)
                msg = PQerrorMessage(pg);
        store_one_line(buf, len, msg);
}

PGconn *pgb_connect(const char *conninfo, const char *role, char *err, size_t errlen)
{
        PGconn *pg = store_pq_connect(conninfo, role, false);
        if (!pg) {
                snprintf(err, errlen, "postgres unreachable: out of memory");
                return NULL;
        }
        if (PQstatus(pg) != CONNECTION_OK) {
                char msg[512];
                pgb_error_text(pg, NULL, msg, sizeof(msg));
                snprintf(err, errlen, "postgres unreachable: %s", msg);
                PQfinish(pg);
                return NULL;
        }
        PQsetNoticeProcessor(pg, ignore_notice, NULL);
        return pg;
}

PGresult *pgb_exec(PGconn *pg, const char *what, const char *sql, int n_params,
                   const char *const *params, char *err, size_t errlen)
{
        PGresult *res = PQexecParams(pg, sql, n_params, NULL, params, NULL, NULL, 0);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                return res;
        char msg[512];
        pgb_error_text(pg, res, msg, sizeof(msg));
        snprintf(err, errlen, "%s: %s", what, msg);
        PQclear(res);
        return NULL;
}

int pgb_run(PGconn *pg, const char *what, const char *sql, char *err, size_t errlen)
{
        PGresult *res = pgb_exec(pg, what, sql, 0, NULL, err, errlen);
        if (!res)
                return -1;
        PQclear(res);
        return 0;
}
