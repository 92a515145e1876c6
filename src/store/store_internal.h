/* store_internal.h — what the store's own files share (not a public face). */
#ifndef TAKT_STORE_INTERNAL_H
#define TAKT_STORE_INTERNAL_H

#include "takt/store.h"
#include "pg_conn.h"

/* The store's connections, each with its own FIFO: ingest batches, delivery
 * bookkeeping (load pending, record outcomes), admin queries, LISTEN. */
struct pg_conn *store_conn_ingest(struct store *s);
struct pg_conn *store_conn_delivery(struct store *s);
struct pg_conn *store_conn_admin(struct store *s);
struct pg_conn *store_conn_listen(struct store *s);

/* Row of "SELECT <STORE_OUTBOX_COLUMNS> FROM outbox" -> struct. */
#define STORE_OUTBOX_COLUMNS                                                                       \
        "id, destination, plant, work_order, lane, type, message_id, correlation_id, "            \
        "envelope, state, attempts, "                                                              \
        "(extract(epoch from next_attempt_at) * 1000)::bigint, "                                   \
        "(extract(epoch from created_at) * 1000)::bigint"
void store_outbox_row_from_result(const PGresult *res, int row, struct store_outbox_row *out);

#endif
