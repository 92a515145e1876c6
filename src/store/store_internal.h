/* store_internal.h — what the store's own files share (not a public face). */
#ifndef TAKT_STORE_INTERNAL_H
#define TAKT_STORE_INTERNAL_H

#include "takt/store.h"
#include "pg_conn.h"

#include <stdbool.h>
#include <stdint.h>

/* The store's connections, each with its own FIFO: ingest batches, delivery
 * bookkeeping (load pending, record outcomes), admin queries, LISTEN. */
struct pg_conn *store_conn_ingest(struct store *s);
struct pg_conn *store_conn_delivery(struct store *s);
struct pg_conn *store_conn_admin(struct store *s);
struct pg_conn *store_conn_listen(struct store *s);

/* Row of "SELECT <STORE_OUTBOX_COLUMNS> FROM outbox" -> struct. */
#define STORE_OUTBOX_COLUMNS_WITH(envelope)                                                        \
        "id, destination, plant, work_order, lane, type, message_id, correlation_id, " envelope    \
        ", state, attempts, "                                                                      \
        "(extract(epoch from next_attempt_at) * 1000)::bigint, "                                   \
        "(extract(epoch from created_at) * 1000)::bigint"
#define STORE_OUTBOX_COLUMNS STORE_OUTBOX_COLUMNS_WITH("envelope")
/* The same without sending the envelope back (NULL in its place), for rows
 * whose envelope text the caller already has. */
#define STORE_OUTBOX_COLUMNS_NO_ENVELOPE STORE_OUTBOX_COLUMNS_WITH("NULL::text")
void store_outbox_row_from_result(const PGresult *res, int row, struct store_outbox_row *out);
/* Rows keep the envelope as text (envelope_text; envelope stays NULL): the
 * dispatcher sends canonical envelopes as they are, and whoever needs the
 * JSON parses it. With envelope_text non-NULL that text is taken (owned by
 * the row from then on) instead of copying the column. */
void store_outbox_row_with_text(const PGresult *res, int row, struct store_outbox_row *out,
                                char *envelope_text);

/* ---- shared inside the module (added by the store; not used by delivery) ---- */

struct event_base *store_base(const struct store *s);
/* Bumped every time the ingest connection goes down: a group transaction
 * begun under another epoch is gone. */
uint64_t store_ingest_epoch(const struct store *s);
/* Ready and not shutting down: a batch may begin. */
bool store_accepts_batches(const struct store *s);

/* The ingest line (batch.c): group transactions run one at a time, in order. */
struct batch_line;
struct batch_line *batch_line_new(struct store *s);
/* Fail every waiting batch with "shutting down" (store_free, before the
 * connections close). */
void batch_line_shutdown(struct batch_line *line);
/* Detach the batches the caller still holds; free the line. */
void batch_line_free(struct batch_line *line);
struct batch_line *store_batch_line(struct store *s);

/* A connection to conninfo named "taktd-<role>" (its application_name
 * unless conninfo or PGAPPNAME sets one): started (PQconnectStartParams)
 * when async, else made (PQconnectdbParams). Owned by the caller
 * (PQfinish); NULL only when out of memory. */
PGconn *store_pq_connect(const char *conninfo, const char *role, bool async);

/* Error text on one line (newlines and tabs become spaces, trailing ones
 * dropped; NULL or "" become "unknown error"), and the same with double
 * quotes turned into single ones for a "..." log value. */
void store_one_line(char *buf, size_t len, const char *msg);
void store_log_safe(char *buf, size_t len, const char *msg);
/* "<length of a>:<a><b>": a map key that tells every pair of strings apart
 * (NULL counts as ""); owned by the caller. */
char *store_pair_key(const char *a, const char *b);

/* JSON text of a timestamptz column as RFC 3339 UTC with milliseconds. */
#define STORE_SQL_TS(col)                                                                          \
        "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* failed -> pending for the rows matching $1 id (bigint), $2 destination,
 * $3 plant (each NULL = any), with a "replayed" trace step whose detail
 * names $4 (who replayed). One row per message: jsonb {"id","state"}. */
extern const char store_replay_sql[];
/* The pruner's round (store_prune): $1, $2, $3 the retention of delivered
 * outbox messages, inbox records and trace rows (ms, NULL = forever), $4
 * at most this many rows of each; jsonb {"outbox", "inbox", "trace"}. */
extern const char store_prune_sql[];
/* Delivery outcomes: $1 id, $2 new state, $3 attempts, $4 next attempt
 * (ms), $5 last error, $6 delivered at (ms), $7 the state the row must
 * still be in; arrays, one element per outcome (outbox_delivery.c). */
extern const char store_outcome_update_sql[];
/* First statement on the ingest and delivery connections (store.c). */
extern const char store_keyed_session_sql[];
#define STORE_NOTIFY_OUTBOX_SQL "SELECT pg_notify('takt_outbox', 'replay')"

#endif
