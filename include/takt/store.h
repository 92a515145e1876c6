/* store.h — PostgreSQL persistence, asynchronous on the event loop.
 *
 * The only module that includes libpq. It keeps a few connections (ingest,
 * delivery, admin, listen), each a non-blocking libpq connection watched by
 * libevent, reconnecting with backoff. Callers get results as jansson values
 * or plain structs; every callback runs on the loop thread.
 *
 * Ingest runs as a group transaction (struct store_batch): phase 1 BEGINs,
 * locks and loads the work orders and looks up the inbox for the group's
 * messages; the caller then decides (orchestrator) and adds writes; phase 2
 * sends every write and COMMIT in one pipeline. When the store has every
 * order of the group cached (or it may be new), phase 1 reads nothing and the
 * writes check on the server what the decisions assumed (fast path: one
 * round trip); a refused batch reports store_batch_retry() and is decided
 * again. Nothing is answered before the commit callback reports success. */
#ifndef TAKT_STORE_H
#define TAKT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct metrics;

struct store;

/* The schema version this build knows (number of migrations). */
int store_schema_version_known(void);

/* ---- lifecycle (daemon) ---- */

/* ready: PostgreSQL reachable and the schema at the known version. */
typedef void (*store_ready_cb)(void *arg, bool ready, const char *reason);

/* auto_migrate: apply missing migrations once connected (migrate: auto).
 * metrics may be NULL. The store copies conninfo. The connections start
 * connecting at once (so the store_conn_* accessors of the store's own files
 * are valid from here on); store_start() starts reporting readiness. Note:
 * libpq resolves a host *name* synchronously in PQconnectStart; give a unix
 * socket directory, an IP address or hostaddr= to keep the loop unblocked. */
struct store *store_new(struct event_base *base, const char *conninfo, bool auto_migrate,
                        struct metrics *metrics);
/* What a store is for, i.e. which connections it opens. The daemon's main
 * loop ingests (ingest and admin connections); the delivery loop delivers
 * (delivery, listen and admin connections: the admin connection checks the
 * schema, so each store knows on its own when it is ready). store_new()
 * opens all four. */
enum store_role { STORE_ROLE_INGEST = 1u << 0, STORE_ROLE_DELIVERY = 1u << 1 };
struct store *store_new_for(struct event_base *base, const char *conninfo, bool auto_migrate,
                            struct metrics *metrics, unsigned roles);
/* Called on every change of readiness (and once when first known). */
void store_set_ready_cb(struct store *s, store_ready_cb cb, void *arg);
void store_start(struct store *s);
/* Readiness now; *reason (static or owned by the store) says why not, e.g.
 * "postgres unreachable: ..." or "schema not migrated: run taktd --migrate". */
bool store_is_ready(const struct store *s, const char **reason);
/* The database's schema is newer than this build knows (a newer takt
 * migrated it): this build must not run against it. */
bool store_schema_too_new(const struct store *s);
/* Closes connections; pending callbacks are called with error "shutting down".
 * Not from inside a store callback. Batches still held by the caller stay
 * valid to free (a commit then fails with "shutting down"); free them before
 * the event base. */
void store_free(struct store *s);

/* ---- command line (blocking: never called from the loop) ---- */

/* taktd --migrate: apply what is missing in one transaction under an advisory
 * lock. Returns 0 and the resulting version in *version, or -1 with err. A
 * schema newer than this build is an error. */
int store_migrate_blocking(const char *conninfo, int *version, char *err, size_t errlen);

struct store_replay_selector {
        const char *message_id; /* outbox id (decimal) */
        const char *destination;
        const char *plant;
        bool all_failed;
};
/* taktd --replay: failed -> pending for the selected messages (and NOTIFY the
 * running daemon); dry_run counts only. Returns 0 and *count, or -1 + err. */
int store_replay_blocking(const char *conninfo, const struct store_replay_selector *sel,
                          bool dry_run, long *count, char *err, size_t errlen);

/* ---- outbox rows, as the dispatcher sees them ---- */

struct store_outbox_row {
        int64_t id;        /* outbox id: the Idempotency-Key, commit order */
        char *destination; /* owned strings */
        char *plant;
        char *work_order; /* NULL for downtime */
        char *lane;       /* "<plant>/<work_order or work_center>" */
        char *type;
        char *message_id; /* the canonical envelope's id */
        char *correlation_id;
        json_t *envelope;    /* owned reference: the canonical envelope, or NULL when
                              * only envelope_text is known (rows read back from
                              * PostgreSQL: parsed only where the JSON is needed,
                              * e.g. for a dialect mapping) */
        char *envelope_text; /* owned: the stored envelope as JSON text, or NULL */
        char *state;         /* pending | held | delivered | failed */
        int attempts;
        int64_t next_attempt_ms;
        int64_t created_ms; /* accepted (commit) time */
};
void store_outbox_row_clear(struct store_outbox_row *row);
/* dst becomes a deep copy of src (strings copied, the envelope reference
 * shared). -1 and dst cleared when out of memory. */
int store_outbox_row_copy(struct store_outbox_row *dst, const struct store_outbox_row *src);
/* Clears every row, frees the array. NULL is fine. */
void store_outbox_rows_free(struct store_outbox_row *rows, size_t n);
/* The row's envelope as JSON, a new reference: the object when the row has
 * one, else envelope_text parsed; NULL when neither is there. */
json_t *store_outbox_row_envelope(const struct store_outbox_row *row);

/* ---- ingest group transaction ---- */

struct store_batch;

struct store_wo_key {
        const char *plant;
        const char *work_order;
        bool may_be_new; /* a source message may create it (else it must exist) */
};
struct store_inbox_key {
        const char *source;
        const char *id;
};

/* Phase 1 finished: error NULL on success (then read with the getters below
 * and add writes), else the batch is already rolled back and must be freed. */
typedef void (*store_batch_loaded_cb)(void *arg, struct store_batch *b, const char *error);
/* Phase 2 finished: error NULL means COMMITTED. */
typedef void (*store_batch_committed_cb)(void *arg, struct store_batch *b, const char *error);

/* Start a group transaction: BEGIN, lock and load these work orders (SELECT
 * ... FOR UPDATE) and look up these inbox keys; or, when every order is
 * cached or may be new, load them from the cache (the inbox is then assumed
 * new: store_batch_inbox_answer() is NULL). Keys are copied. Returns NULL
 * when PostgreSQL is not ready (nothing started, cb not called). One batch at
 * a time runs on the ingest connection; a second begin waits in line. */
struct store_batch *store_batch_begin(struct store *s, const struct store_wo_key *wos, size_t n_wos,
                                      const struct store_inbox_key *inbox, size_t n_inbox,
                                      store_batch_loaded_cb cb, void *arg);

/* Borrowed, valid until store_batch_free(); NULL when absent. */
const json_t *store_batch_work_order(const struct store_batch *b, const char *plant,
                                     const char *work_order);
/* The stored answer of an earlier identical (source, id): {"http_status":
 * 202, "body": {...}}; NULL when new. */
const json_t *store_batch_inbox_answer(const struct store_batch *b, const char *source,
                                       const char *id);

/* Writes (buffered until commit; values copied). */
void store_batch_put_inbox(struct store_batch *b, const char *source, const char *id,
                           const char *correlation_id, int http_status, const json_t *body,
                           const json_t *envelope);
void store_batch_put_work_order(struct store_batch *b, const char *plant, const char *work_order,
                                const json_t *doc, const char *state, int64_t revision,
                                int64_t next_deadline_ms);
void store_batch_put_outbox(struct store_batch *b, const char *destination, const char *lane,
                            const json_t *envelope, bool held);
void store_batch_put_trace(struct store_batch *b, const char *correlation_id, const char *step,
                           int64_t at_ms, const json_t *detail);
/* held -> pending for every held message of this work order (in id order). */
void store_batch_release_held(struct store_batch *b, const char *plant, const char *work_order);

/* An error after COMMIT was sent can still mean committed (the connection
 * died before the answer came): the caller answers 503, and the sender's
 * retry is then answered from the inbox as a duplicate. A connection lost
 * between the phases is reported as "connection lost before commit" and
 * nothing is written. */
void store_batch_commit(struct store_batch *b, store_batch_committed_cb cb, void *arg);
/* After a failed commit: the batch was loaded from the cache and PostgreSQL
 * refused what its decisions assumed (an inbox id or a new order already
 * there, a cached order changed). Nothing was written; begin the same
 * requests again: the next batch begun loads from the database. */
bool store_batch_retry(const struct store_batch *b);
/* After a successful commit: the outbox rows the batch wrote or released
 * (ids assigned), in id order, for the dispatcher; rows still held have
 * state "held". Borrowed. */
const struct store_outbox_row *store_batch_outbox_rows(const struct store_batch *b, size_t *n);
/* The same rows handed over: the caller owns the array and its rows (free
 * with store_outbox_rows_free); the batch has none after. Their envelopes
 * are text only (envelope NULL). */
struct store_outbox_row *store_batch_take_outbox_rows(struct store_batch *b, size_t *n);
void store_batch_free(struct store_batch *b);

/* ---- admin queries (results are new references; error NULL on success) ---- */

typedef void (*store_json_cb)(void *arg, json_t *result, const char *error);

/* {"doc": <work-order document>, "deliveries": [{id, destination, type, state,
 * attempts, last_error}]} (every outbox row of the order, any state, in id
 * order); result NULL (and error NULL) when unknown. */
int store_work_order_get(struct store *s, const char *plant, const char *work_order,
                         store_json_cb cb, void *arg);
/* {"messages": [{id, destination, plant, work_order, type, state, attempts,
 * last_error, created_at}]}, newest first, at most limit (<= 0: 100; capped
 * at 1000). NULL filters match everything. created_at: RFC 3339 UTC, ms. */
int store_messages_list(struct store *s, const char *state, const char *destination,
                        const char *plant, int limit, store_json_cb cb, void *arg);
/* {"correlation_id", "steps": [{step, at, detail}]} in time order; result
 * NULL when no step is known. */
int store_trace_get(struct store *s, const char *correlation_id, store_json_cb cb, void *arg);
/* failed -> pending for one message (attempts 0, due now), a "replayed"
 * trace step and NOTIFY takt_outbox, in one transaction; {"id", "state"} or
 * NULL when no failed message has that id. */
int store_message_replay(struct store *s, int64_t id, store_json_cb cb, void *arg);
/* For the gauges: {"work_orders": [{plant, state, count}], "parked": N}
 * (parked events wait in orders that are not released yet: state "new"). */
int store_work_order_stats(struct store *s, store_json_cb cb, void *arg);
/* Work orders with an unreported SLA deadline (next_deadline_ms was > 0),
 * due or not, earliest first: [{"plant", "work_order", "doc", "deadline_ms"}]. */
int store_sla_pending(struct store *s, store_json_cb cb, void *arg);

/* How long finished rows are kept, in ms; 0 keeps them forever. */
struct store_retention {
        uint64_t delivered_ms; /* delivered outbox messages, from their delivery */
        uint64_t inbox_ms;     /* inbox records of finished orders, from arrival */
        uint64_t trace_ms;     /* trace rows, from their first step */
};
/* Deletes up to limit rows of each table that are past their retention, in
 * one transaction, oldest first: {"outbox": N, "inbox": N, "trace": N}.
 * Pending, held and failed outbox messages, work orders and the inbox
 * records of orders not yet closed or cancelled are never touched. */
int store_prune(struct store *s, const struct store_retention *r, int limit, store_json_cb cb,
                void *arg);

#endif
