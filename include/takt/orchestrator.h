/* orchestrator.h — the work-order state machine (contract §3), pure.
 *
 * A work order is a JSON document that this module alone defines and
 * interprets (the store keeps it as json next to its state and revision
 * columns). Every function takes the stored document (NULL when the order is
 * unknown), the plant's settings and an event, and fills an orch_output: the
 * answer, the new document and the canonical messages that must follow.
 * No I/O, no clock: the caller passes now_ms. */
#ifndef TAKT_ORCHESTRATOR_H
#define TAKT_ORCHESTRATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "takt/canon.h"
#include "takt/config.h"

enum orch_result {
        ORCH_ACCEPTED, /* 202: state stored, emit[] enqueued */
        ORCH_PARKED,   /* 202: MES event for an order not yet released, kept in the doc */
        ORCH_STALE,    /* 200 "stale": revision not above the stored one; nothing forwarded */
        ORCH_CONFLICT, /* 409: nothing stored */
        ORCH_INVALID,  /* 422: errors[] names the field (e.g. an unknown operation) */
};

/* One outgoing canonical message. hold: an ERP posting made while the order
 * is on hold; it is stored held and released with release_held. */
struct orch_emit {
        json_t *envelope; /* a reference owned by the output; a forwarded message is
                           * the input message itself (never modified) */
        bool hold;
};

struct orch_output {
        enum orch_result result;
        json_t *wo;             /* owned: the new document; NULL when nothing changes */
        struct orch_emit *emit; /* owned array, in the order they must be delivered */
        size_t n_emit;
        bool release_held;          /* the last hold was released: held postings may go */
        struct canon_errors errors; /* ORCH_INVALID, paths relative to the message */
        char reason[192];           /* human text for stale/conflict/parked */
};

void orch_output_init(struct orch_output *out);
void orch_output_clear(struct orch_output *out); /* frees what it owns, re-inits */

/* Apply a validated canonical message (type already known) to the order. */
void orch_apply(const json_t *wo, const struct takt_plant *plant, const json_t *msg,
                enum canon_type type, int64_t now_ms, struct orch_output *out);

/* A message of this order reached a destination of kind dest_kind: the
 * release reaching the MES moves released -> dispatched, the completion
 * reaching the ERP moves completed -> closed. Other deliveries: result
 * ACCEPTED with wo == NULL (nothing to store). Of msg only the identity is
 * read: "type", "id" and "correlation_id" (the whole envelope will do). */
void orch_delivered(const json_t *wo, const struct takt_plant *plant, const json_t *msg,
                    enum takt_system_kind dest_kind, int64_t now_ms, struct orch_output *out);

/* Report every SLA deadline that has passed by now_ms and not been reported:
 * emits sla.breached, records the breach in the doc. wo == NULL when none. */
void orch_check_sla(const json_t *wo, const struct takt_plant *plant, int64_t now_ms,
                    struct orch_output *out);

/* The earliest unreported, unmet SLA deadline (ms since epoch), 0 when none. */
int64_t orch_next_deadline_ms(const json_t *wo);

/* Accessors for the store's columns and the metrics. */
const char *orch_wo_state(const json_t *wo); /* "released", ..., or "new" (only parked events) */
int64_t orch_wo_revision(const json_t *wo);
size_t orch_wo_parked_count(const json_t *wo);

/* The API view (contract §4): plant, work_order, state, revision, holds,
 * parked, sla, history, operations. New reference; the caller adds
 * "deliveries". */
json_t *orch_wo_view(const json_t *wo);

#endif
