/* connect.c — how each of taktd's PostgreSQL connections opens: with the
 * operator's conninfo, and named for its role, so that pg_stat_activity
 * (and a DBA's log line with %a) tells taktd's connections apart. */
#include <libpq-fe.h>
#include <stdio.h>

#include "store_internal.h"

PGconn *store_pq_connect(const char *conninfo, const char *role, bool async)
{
        char app[64];
        snprintf(app, sizeof(app), "taktd-%s", role);
        /* fallback_application_name: an application_name in conninfo (or
         * PGAPPNAME) wins. expand_dbname: "dbname" is the whole conninfo. */
        const char *const keys[] = {"dbname", "fallback_application_name", NULL};
        const char *const values[] = {conninfo, app, NULL};
        return async ? PQconnectStartParams(keys, values, 1) : PQconnectdbParams(keys, values, 1);
}
