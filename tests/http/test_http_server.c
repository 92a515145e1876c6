/* test_http_server.c — the HTTP server in-process on 127.0.0.1 (port 0):
 * routing and path parameters, query and headers, 404/405/413 with JSON
 * bodies, answers sent later from a timer, a client that disconnects before
 * its late answer, and a server freed with a request still pending. The
 * client is a raw bufferevent on the same loop, so the bytes on the wire are
 * exactly what the test says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/http.h"

#include "raw_client.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_BODY 1000

struct fixture {
        struct event_base *base;
        struct http_server *srv;
        struct http_request *held; /* by hold_handler */
        int late_answers;          /* answers sent by late_answer() */
        bool late_alive;           /* http_request_alive() at the last late answer */
};

/* --- handlers ----------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

/* Answer 200 with everything the request shows. */
static void echo_handler(struct http_request *req, void *arg)
{
        static const char *const params[] = {"source", "plant", "work_order", "id"};
        json_t *p = json_object();
        for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
                if (http_request_param(req, params[i]))
                        json_object_set_new(p, params[i],
                                            json_string(http_request_param(req, params[i])));
        size_t len;
        const char *body = http_request_body(req, &len);
        json_t *out = json_pack("{s:s,s:s,s:o,s:o,s:o,s:s%,s:b}", "method",
                                http_request_method(req), "path", http_request_path(req), "params",
                                p, "state", str_or_null(http_request_query(req, "state")), "x_test",
                                str_or_null(http_request_header(req, "x-test")), "body", body, len,
                                "alive", http_request_alive(req));
        assert_non_null(out);
        http_response_header(req, "X-Handled-By", "echo");
        http_respond_json(req, 200, out);
}

struct late {
        struct fixture *fx;
        struct http_request *req;
};

static void late_answer(evutil_socket_t fd, short what, void *arg)
{
        struct late *l = arg;
        l->fx->late_answers++;
        l->fx->late_alive = http_request_alive(l->req);
        json_t *body =
            json_pack("{s:s,s:s}", "status", "accepted", "id", http_request_param(l->req, "id"));
        http_respond_json(l->req, 202, body);
        free(l);
}

/* Answer 202 100 ms later, like ingest after its COMMIT. */
static void slow_handler(struct http_request *req, void *arg)
{
        struct fixture *fx = arg;
        struct late *l = malloc(sizeof(*l));
        assert_non_null(l);
        *l = (struct late){fx, req};
        struct timeval tv = {0, 100 * 1000};
        assert_int_equal(event_base_once(fx->base, -1, EV_TIMEOUT, late_answer, l, &tv), 0);
}

static void hold_handler(struct http_request *req, void *arg)
{
        struct fixture *fx = arg;
        fx->held = req;
}

static void assert_json_error(const struct response *r, int status, const char *message)
{
        char ct[128];
        assert_int_equal(r->status, status);
        assert_string_equal(header_value(r, "Content-Type", ct, sizeof(ct)), "application/json");
        char want[256];
        snprintf(want, sizeof(want), "{\"status\":\"error\",\"error\":\"%s\"}", message);
        assert_string_equal(r->body, want);
}

/* One request against the fixture's server. */
static struct response request(struct fixture *fx, const char *method, const char *target,
                               const char *extra_headers, const char *body)
{
        return raw_request(fx->base, http_server_port(fx->srv), NULL, method, target, extra_headers,
                           body);
}

/* --- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        fx->base = event_base_new();
        struct http_server_opts opts = {.address = "127.0.0.1", .port = 0, .max_body = MAX_BODY};
        char err[256];
        fx->srv = http_server_new(fx->base, &opts, err, sizeof(err));
        if (!fx->srv)
                fail_msg("http_server_new: %s", err);
        assert_true(http_server_port(fx->srv) > 0);
        static const struct {
                const char *method, *pattern;
                http_handler fn;
        } routes[] = {
            {"POST", "/v1/ingest/{source}", echo_handler},
            {"GET", "/v1/work-orders/{plant}/{work_order}", echo_handler},
            {"GET", "/v1/messages", echo_handler},
            {"POST", "/v1/messages/{id}/replay", echo_handler},
            {"DELETE", "/v1/messages/{id}/replay", echo_handler},
            {"GET", "/", echo_handler},
            {"GET", "/v1/slow/{id}", slow_handler},
            {"GET", "/v1/hold", hold_handler},
        };
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
                assert_int_equal(http_server_route(fx->srv, routes[i].method, routes[i].pattern,
                                                   routes[i].fn, fx),
                                 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        http_server_free(fx->srv);
        loop_for_ms(fx->base, 10);
        event_base_free(fx->base);
        free(fx);
        return 0;
}

/* --- tests -------------------------------------------------------------- */

static void test_route_patterns(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                const char *method, *pattern;
        } bad[] = {
            {"GET", "v1/x"},    {"GET", "/a//b"}, {"GET", "/a/"}, {"GET", "/a/{"},
            {"GET", "/a/{}"},   {"get", "/a"},    {"", "/a"},     {"GET", "/a/{b}c"},
            {"GET", "/a/x{b}"}, {"GET", NULL},    {NULL, "/a"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(
                    http_server_route(fx->srv, bad[i].method, bad[i].pattern, echo_handler, fx),
                    -1);
        assert_int_equal(http_server_route(fx->srv, "GET", "/x", NULL, fx), -1);
}

static void test_routing(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                const char *method, *target, *headers, *body;
                int status;
                const char *want_body; /* exact JSON, or NULL for the error checks below */
                const char *error;
                const char *allow;
        } cases[] = {
            {"POST", "/v1/ingest/s4", "X-Test: yes\r\n", "{\"a\":1}", 200,
             "{\"method\":\"POST\",\"path\":\"/v1/ingest/s4\",\"params\":{\"source\":\"s4\"},"
             "\"state\":null,\"x_test\":\"yes\",\"body\":\"{\\\"a\\\":1}\",\"alive\":true}",
             NULL, NULL},
            {"POST", "/v1/ingest/mes%2Dde01%2Fx%20y", NULL, NULL, 200,
             "{\"method\":\"POST\",\"path\":\"/v1/ingest/mes%2Dde01%2Fx%20y\","
             "\"params\":{\"source\":\"mes-de01/x y\"},\"state\":null,\"x_test\":null,"
             "\"body\":\"\",\"alive\":true}",
             NULL, NULL},
            {"GET", "/v1/work-orders/DE01/4711", NULL, NULL, 200,
             "{\"method\":\"GET\",\"path\":\"/v1/work-orders/DE01/4711\","
             "\"params\":{\"plant\":\"DE01\",\"work_order\":\"4711\"},\"state\":null,"
             "\"x_test\":null,\"body\":\"\",\"alive\":true}",
             NULL, NULL},
            {"GET", "/v1/messages?state=failed&destination=s4", NULL, NULL, 200,
             "{\"method\":\"GET\",\"path\":\"/v1/messages\",\"params\":{},"
             "\"state\":\"failed\",\"x_test\":null,\"body\":\"\",\"alive\":true}",
             NULL, NULL},
            {"GET", "/v1/messages?state=a%20b+c", NULL, NULL, 200,
             "{\"method\":\"GET\",\"path\":\"/v1/messages\",\"params\":{},"
             "\"state\":\"a b c\",\"x_test\":null,\"body\":\"\",\"alive\":true}",
             NULL, NULL},
            {"POST", "/v1/messages/42/replay", NULL, NULL, 200,
             "{\"method\":\"POST\",\"path\":\"/v1/messages/42/replay\","
             "\"params\":{\"id\":\"42\"},\"state\":null,\"x_test\":null,\"body\":\"\","
             "\"alive\":true}",
             NULL, NULL},
            {"GET", "/", NULL, NULL, 200,
             "{\"method\":\"GET\",\"path\":\"/\",\"params\":{},\"state\":null,"
             "\"x_test\":null,\"body\":\"\",\"alive\":true}",
             NULL, NULL},
            {"GET", "/v1/ingest/s4", NULL, NULL, 405, NULL, "method not allowed", "POST"},
            {"PUT", "/v1/messages/42/replay", NULL, NULL, 405, NULL, "method not allowed",
             "POST, DELETE"},
            {"GET", "/nope", NULL, NULL, 404, NULL, "not found", NULL},
            {"GET", "/v1/work-orders/DE01", NULL, NULL, 404, NULL, "not found", NULL},
            {"GET", "/v1/work-orders/DE01/", NULL, NULL, 404, NULL, "not found", NULL},
            {"GET", "/v1/work-orders/DE01/4711/x", NULL, NULL, 404, NULL, "not found", NULL},
            {"GET", "/v1/messages/", NULL, NULL, 404, NULL, "not found", NULL},
            {"GET", "/V1/messages", NULL, NULL, 404, NULL, "not found", NULL},
            {"POST", "/v1/ingest/a%00b", NULL, NULL, 400, NULL, "malformed path parameter", NULL},
            {"GET", "/v1/messages?state", NULL, NULL, 400, NULL, "malformed query string", NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct response r =
                    request(fx, cases[i].method, cases[i].target, cases[i].headers, cases[i].body);
                if (r.status != cases[i].status)
                        fail_msg("%s %s: status %d, want %d", cases[i].method, cases[i].target,
                                 r.status, cases[i].status);
                if (cases[i].want_body) {
                        char h[64];
                        assert_string_equal(r.body, cases[i].want_body);
                        assert_string_equal(header_value(&r, "X-Handled-By", h, sizeof(h)), "echo");
                } else {
                        assert_json_error(&r, cases[i].status, cases[i].error);
                }
                if (cases[i].allow) {
                        char allow[64];
                        assert_string_equal(header_value(&r, "Allow", allow, sizeof(allow)),
                                            cases[i].allow);
                }
                response_free(&r);
        }
}

static char *filled(size_t n)
{
        char *s = malloc(n + 1);
        memset(s, 'x', n);
        s[n] = '\0';
        return s;
}

static void test_body_limit(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                size_t len;
                int status;
        } cases[] = {
            {MAX_BODY, 200},
            {MAX_BODY + 1, 413},
            {2 * MAX_BODY, 413},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *body = filled(cases[i].len);
                struct response r = request(fx, "POST", "/v1/ingest/s4", NULL, body);
                if (cases[i].status == 413)
                        assert_json_error(&r, 413, "body exceeds 1000 bytes");
                else
                        assert_int_equal(r.status, cases[i].status);
                response_free(&r);
                free(body);
        }
}

/* Over libevent's own limit (2 * max_body + 64 KiB) the 413 is libevent's
 * HTML page: documented limitation of libevent 2.1.12. */
static void test_body_far_over_limit(void **state)
{
        struct fixture *fx = *state;
        size_t n = 2 * MAX_BODY + 64 * 1024 + 1;
        char *body = filled(n);
        char head[256];
        int hn =
            snprintf(head, sizeof(head),
                     "POST /v1/ingest/s4 HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
        char *raw = malloc((size_t)hn + n);
        memcpy(raw, head, (size_t)hn);
        memcpy(raw + hn, body, n);
        struct exchange x;
        exchange_start(&x, fx->base, http_server_port(fx->srv), NULL, raw, (size_t)hn + n);
        exchange_wait(&x, fx->base);
        struct response r = exchange_response(&x);
        assert_int_equal(r.status, 413);
        response_free(&r);
        free(raw);
        free(body);
}

static void test_async_answer(void **state)
{
        struct fixture *fx = *state;
        struct timeval t0, t1, dt;
        evutil_gettimeofday(&t0, NULL);
        struct response r = request(fx, "GET", "/v1/slow/m-7", NULL, NULL);
        evutil_gettimeofday(&t1, NULL);
        evutil_timersub(&t1, &t0, &dt);
        assert_int_equal(r.status, 202);
        assert_string_equal(r.body, "{\"status\":\"accepted\",\"id\":\"m-7\"}");
        assert_true(dt.tv_sec > 0 || dt.tv_usec >= 90 * 1000);
        assert_int_equal(fx->late_answers, 1);
        assert_true(fx->late_alive);
        response_free(&r);
}

static void close_client(evutil_socket_t fd, short what, void *arg)
{
        exchange_close(arg);
}

/* Two requests written at once on one keep-alive connection, the first
 * answered late: both answers come back, in order. */
static void test_pipelined_keepalive(void **state)
{
        struct fixture *fx = *state;
        static const char raw[] = "GET /v1/slow/first HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /v1/messages?state=second HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n";
        struct exchange x;
        exchange_start(&x, fx->base, http_server_port(fx->srv), NULL, raw, sizeof(raw) - 1);
        exchange_wait(&x, fx->base);
        struct response r = exchange_response(&x);
        assert_int_equal(r.status, 202);
        const char *first = strstr(r.body, "\"id\":\"first\"");
        const char *second = strstr(r.body, "\"state\":\"second\"");
        assert_non_null(first);
        assert_non_null(second);
        assert_true(first < second);
        response_free(&r);
}

/* The client hangs up 20 ms after sending; the answer comes at 100 ms. The
 * server must neither crash nor leak (ASan), and keep serving. */
static void test_client_disconnects_before_answer(void **state)
{
        struct fixture *fx = *state;
        static const char raw[] = "GET /v1/slow/gone HTTP/1.1\r\nHost: x\r\n\r\n";
        for (int round = 0; round < 3; round++) {
                struct exchange x;
                exchange_start(&x, fx->base, http_server_port(fx->srv), NULL, raw, sizeof(raw) - 1);
                struct timeval tv = {0, 20 * 1000};
                assert_int_equal(event_base_once(fx->base, -1, EV_TIMEOUT, close_client, &x, &tv),
                                 0);
                loop_for_ms(fx->base, 250);
                assert_true(x.done);
                struct response gone = exchange_response(&x);
                assert_int_equal(gone.status, 0);
                response_free(&gone);
                assert_int_equal(fx->late_answers, round + 1);
        }
        struct response r = request(fx, "GET", "/v1/slow/after", NULL, NULL);
        assert_int_equal(r.status, 202);
        response_free(&r);
}

/* The server goes away while a handler still holds a request: the request
 * turns dead, stays readable, and answering it only frees it. */
static void test_server_freed_with_pending_request(void **state)
{
        struct fixture *fx = *state;
        static const char raw[] = "GET /v1/hold HTTP/1.1\r\nHost: x\r\nX-Test: kept\r\n\r\n";
        struct exchange x;
        exchange_start(&x, fx->base, http_server_port(fx->srv), NULL, raw, sizeof(raw) - 1);
        for (int i = 0; i < 100 && !fx->held; i++)
                loop_for_ms(fx->base, 10);
        assert_non_null(fx->held);
        assert_true(http_request_alive(fx->held));
        http_server_free(fx->srv);
        fx->srv = NULL;
        assert_false(http_request_alive(fx->held));
        assert_string_equal(http_request_header(fx->held, "X-Test"), "kept");
        assert_string_equal(http_request_path(fx->held), "/v1/hold");
        http_response_header(fx->held, "X-Ignored", "1");
        http_respond_error(fx->held, 500, "too late");
        fx->held = NULL;
        exchange_wait(&x, fx->base);
        struct response r = exchange_response(&x);
        assert_int_equal(r.status, 0); /* closed without an answer */
        response_free(&r);
}

static void test_bind_failure(void **state)
{
        struct fixture *fx = *state;
        struct http_server_opts opts = {.address = "127.0.0.1", .port = http_server_port(fx->srv)};
        char err[256] = "";
        assert_null(http_server_new(fx->base, &opts, err, sizeof(err)));
        assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
        struct http_server_opts tls = {
            .address = "127.0.0.1", .tls_cert = "/nonexistent.pem", .tls_key = "/nonexistent.key"};
        assert_null(http_server_new(fx->base, &tls, err, sizeof(err)));
        assert_non_null(strstr(err, "cannot load certificate /nonexistent.pem"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_route_patterns, setup, teardown),
            cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_body_far_over_limit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_async_answer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pipelined_keepalive, setup, teardown),
            cmocka_unit_test_setup_teardown(test_client_disconnects_before_answer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_server_freed_with_pending_request, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_bind_failure, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
