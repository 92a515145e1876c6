/* replay.c — taktd --replay: failed -> pending for the selected messages in
 * one transaction (blocking libpq, never on the loop), a "replayed" trace
 * step for each, and a NOTIFY takt_outbox that wakes a running daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_blocking.h"
#include "store_internal.h"

static const char replay_count_sql[] =
    "SELECT count(*) FROM outbox WHERE state = 'failed'"
    " AND ($1::bigint IS NULL OR id = $1::bigint)"
    " AND ($2::text IS NULL OR destination = $2) AND ($3::text IS NULL OR plant = $3)";

static bool is_decimal(const char *s)
{
        if (!s || !*s || strlen(s) > 18)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Run the replay (or the count) inside the open transaction. */
static int replay_in_txn(PGconn *pg, const char *const *params, bool dry_run, long *count,
                         char *err, size_t errlen)
{
        PGresult *res = pgb_exec(pg, "replay", dry_run ? replay_count_sql : store_replay_sql,
                                 dry_run ? 3 : 4, params, err, errlen);
        if (!res)
                return -1;
        *count = dry_run ? atol(PQgetvalue(res, 0, 0)) : PQntuples(res);
        PQclear(res);
        if (dry_run || *count == 0)
                return 0;
        return pgb_run(pg, "notify", STORE_NOTIFY_OUTBOX_SQL, err, errlen);
}

int store_replay_blocking(const char *conninfo, const struct store_replay_selector *sel,
                          bool dry_run, long *count, char *err, size_t errlen)
{
        if (!sel->message_id && !sel->destination && !sel->plant && !sel->all_failed) {
                snprintf(err, errlen,
                         "replay: name --message, --destination, --plant or --all-failed");
                return -1;
        }
        if (sel->message_id && !is_decimal(sel->message_id)) {
                snprintf(err, errlen, "replay: message id must be a decimal outbox id, got '%s'",
                         sel->message_id);
                return -1;
        }
        const char *params[] = {sel->message_id, sel->destination, sel->plant, "cli"};
        PGconn *pg = pgb_connect(conninfo, "replay", err, errlen);
        if (!pg)
                return -1;
        long n = 0;
        int rc = pgb_run(pg, "begin", "BEGIN", err, errlen);
        if (rc == 0)
                rc = replay_in_txn(pg, params, dry_run, &n, err, errlen);
        if (rc == 0)
                rc = pgb_run(pg, "commit", dry_run ? "ROLLBACK" : "COMMIT", err, errlen);
        else
                PQclear(PQexec(pg, "ROLLBACK"));
        PQfinish(pg);
        if (rc == 0 && count)
                *count = n;
        return rc;
}
