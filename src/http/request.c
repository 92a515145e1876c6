/* request.c — struct http_request, the wrapper a handler owns (see the
 * lifetime rules in takt/http.h): a copy of everything readable from the
 * libevent request, the answer functions, and the "dead" state a wrapper
 * enters when its client or server goes away before the answer. */
#include "http_internal.h"

#include "takt/json_text.h"
#include "takt/log.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

static const char *method_name(enum evhttp_cmd_type cmd)
{
        switch (cmd) {
        case EVHTTP_REQ_GET:
                return "GET";
        case EVHTTP_REQ_POST:
                return "POST";
        case EVHTTP_REQ_HEAD:
                return "HEAD";
        case EVHTTP_REQ_PUT:
                return "PUT";
        case EVHTTP_REQ_DELETE:
                return "DELETE";
        case EVHTTP_REQ_OPTIONS:
                return "OPTIONS";
        case EVHTTP_REQ_TRACE:
                return "TRACE";
        case EVHTTP_REQ_CONNECT:
                return "CONNECT";
        case EVHTTP_REQ_PATCH:
                return "PATCH";
        }
        return "UNKNOWN";
}

static char *xstrdup(const char *s)
{
        char *d = strdup(s ? s : "");
        if (!d)
                abort();
        return d;
}

static void copy_headers(struct evkeyvalq *dst, const struct evkeyvalq *src)
{
        const struct evkeyval *kv;
        TAILQ_FOREACH(kv, src, next)
        {
                evhttp_add_header(dst, kv->key, kv->value);
        }
}

static char *peer_of(struct evhttp_connection *evcon)
{
        char *addr = NULL;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(evcon, &addr, &port);
        char buf[128];
        snprintf(buf, sizeof(buf), "%s:%u", addr ? addr : "?", (unsigned)port);
        return xstrdup(buf);
}

static void copy_body(struct http_request *req, struct evhttp_request *evreq, bool with_body)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
        req->body_len = with_body && in ? evbuffer_get_length(in) : 0;
        req->body = malloc(req->body_len + 1);
        if (!req->body)
                abort();
        if (req->body_len)
                evbuffer_copyout(in, req->body, req->body_len);
        req->body[req->body_len] = '\0';
}

struct http_request *http_request_new(struct http_server *srv, struct evhttp_request *evreq,
                                      bool with_body)
{
        struct http_request *req = calloc(1, sizeof(*req));
        if (!req)
                abort();
        req->srv = srv;
        req->evreq = evreq;
        req->evcon = evhttp_request_get_connection(evreq);
        req->method = xstrdup(method_name(evhttp_request_get_command(evreq)));
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        req->path = xstrdup(path && *path ? path : "/");
        TAILQ_INIT(&req->query);
        TAILQ_INIT(&req->headers);
        const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
        if (query && *query && evhttp_parse_query_str(query, &req->query) != 0)
                req->bad_query = true;
        copy_headers(&req->headers, evhttp_request_get_input_headers(evreq));
        req->peer = peer_of(req->evcon);
        copy_body(req, evreq, with_body);

        req->next = srv->pending;
        if (srv->pending)
                srv->pending->prev = req;
        srv->pending = req;
        return req;
}

static void unlink_pending(struct http_request *req)
{
        if (!req->srv)
                return;
        if (req->prev)
                req->prev->next = req->next;
        else
                req->srv->pending = req->next;
        if (req->next)
                req->next->prev = req->prev;
        req->prev = req->next = NULL;
}

void http_request_kill(struct http_request *req)
{
        unlink_pending(req);
        /* libevent 2.1 detaches an unanswered request from a connection that
         * failed (EOF, timeout) and leaves it to whoever answers; nobody
         * will, so free it. An attached one is freed with its connection. */
        if (req->evreq && !evhttp_request_get_connection(req->evreq))
                evhttp_request_free(req->evreq);
        req->srv = NULL;
        req->evreq = NULL;
        req->evcon = NULL;
}

static void request_free(struct http_request *req)
{
        for (size_t i = 0; i < req->n_params; i++) {
                free(req->param_names[i]);
                free(req->param_values[i]);
        }
        free(req->param_names);
        free(req->param_values);
        evhttp_clear_headers(&req->query);
        evhttp_clear_headers(&req->headers);
        free(req->method);
        free(req->path);
        free(req->peer);
        free(req->body);
        free(req);
}

/* --- reading ------------------------------------------------------------ */

const char *http_request_method(const struct http_request *req)
{
        return req->method;
}

const char *http_request_path(const struct http_request *req)
{
        return req->path;
}

const char *http_request_param(const struct http_request *req, const char *name)
{
        for (size_t i = 0; i < req->n_params; i++)
                if (strcmp(req->param_names[i], name) == 0)
                        return req->param_values[i];
        return NULL;
}

const char *http_request_query(const struct http_request *req, const char *name)
{
        return evhttp_find_header(&req->query, name);
}

const char *http_request_header(const struct http_request *req, const char *name)
{
        return evhttp_find_header(&req->headers, name);
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
        if (len)
                *len = req->body_len;
        return req->body;
}

const char *http_request_peer(const struct http_request *req)
{
        return req->peer;
}

bool http_request_alive(const struct http_request *req)
{
        return req->evreq != NULL;
}

/* --- answering ---------------------------------------------------------- */

void http_response_header(struct http_request *req, const char *name, const char *value)
{
        if (req && req->evreq)
                evhttp_add_header(evhttp_request_get_output_headers(req->evreq), name, value);
}

void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len)
{
        if (!req)
                return;
        if (req->evreq) {
                log_debug("http.response", "method=%s path=%s status=%d peer=%s", req->method,
                          req->path, status, req->peer);
                if (content_type) {
                        evhttp_remove_header(evhttp_request_get_output_headers(req->evreq),
                                             "Content-Type");
                        http_response_header(req, "Content-Type", content_type);
                }
                struct evbuffer *buf = evbuffer_new();
                if (!buf)
                        abort();
                if (len)
                        evbuffer_add(buf, body, len);
                unlink_pending(req);
                evhttp_send_reply(req->evreq, status, NULL, buf);
                evbuffer_free(buf);
        } else {
                log_debug("http.response_dropped", "method=%s path=%s status=%d peer=%s",
                          req->method, req->path, status, req->peer);
        }
        request_free(req);
}

void http_respond_json(struct http_request *req, int status, json_t *body)
{
        char *text = body ? json_text(body) : NULL;
        json_decref(body);
        if (!text) {
                http_respond_error(req, 500, "could not encode the answer");
                return;
        }
        http_respond(req, status, "application/json", text, strlen(text));
        free(text);
}

void http_respond_error(struct http_request *req, int status, const char *message)
{
        json_t *body =
            json_pack("{s:s,s:s}", "status", "error", "error", message ? message : "error");
        if (!body) /* message was not UTF-8 */
                body = json_pack("{s:s,s:s}", "status", "error", "error", "error");
        if (!body)
                abort();
        http_respond_json(req, status, body);
}

void http_request_abandon(struct http_request *req)
{
        http_respond_error(req, 503, "server shutting down");
}
