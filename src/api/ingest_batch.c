/* ingest_batch.c — the decisions inside one group transaction.
 *
 * The batch has loaded the work orders and inbox entries its requests
 * need. Requests are decided in arrival order against a working copy of the
 * work orders: each request sees what earlier requests of the same group
 * did. A request is all-or-nothing: its changes live in a request overlay and
 * its writes are only handed to the batch when every item succeeded. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sla_timers.h"
#include "takt/log.h"
#include "takt/metrics.h"
#include "takt/orchestrator.h"
#include "takt/router.h"

struct decide_ctx {
        struct ingest *ing;
        struct store_batch *b;
        int64_t now_ms;
        json_t *docs;  /* owned: key -> work-order doc changed in this batch */
        json_t *inbox; /* owned: key -> item result decided in this batch */
};

/* "a\x1fb": the key of a (plant, work order) or (source, id) pair. */
static void pair_key(char *buf, size_t len, const char *a, const char *b)
{
        snprintf(buf, len, "%s\x1f%s", a, b);
}

static const json_t *current_doc(const struct decide_ctx *ctx, const json_t *overlay,
                                 const char *plant, const char *wo)
{
        char key[512];
        pair_key(key, sizeof(key), plant, wo);
        const json_t *doc = overlay ? json_object_get(overlay, key) : NULL;
        if (!doc)
                doc = json_object_get(ctx->docs, key);
        if (!doc)
                doc = store_batch_work_order(ctx->b, plant, wo);
        return doc;
}

static void trace(struct decide_ctx *ctx, const char *corr, const char *step, int64_t at,
                  json_t *detail)
{
        store_batch_put_trace(ctx->b, corr, step, at, detail);
        json_decref(detail);
}

/* Route one outgoing message to the union of its destinations and write
 * one outbox row each. A message never goes back to the source that sent it,
 * and a destination whose dialect cannot express the type is skipped. */
static void enqueue(struct decide_ctx *ctx, const struct takt_plant *plant, const char *source,
                    const struct orch_emit *e)
{
        const struct takt_config *cfg = ctx->ing->cfg;
        const json_t *env = e->envelope;
        const char *type = canon_str(env, "type");
        enum canon_type ctype;
        if (!type || !canon_type_parse(type, &ctype))
                return;
        size_t idx[cfg->n_destinations + 1];
        size_t n = router_route(cfg, plant, type, idx, cfg->n_destinations + 1);
        char lane[512];
        canon_lane_key(env, lane, sizeof(lane));
        json_t *names = json_array();
        for (size_t i = 0; i < n; i++) {
                const struct takt_destination *d = &cfg->destinations[idx[i]];
                if (source && strcmp(source, d->name) == 0)
                        continue;
                if (!dialect_accepts(dialect_set_get(ctx->ing->dialects, d->dialect), ctype))
                        continue;
                store_batch_put_outbox(ctx->b, d->name, lane, env, e->hold);
                json_array_append_new(names, json_string(d->name));
        }
        const char *corr = canon_str(env, "correlation_id");
        if (ctype == CANON_WORK_ORDER_STATE_CHANGED)
                trace(ctx, corr, "state_changed", ctx->now_ms,
                      json_incref(json_object_get(env, "data"))); /* only read */
        if (ctype == CANON_SLA_BREACHED) {
                const char *sla =
                    json_string_value(json_object_get(json_object_get(env, "data"), "sla"));
                const char *labels[] = {plant->code, sla ? sla : "unknown"};
                metrics_inc(ctx->ing->m_sla, labels);
        }
        trace(ctx, corr, "enqueued", ctx->now_ms,
              json_pack("{s:s, s:s, s:o, s:b}", "type", type, "message_id", canon_str(env, "id"),
                        "destinations", names, "held", e->hold));
}

/* Hand one decided orchestrator output to the batch. */
static void apply_output(struct decide_ctx *ctx, const struct takt_plant *plant, const char *source,
                         const char *wo, struct orch_output *out)
{
        if (out->release_held)
                store_batch_release_held(ctx->b, plant->code, wo);
        for (size_t i = 0; i < out->n_emit; i++)
                enqueue(ctx, plant, source, &out->emit[i]);
}

static json_t *item_result(const json_t *env, const char *status)
{
        return json_pack("{s:s, s:s, s:s}", "id", canon_str(env, "id"), "correlation_id",
                         canon_str(env, "correlation_id"), "status", status);
}

static void prefixed_errors(struct canon_errors *dst, const struct canon_errors *src,
                            const char *prefix)
{
        for (size_t i = 0; i < src->count; i++)
                canon_errors_add(dst, prefix, src->items[i].path, "%s", src->items[i].message);
}

/* Decide one source request. On success its writes go to the batch. */
static void decide_http(struct decide_ctx *ctx, struct ingest_req *req)
{
        const char *source = req->source->name;
        json_t *overlay = json_object();
        json_t *results = json_array();
        struct orch_output *outs = calloc(req->n_items, sizeof(*outs));
        bool any_accepted = false, any_stale = false;
        struct canon_errors errs = {0};
        int fail_status = 0;
        char fail_reason[256] = ""; /* prefix (<32) + ": " + reason (<192) */

        for (size_t i = 0; i < req->n_items && !fail_status; i++) {
                struct ingest_item *it = &req->items[i];
                orch_output_init(&outs[i]);
                const char *id = canon_str(it->env, "id");
                char ikey[512];
                pair_key(ikey, sizeof(ikey), source, id);
                const json_t *earlier = json_object_get(ctx->inbox, ikey);
                const json_t *stored = store_batch_inbox_answer(ctx->b, source, id);
                if (earlier || stored) {
                        const json_t *first = earlier ? earlier : json_object_get(stored, "body");
                        json_t *r = json_deep_copy(first);
                        json_object_set_new(r, "status", json_string("duplicate"));
                        json_array_append_new(results, r);
                        it->result = "duplicate";
                        continue;
                }
                char prefix[32] = "";
                if (req->is_batch)
                        snprintf(prefix, sizeof(prefix), "/%zu", i);
                const char *plant_code = canon_str(it->env, "plant");
                const char *wo = canon_str(it->env, "work_order");
                const struct takt_plant *plant = takt_config_plant(ctx->ing->cfg, plant_code);
                if (!plant) { /* removed by a reload since intake */
                        canon_errors_add(&errs, prefix, "/plant", "plant %s is not configured",
                                         plant_code);
                        fail_status = 422;
                        it->result = "invalid";
                        continue;
                }
                const json_t *doc = wo ? current_doc(ctx, overlay, plant_code, wo) : NULL;
                orch_apply(doc, plant, it->env, it->type, ctx->now_ms, &outs[i]);
                switch (outs[i].result) {
                case ORCH_INVALID:
                        prefixed_errors(&errs, &outs[i].errors, prefix);
                        fail_status = 422;
                        it->result = "invalid";
                        continue;
                case ORCH_CONFLICT:
                        snprintf(fail_reason, sizeof(fail_reason), "%s%s%s", prefix,
                                 *prefix ? ": " : "", outs[i].reason);
                        fail_status = 409;
                        it->result = "conflict";
                        continue;
                case ORCH_STALE:
                        any_stale = true;
                        it->result = "stale";
                        break;
                case ORCH_ACCEPTED:
                case ORCH_PARKED:
                        any_accepted = true;
                        it->result = "accepted";
                        break;
                }
                if (outs[i].wo && wo) {
                        char key[512];
                        pair_key(key, sizeof(key), plant_code, wo);
                        json_object_set_new(overlay, key, outs[i].wo);
                        outs[i].wo = NULL;
                }
                json_array_append_new(results, item_result(it->env, it->result));
        }

        if (fail_status) {
                req->status = fail_status;
                if (fail_status == 422) {
                        req->body = canon_errors_json(&errs);
                } else {
                        req->body =
                            json_pack("{s:s, s:s}", "status", "conflict", "error", fail_reason);
                }
                /* Nothing of a failed request is stored; its items count as
                 * what failed them. */
                for (size_t i = 0; i < req->n_items; i++)
                        req->items[i].result = fail_status == 422 ? "invalid" : "conflict";
        } else {
                json_object_update(ctx->docs, overlay);
                for (size_t i = 0; i < req->n_items; i++) {
                        struct ingest_item *it = &req->items[i];
                        if (strcmp(it->result, "duplicate") == 0)
                                continue;
                        const char *corr = canon_str(it->env, "correlation_id");
                        const char *id = canon_str(it->env, "id");
                        const char *type = canon_type_name(it->type);
                        trace(ctx, corr, "received", req->received_ms,
                              json_pack("{s:s, s:s, s:s}", "source", source, "message_id", id,
                                        "type", type));
                        trace(ctx, corr, "normalized", ctx->now_ms,
                              json_pack("{s:s, s:s, s:s}", "dialect", req->source->dialect, "type",
                                        type, "result", it->result));
                        const struct takt_plant *plant =
                            takt_config_plant(ctx->ing->cfg, canon_str(it->env, "plant"));
                        apply_output(ctx, plant, source, canon_str(it->env, "work_order"),
                                     &outs[i]);
                        json_t *r = item_result(it->env, it->result);
                        int code = strcmp(it->result, "accepted") == 0 ? 202 : 200;
                        store_batch_put_inbox(ctx->b, source, id, corr, code, r, it->env);
                        char ikey[512];
                        pair_key(ikey, sizeof(ikey), source, id);
                        json_object_set_new(ctx->inbox, ikey, r);
                }
                const char *status = any_accepted ? "accepted" : any_stale ? "stale" : "duplicate";
                req->status = any_accepted ? 202 : 200;
                req->body = json_pack("{s:s, s:O}", "status", status, "results", results);
        }
        for (size_t i = 0; i < req->n_items; i++)
                orch_output_clear(&outs[i]);
        free(outs);
        json_decref(results);
        json_decref(overlay);
}

/* Decide one of takt's own events (a delivery, an SLA deadline). */
static void decide_internal(struct decide_ctx *ctx, struct ingest_req *req)
{
        const struct takt_plant *plant = takt_config_plant(ctx->ing->cfg, req->plant);
        const json_t *doc = current_doc(ctx, NULL, req->plant, req->work_order);
        req->status = 200;
        if (!plant || !doc)
                return;
        struct orch_output out;
        orch_output_init(&out);
        if (req->kind == INGEST_DELIVERED)
                orch_delivered(doc, plant, req->delivered_env, req->dest_kind, ctx->now_ms, &out);
        else
                orch_check_sla(doc, plant, ctx->now_ms, &out);
        if (out.wo) {
                char key[512];
                pair_key(key, sizeof(key), req->plant, req->work_order);
                json_object_set_new(ctx->docs, key, out.wo);
                out.wo = NULL;
        }
        apply_output(ctx, plant, NULL, req->work_order, &out);
        orch_output_clear(&out);
}

json_t *ingest_batch_decide(struct ingest *ing, struct store_batch *b, struct ingest_req **reqs,
                            size_t n)
{
        struct decide_ctx ctx = {ing, b, ingest_now_ms(), json_object(), json_object()};
        for (size_t i = 0; i < n; i++) {
                if (reqs[i]->kind == INGEST_HTTP)
                        decide_http(&ctx, reqs[i]);
                else
                        decide_internal(&ctx, reqs[i]);
        }
        /* Each changed work order is written once, in its final state. */
        json_t *deadlines = json_array();
        const char *key;
        json_t *doc;
        json_object_foreach(ctx.docs, key, doc)
        {
                const char *plant = canon_str(doc, "plant");
                const char *wo = canon_str(doc, "work_order");
                int64_t deadline = orch_next_deadline_ms(doc);
                store_batch_put_work_order(b, plant, wo, doc, orch_wo_state(doc),
                                           orch_wo_revision(doc), deadline);
                json_array_append_new(deadlines,
                                      json_pack("[s, s, I]", plant, wo, (json_int_t)deadline));
        }
        json_decref(ctx.docs);
        json_decref(ctx.inbox);
        return deadlines;
}
