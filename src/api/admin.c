/* admin.c — admin and health endpoints (see takt/admin.h). Every admin
 * answer is a JSON object; every error names what was wrong. */
#include "takt/admin.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "takt/auth.h"
#include "takt/http.h"
#include "takt/metrics.h"
#include "takt/orchestrator.h"
#include "takt/store.h"

struct admin {
        struct store *store;
        struct metrics *metrics;
        const struct takt_config *cfg;
};

/* The admin token guards every admin endpoint (and /metrics when
 * metrics.auth is set). Without a configured token, admin is closed. */
static bool authorized(struct admin *a, struct http_request *req)
{
        struct takt_auth auth = {.token = a->cfg->admin.token};
        if (a->cfg->admin.token.value &&
            auth_check(&auth, http_request_header(req, "Authorization"), NULL, NULL, 0,
                       (int64_t)time(NULL)) == AUTH_OK)
                return true;
        http_response_header(req, "WWW-Authenticate", "Bearer");
        http_respond_error(req, 401,
                           a->cfg->admin.token.value ? "admin token required"
                                                     : "admin endpoints are disabled: "
                                                       "no admin token configured");
        return false;
}

/* An admin query finished: answer it, or say why not. The request pointer
 * travels as the callback argument. */
static void respond_result(struct http_request *req, json_t *result, const char *error,
                           const char *not_found)
{
        if (error) {
                http_response_header(req, "Retry-After", "5");
                http_respond_error(req, 503, error);
        } else if (!result) {
                http_respond_error(req, 404, not_found);
        } else {
                http_respond_json(req, 200, result);
        }
}

static bool store_ready_or_503(struct admin *a, struct http_request *req)
{
        const char *reason = NULL;
        if (store_is_ready(a->store, &reason))
                return true;
        http_response_header(req, "Retry-After", "5");
        http_respond_error(req, 503, reason ? reason : "database unavailable");
        return false;
}

static void on_work_order_loaded(void *arg, json_t *result, const char *error)
{
        struct http_request *req = arg;
        json_t *view = NULL;
        if (result) {
                view = orch_wo_view(json_object_get(result, "doc"));
                json_object_set(view, "deliveries", json_object_get(result, "deliveries"));
                json_decref(result);
        }
        respond_result(req, view, error, "unknown work order");
}

static void on_work_order(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        if (!authorized(a, req) || !store_ready_or_503(a, req))
                return;
        if (store_work_order_get(a->store, http_request_param(req, "plant"),
                                 http_request_param(req, "work_order"), on_work_order_loaded,
                                 req) != 0)
                respond_result(req, NULL, "database unavailable", NULL);
}

static void on_messages_loaded(void *arg, json_t *result, const char *error)
{
        respond_result(arg, result, error, "no messages");
}

static void on_messages(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        if (!authorized(a, req) || !store_ready_or_503(a, req))
                return;
        const char *state = http_request_query(req, "state");
        static const char *const states[] = {"pending", "held", "failed", "delivered"};
        bool known = false;
        for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
                known |= strcmp(state, states[i]) == 0;
        if (!known) {
                http_respond_json(req, 400,
                                  json_pack("{s:s, s:s, s:s}", "status", "error", "error",
                                            "state must be pending, held, failed or delivered",
                                            "path", "state"));
                return;
        }
        int limit = 100;
        const char *l = http_request_query(req, "limit");
        if (l) {
                char *end;
                long v = strtol(l, &end, 10);
                if (*end || v < 1 || v > 10000) {
                        http_respond_json(req, 400,
                                          json_pack("{s:s, s:s, s:s}", "status", "error", "error",
                                                    "limit must be 1 to 10000", "path", "limit"));
                        return;
                }
                limit = (int)v;
        }
        if (store_messages_list(a->store, state, http_request_query(req, "destination"),
                                http_request_query(req, "plant"), limit, on_messages_loaded,
                                req) != 0)
                respond_result(req, NULL, "database unavailable", NULL);
}

static void on_replayed(void *arg, json_t *result, const char *error)
{
        respond_result(arg, result, error, "no failed message with that id");
}

static void on_replay(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        if (!authorized(a, req) || !store_ready_or_503(a, req))
                return;
        const char *id = http_request_param(req, "id");
        char *end;
        long long v = strtoll(id, &end, 10);
        if (*end || v <= 0) {
                http_respond_error(req, 400, "message id must be a positive integer");
                return;
        }
        if (store_message_replay(a->store, (int64_t)v, on_replayed, req) != 0)
                respond_result(req, NULL, "database unavailable", NULL);
}

static void on_trace_loaded(void *arg, json_t *result, const char *error)
{
        respond_result(arg, result, error, "unknown correlation id");
}

static void on_trace(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        if (!authorized(a, req) || !store_ready_or_503(a, req))
                return;
        if (store_trace_get(a->store, http_request_param(req, "correlation_id"), on_trace_loaded,
                            req) != 0)
                respond_result(req, NULL, "database unavailable", NULL);
}

static void on_metrics(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        if (a->cfg->metrics.auth && !authorized(a, req))
                return;
        metrics_process_update(a->metrics);
        size_t len = 0;
        char *text = metrics_render(a->metrics, &len);
        http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
        free(text);
}

static void on_healthz(struct http_request *req, void *arg)
{
        http_respond_json(req, 200, json_pack("{s:s}", "status", "alive"));
}

static void on_readyz(struct http_request *req, void *arg)
{
        struct admin *a = arg;
        const char *reason = NULL;
        if (store_is_ready(a->store, &reason)) {
                http_respond_json(req, 200, json_pack("{s:s}", "status", "ready"));
                return;
        }
        http_response_header(req, "Retry-After", "5");
        http_respond_json(req, 503,
                          json_pack("{s:s, s:s}", "status", "not_ready", "reason",
                                    reason ? reason : "database unavailable"));
}

struct admin *admin_new(struct store *store, struct metrics *metrics, const struct takt_config *cfg)
{
        struct admin *a = calloc(1, sizeof(*a));
        a->store = store;
        a->metrics = metrics;
        a->cfg = cfg;
        return a;
}

void admin_configure(struct admin *a, const struct takt_config *cfg)
{
        a->cfg = cfg;
}

void admin_register(struct admin *a, struct http_server *http)
{
        http_server_route(http, "GET", "/v1/work-orders/{plant}/{work_order}", on_work_order, a);
        http_server_route(http, "GET", "/v1/messages", on_messages, a);
        http_server_route(http, "POST", "/v1/messages/{id}/replay", on_replay, a);
        http_server_route(http, "GET", "/v1/trace/{correlation_id}", on_trace, a);
        http_server_route(http, "GET", "/metrics", on_metrics, a);
        http_server_route(http, "GET", "/healthz", on_healthz, a);
        http_server_route(http, "GET", "/readyz", on_readyz, a);
}

void admin_free(struct admin *a)
{
        free(a);
}
