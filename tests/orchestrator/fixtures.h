/* fixtures.h — canonical messages for order DE01/4711 (operations 0010 on
 * WC-1 and 0020 on WC-2, 100 PC) and a driver that applies them to a
 * document the test owns. Messages returned are new references. */
#ifndef TAKT_ORCH_FIXTURES_H
#define TAKT_ORCH_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "takt/orchestrator.h"

#define FX_T0 1764489600000LL /* 2025-11-30T08:00:00Z */

struct takt_plant fx_plant(enum takt_completion completion, enum takt_scrap scrap);

json_t *fx_msg(const char *id, const char *type, json_t *data); /* data stolen */
json_t *fx_release(const char *id, int revision);
json_t *fx_changed(const char *id, int revision);
json_t *fx_cancelled(const char *id, int revision);
json_t *fx_ack(const char *id);
json_t *fx_started(const char *id, const char *op);
json_t *fx_confirmed(const char *id, const char *op, double yield, double scrap, bool final);
json_t *fx_consumed(const char *id, const char *material, double qty);
json_t *fx_hold(const char *id, bool placed, const char *hold_id);
json_t *fx_completed(const char *id, double yield, double scrap);
json_t *fx_downtime(const char *id, bool started);

/* Applies msg (stolen) to *doc (owned; replaced when the output stores a
 * new one). out is left filled for inspection when not NULL (clear it),
 * else cleared here. Returns the result. */
enum orch_result fx_apply(json_t **doc, const struct takt_plant *plant, json_t *msg, int64_t now_ms,
                          struct orch_output *out);
/* Reports msg (stolen) delivered to a destination of kind. */
void fx_deliver(json_t **doc, const struct takt_plant *plant, json_t *msg,
                enum takt_system_kind kind, int64_t now_ms, struct orch_output *out);

/* "CNF!,SC:in_progress": short codes of the emitted types ('!' = held,
 * SC:<to> for a state change). */
const char *fx_emits(const struct orch_output *out, char *buf, size_t len);

#endif
