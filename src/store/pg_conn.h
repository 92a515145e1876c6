/* pg_conn.h — one asynchronous libpq connection on the libevent loop
 * (internal to the store module: only src/store/ includes this or libpq).
 *
 * States: DOWN -> CONNECTING -> IDLE <-> BUSY, and RETRY_WAIT with backoff
 * after a failure. The socket is re-read with PQsocket() before every wait.
 * Requests queue in FIFO order; one is in flight at a time, sent in libpq
 * pipeline mode (every statement of a request, then one sync). */
#ifndef TAKT_PG_CONN_H
#define TAKT_PG_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

struct event_base;
struct pg_conn;

/* up: the connection just became usable (true) or was lost (false). */
typedef void (*pg_conn_state_cb)(void *arg, struct pg_conn *c, bool up);

/* results[i] is the last result of stmts[i] (NULL when not reached); error
 * is NULL when every statement succeeded, else the first error message.
 * Results are cleared after the callback returns. */
typedef void (*pg_done_cb)(void *arg, PGresult *const *results, size_t n, const char *error);

typedef void (*pg_notify_cb)(void *arg, const char *channel, const char *payload);

/* One statement; params are text (NULL = SQL NULL); everything is copied
 * by pg_conn_submit. */
struct pg_stmt {
        const char *sql;
        int n_params;
        const char *const *params;
};

/* conninfo and name are copied; name appears in log lines. The connection
 * starts connecting at once and reconnects by itself (backoff 100ms..5s). */
struct pg_conn *pg_conn_new(struct event_base *base, const char *conninfo, const char *name,
                            pg_conn_state_cb state_cb, void *arg);
/* Fails queued and in-flight requests with "shutting down", then closes.
 * Must not be called from inside one of this connection's callbacks. */
void pg_conn_free(struct pg_conn *c);

bool pg_conn_is_up(const struct pg_conn *c);
const char *pg_conn_last_error(const struct pg_conn *c); /* "" when none */

/* Queue a request. Returns 0, or -1 when the connection is not up (cb is not
 * called). When the connection drops with the request queued or in flight, cb
 * gets an error. cb is never called from inside pg_conn_submit; it may be
 * NULL (fire and forget, e.g. ROLLBACK). Without an explicit BEGIN, the
 * statements of one request run as one implicit transaction (pipeline mode
 * commits at the sync, or rolls everything back on the first error). */
int pg_conn_submit(struct pg_conn *c, const struct pg_stmt *stmts, size_t n, pg_done_cb cb,
                   void *arg);

/* LISTEN channel now and after every reconnect; cb for each NOTIFY. */
void pg_conn_listen(struct pg_conn *c, const char *channel, pg_notify_cb cb, void *arg);

#endif
