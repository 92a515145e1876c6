/* ingest.c — request intake (see takt/ingest.h) and the ingest lifecycle.
 *
 * Intake does everything that needs no database: source, content type,
 * credentials, JSON, dialect, validation, sender rules. A request that passes
 * joins the group-commit queue (ingest_groups.c), which answers it after its
 * group's COMMIT. */
#include "ingest_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sla_timers.h"
#include "takt/auth.h"
#include "takt/http.h"
#include "takt/log.h"
#include "takt/metrics.h"

#define INGEST_MAX_BATCH_ITEMS 1000

double ingest_monotonic(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t ingest_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ingest_count(struct ingest *ing, const char *source, const char *type, const char *result)
{
        const char *labels[] = {source, type ? type : "unknown", result};
        metrics_inc(ing->m_messages, labels);
}

void ingest_req_free(struct ingest_req *req)
{
        if (!req)
                return;
        for (size_t i = 0; i < req->n_items; i++)
                json_decref(req->items[i].env);
        free(req->items);
        free(req->plant);
        free(req->work_order);
        json_decref(req->delivered_env);
        json_decref(req->body);
        free(req);
}

/* ---- intake ---- */

static void reject(struct http_request *http, int status, json_t *body)
{
        if (status == 503)
                http_response_header(http, "Retry-After", "5");
        http_respond_json(http, status, body);
}

static void reject_msg(struct http_request *http, int status, const char *status_word,
                       const char *message)
{
        reject(http, status, json_pack("{s:s, s:s}", "status", status_word, "error", message));
}

/* A random (version 4) UUID. getrandom(2) without flags only waits for the
 * kernel's entropy pool at early boot; for 16 bytes it fails only when a
 * signal interrupts it (retried) or on kernels older than 3.17 (unsupported:
 * takt refuses to make up ids). */
static void new_correlation_id(char out[37])
{
        unsigned char r[16];
        ssize_t got;
        while ((got = getrandom(r, sizeof(r), 0)) < 0 && errno == EINTR)
                ;
        if (got != (ssize_t)sizeof(r)) {
                log_error("ingest.no_randomness", "error=\"%s\"", strerror(errno));
                abort();
        }
        r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
        r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                 r[13], r[14], r[15]);
}

/* Sender rules (contract §2): the type must be one this source's kind may
 * send, an MES source only speaks for its own plant, and the plant must be
 * configured. Returns 0, or the HTTP status with the error added. */
static int check_sender(const struct ingest *ing, const struct takt_source *src, const json_t *env,
                        enum canon_type type, const char *prefix, struct canon_errors *errs)
{
        unsigned need = src->kind == TAKT_KIND_ERP ? CANON_SENDER_ERP : CANON_SENDER_MES;
        const char *plant = canon_str(env, "plant");
        if (!(canon_type_senders(type) & need)) {
                canon_errors_add(errs, prefix, "/type", "%s may not be sent by a %s source",
                                 canon_type_name(type), src->kind == TAKT_KIND_ERP ? "erp" : "mes");
                return 403;
        }
        if (src->plant && strcmp(src->plant, plant) != 0) {
                canon_errors_add(errs, prefix, "/plant", "source %s is bound to plant %s",
                                 src->name, src->plant);
                return 403;
        }
        if (!takt_config_plant(ing->cfg, plant)) {
                canon_errors_add(errs, prefix, "/plant", "plant %s is not configured", plant);
                return 422;
        }
        return 0;
}

static bool content_type_is_json(const char *ct)
{
        if (!ct)
                return false;
        size_t n = strlen("application/json");
        return strncasecmp(ct, "application/json", n) == 0 &&
               (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Normalize one source message into canonical items appended to req. */
static int normalize(struct ingest *ing, struct ingest_req *req, const struct dialect *dialect,
                     const json_t *src_msg, const char *prefix, struct canon_errors *errs)
{
        json_t *envs = dialect_inbound(dialect, src_msg, prefix, errs);
        if (!envs)
                return 422;
        int status = 0;
        size_t i;
        json_t *env;
        json_array_foreach(envs, i, env)
        {
                char sub[64];
                /* A dialect that maps one message to several names them by
                 * the source path; the canonical one is the item itself. */
                snprintf(sub, sizeof(sub), "%s", prefix);
                enum canon_type type;
                if (!json_is_object(env) || !canon_validate(env, sub, &type, errs)) {
                        status = 422;
                        continue;
                }
                int s = check_sender(ing, req->source, env, type, sub, errs);
                if (s) {
                        if (status != 403)
                                status = s;
                        continue;
                }
                /* envs and the parsed body are this request's alone: the
                 * item takes a reference, not a copy. */
                json_t *copy = json_incref(env);
                if (!canon_str(copy, "correlation_id")) {
                        char corr[37];
                        new_correlation_id(corr);
                        json_object_set_new(copy, "correlation_id", json_string(corr));
                }
                req->items = realloc(req->items, (req->n_items + 1) * sizeof(*req->items));
                req->items[req->n_items++] = (struct ingest_item){copy, type, NULL};
        }
        json_decref(envs);
        return status;
}

static void on_ingest(struct http_request *http, void *arg)
{
        struct ingest *ing = arg;
        const char *name = http_request_param(http, "source");
        const struct takt_source *src = takt_config_source(ing->cfg, name);
        if (!src) {
                reject_msg(http, 404, "error", "unknown source");
                return;
        }
        if (!content_type_is_json(http_request_header(http, "Content-Type"))) {
                reject_msg(http, 415, "error", "Content-Type must be application/json");
                return;
        }
        size_t len = 0;
        const char *body = http_request_body(http, &len);
        enum auth_result auth = auth_check(&src->auth, http_request_header(http, "Authorization"),
                                           http_request_header(http, "X-Takt-Signature"), body, len,
                                           ingest_now_ms() / 1000);
        if (auth != AUTH_OK) {
                ingest_count(ing, src->name, NULL, "unauthorized");
                http_response_header(http, "WWW-Authenticate", "Bearer");
                reject_msg(http, 401, "unauthorized",
                           auth == AUTH_MISSING ? "credentials required" : "bad credentials");
                return;
        }
        json_error_t jerr;
        json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc || !(json_is_object(doc) || json_is_array(doc))) {
                char msg[256];
                snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", jerr.line,
                         jerr.column, doc ? "expected an object or an array" : jerr.text);
                json_decref(doc);
                ingest_count(ing, src->name, NULL, "invalid");
                reject_msg(http, 400, "error", msg);
                return;
        }

        struct ingest_req *req = calloc(1, sizeof(*req));
        req->kind = INGEST_HTTP;
        req->http = http;
        req->source = src;
        req->received_ms = ingest_now_ms();
        req->started = ingest_monotonic();
        req->is_batch = json_is_array(doc);

        struct canon_errors errs = {0};
        int status = 0;
        const struct dialect *dialect = dialect_set_get(ing->dialects, src->dialect);
        if (req->is_batch) {
                size_t n = json_array_size(doc);
                if (n == 0 || n > INGEST_MAX_BATCH_ITEMS) {
                        canon_errors_add(&errs, "", "", "a batch holds 1 to %d messages",
                                         INGEST_MAX_BATCH_ITEMS);
                        status = 422;
                }
                for (size_t i = 0; !status && i < n; i++) {
                        char prefix[32];
                        snprintf(prefix, sizeof(prefix), "/%zu", i);
                        int s = normalize(ing, req, dialect, json_array_get(doc, i), prefix, &errs);
                        if (s && status != 403)
                                status = s;
                }
        } else {
                status = normalize(ing, req, dialect, doc, "", &errs);
        }
        json_decref(doc);
        if (status) {
                const char *type = req->n_items ? canon_type_name(req->items[0].type) : NULL;
                ingest_count(ing, src->name, type, status == 403 ? "forbidden" : "invalid");
                json_t *answer = canon_errors_json(&errs);
                if (status == 403)
                        json_object_set_new(answer, "status", json_string("forbidden"));
                reject(http, status, answer);
                ingest_req_free(req);
                return;
        }
        /* Checked last: a sender learns about a bad message even while the
         * database is away, and nothing is queued that cannot commit. */
        const char *reason = NULL;
        if (!store_is_ready(ing->store, &reason)) {
                for (size_t i = 0; i < req->n_items; i++)
                        ingest_count(ing, src->name, canon_type_name(req->items[i].type),
                                     "unavailable");
                reject_msg(http, 503, "unavailable", reason ? reason : "database unavailable");
                ingest_req_free(req);
                return;
        }
        ingest_enqueue(ing, req);
}

/* ---- takt's own events ---- */

static struct ingest_req *internal_req(struct ingest *ing, enum ingest_kind kind, const char *plant,
                                       const char *work_order)
{
        struct ingest_req *req = calloc(1, sizeof(*req));
        req->kind = kind;
        req->plant = strdup(plant);
        req->work_order = strdup(work_order);
        req->started = ingest_monotonic();
        return req;
}

void ingest_delivered(struct ingest *ing, const struct store_outbox_row *row,
                      const struct takt_destination *dest)
{
        if (!row->work_order || dest->kind == TAKT_KIND_NONE)
                return;
        /* Only these deliveries move an order (contract §3). */
        if (strcmp(row->type, "work_order.released") != 0 &&
            strcmp(row->type, "work_order.completed") != 0)
                return;
        /* The transition needs the message's identity, not its data. */
        json_t *identity = json_pack("{s:s, s:s?, s:s?}", "type", row->type, "id", row->message_id,
                                     "correlation_id", row->correlation_id);
        if (!identity)
                return;
        struct ingest_req *req = internal_req(ing, INGEST_DELIVERED, row->plant, row->work_order);
        req->delivered_env = identity;
        req->dest_kind = dest->kind;
        ingest_enqueue(ing, req);
}

static void on_sla_due(void *arg, const char *plant, const char *work_order)
{
        struct ingest *ing = arg;
        ingest_enqueue(ing, internal_req(ing, INGEST_SLA, plant, work_order));
}

void ingest_resume_sla(struct ingest *ing)
{
        sla_timers_resume(ing->sla, ing->store);
}

/* ---- lifecycle ---- */

struct ingest *ingest_new(struct event_base *base, struct store *store, struct metrics *metrics,
                          const struct takt_config *cfg, const struct dialect_set *dialects)
{
        struct ingest *ing = calloc(1, sizeof(*ing));
        ing->base = base;
        ing->store = store;
        ing->metrics = metrics;
        ing->cfg = cfg;
        ing->dialects = dialects;
        ingest_groups_init(ing);
        ing->sla = sla_timers_new(base, on_sla_due, ing);
        static const char *const msg_labels[] = {"source", "type", "result", NULL};
        ing->m_messages = metrics_family(metrics, "takt_ingest_messages_total",
                                         "Messages received, by source, type and result.",
                                         METRIC_COUNTER, msg_labels, NULL, 0);
        ing->m_duration = metrics_family(
            metrics, "takt_ingest_duration_seconds",
            "Time from receiving an ingest request to answering it after COMMIT.", METRIC_HISTOGRAM,
            NULL, metrics_latency_buckets, metrics_latency_buckets_count);
        static const char *const sla_labels[] = {"plant", "sla", NULL};
        ing->m_sla = metrics_family(metrics, "takt_sla_breaches_total",
                                    "SLA deadlines missed, by plant and SLA.", METRIC_COUNTER,
                                    sla_labels, NULL, 0);
        return ing;
}

void ingest_configure(struct ingest *ing, const struct takt_config *cfg,
                      const struct dialect_set *dialects)
{
        ing->cfg = cfg;
        ing->dialects = dialects;
}

void ingest_set_delivery(struct ingest *ing, struct delivery_worker *delivery)
{
        ing->delivery = delivery;
}

void ingest_register(struct ingest *ing, struct http_server *http)
{
        http_server_route(http, "POST", "/v1/ingest/{source}", on_ingest, ing);
}

void ingest_free(struct ingest *ing)
{
        if (!ing)
                return;
        ingest_groups_free(ing);
        sla_timers_free(ing->sla);
        free(ing);
}
