/* orch_internal.h — what the orchestrator's files share: the step context
 * (one mutable copy of the work-order document plus the output being
 * filled), the document helpers (wo_doc.c) and the per-type handlers
 * (orch_erp.c, orch_mes.c). Not part of the public interface. */
#ifndef TAKT_ORCH_INTERNAL_H
#define TAKT_ORCH_INTERNAL_H

#include "takt/orchestrator.h"

#define ORCH_HISTORY_CAP   100
#define ORCH_PARKED_CAP    500
#define ORCH_TOMBSTONE_CAP 50

/* One step of the machine. doc is owned by the caller of the handler (the
 * public function that made the copy); out receives every emitted message. */
struct step {
        json_t *doc;
        const struct takt_plant *plant;
        int64_t now_ms;
        struct orch_output *out;
        char *reason; /* buffer of ORCH reason text */
        size_t reason_len;
        struct canon_errors *errors; /* ORCH_INVALID paths */
};

/* A handler's verdict: checks come first, so a handler that returns anything
 * but ORCH_ACCEPTED has neither changed the document nor emitted. */
typedef enum orch_result (*orch_handler)(struct step *st, const json_t *msg);

enum orch_result orch_step_apply(struct step *st, const json_t *msg, enum canon_type type);
enum orch_result orch_verdict(struct step *st, enum orch_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Handlers by type (orch_erp.c, orch_mes.c). */
enum orch_result orch_on_released(struct step *st, const json_t *msg);
enum orch_result orch_on_changed(struct step *st, const json_t *msg);
enum orch_result orch_on_cancelled(struct step *st, const json_t *msg);
enum orch_result orch_on_acknowledged(struct step *st, const json_t *msg);
enum orch_result orch_on_started(struct step *st, const json_t *msg);
enum orch_result orch_on_confirmed(struct step *st, const json_t *msg);
enum orch_result orch_on_consumed(struct step *st, const json_t *msg);
enum orch_result orch_on_hold_placed(struct step *st, const json_t *msg);
enum orch_result orch_on_hold_released(struct step *st, const json_t *msg);
enum orch_result orch_on_completed(struct step *st, const json_t *msg);

/* Output: append an envelope (stolen) to out->emit. */
void orch_emit(struct orch_output *out, json_t *envelope, bool hold);
/* Append a deep copy of the input message; hold when it is an ERP posting
 * and the order is on hold. */
void orch_forward(struct step *st, const json_t *msg, bool posting);

/* Document helpers (wo_doc.c). */
const char *wo_str(const json_t *doc, const char *key);
bool wo_bool(const json_t *doc, const char *key);
const char *wo_base_state(const json_t *doc); /* the state under an open hold */
bool wo_state_is(const json_t *doc, const char *state);
bool wo_terminal(const json_t *doc); /* cancelled or closed */
/* The one place a state changes: visible transitions are written to the
 * history and emitted as work_order.state_changed "<cause id>#state:<to>";
 * under a hold only state_before_hold moves. */
void wo_set_state(struct step *st, const char *to, const json_t *cause);
void wo_set_visible_state(struct step *st, const char *to, const json_t *cause);
json_t *wo_operation(const json_t *doc, const char *operation);           /* borrowed or NULL */
json_t *wo_operations_from(const json_t *ops_in, const json_t *previous); /* new ref */
bool wo_all_final(const json_t *doc);
void wo_arm_sla(struct step *st, const char *name, uint64_t after_ms, const json_t *cause);
void wo_meet_sla(json_t *doc, const char *name);
void wo_stop_slas(json_t *doc);
bool wo_string_in(const json_t *array, const char *value);
void wo_string_remove(json_t *array, const char *value);
void wo_string_push_capped(json_t *array, const char *value, size_t cap);
json_t *wo_new_doc(const char *plant, const char *work_order); /* new ref, state "new" */

/* Quantities. */
double orch_qty_value(const json_t *data, const char *key);
const char *orch_qty_uom(const json_t *data, const char *key);
json_t *orch_qty_new(double value, const char *uom); /* new ref */

#endif
