/* server.c — the HTTP server (see takt/http.h): one evhttp with a single
 * generic callback that routes every request itself, so that 404, 405 and
 * 413 answers are JSON like every other error. It also watches connection
 * close so that requests answered asynchronously are never touched after
 * libevent let go of them. */
#include "http_internal.h"

#include "takt/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_MAX_BODY  (1024 * 1024)
#define DEFAULT_TIMEOUT_S 60
#define MAX_HEADERS_SIZE  (64 * 1024)
#define BODY_SLACK        (64 * 1024)

/* Client went away (or the server is being freed): every request of this
 * connection still waiting for its answer dies. */
static void on_connection_close(struct evhttp_connection *evcon, void *arg)
{
        struct http_server *srv = arg;
        struct http_request *req = srv->pending;
        while (req) {
                struct http_request *next = req->next;
                if (req->evcon == evcon) {
                        log_debug("http.client_gone", "method=%s path=%s peer=%s", req->method,
                                  req->path, req->peer);
                        http_request_kill(req);
                }
                req = next;
        }
}

/* Content-Length as declared, or 0 when absent/unparsable (libevent has
 * already rejected malformed ones). */
static size_t declared_length(struct evhttp_request *evreq)
{
        const char *cl =
            evhttp_find_header(evhttp_request_get_input_headers(evreq), "Content-Length");
        return cl ? (size_t)strtoull(cl, NULL, 10) : 0;
}

static bool body_too_large(const struct http_server *srv, struct evhttp_request *evreq)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
        return declared_length(evreq) > srv->max_body ||
               (in && evbuffer_get_length(in) > srv->max_body);
}

/* "GET, POST" of the routes matching ps, each method once. */
static void allowed_methods(const struct http_server *srv, const struct path_segments *ps,
                            char *out, size_t outlen)
{
        out[0] = '\0';
        for (size_t i = 0; i < srv->n_routes; i++) {
                const struct route *r = &srv->routes[i];
                if (!route_matches(r, ps))
                        continue;
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(srv->routes[j].method, r->method) == 0 &&
                               route_matches(&srv->routes[j], ps);
                if (seen)
                        continue;
                size_t n = strlen(out);
                snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", r->method);
        }
}

/* The route for (method, ps); *path_known tells whether any route matches
 * the path with another method. */
static const struct route *find_route(const struct http_server *srv, const char *method,
                                      const struct path_segments *ps, bool *path_known)
{
        *path_known = false;
        for (size_t i = 0; i < srv->n_routes; i++) {
                const struct route *r = &srv->routes[i];
                if (!route_matches(r, ps))
                        continue;
                if (strcmp(r->method, method) == 0)
                        return r;
                *path_known = true;
        }
        return NULL;
}

static void dispatch(struct evhttp_request *evreq, void *arg)
{
        struct http_server *srv = arg;
        struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
        if (evcon)
                evhttp_connection_set_closecb(evcon, on_connection_close, srv);

        bool too_large = body_too_large(srv, evreq);
        struct http_request *req = http_request_new(srv, evreq, !too_large);
        struct path_segments ps;
        if (path_split(req->path, &ps) != 0) {
                http_respond_error(req, 400, "malformed path");
                return;
        }
        bool path_known;
        const struct route *r = find_route(srv, req->method, &ps, &path_known);
        if (!r && path_known) {
                char allow[128];
                allowed_methods(srv, &ps, allow, sizeof(allow));
                http_response_header(req, "Allow", allow);
                http_respond_error(req, 405, "method not allowed");
        } else if (!r) {
                http_respond_error(req, 404, "not found");
        } else if (too_large) {
                char msg[96];
                snprintf(msg, sizeof(msg), "body exceeds %zu bytes", srv->max_body);
                http_response_header(req, "Connection", "close");
                http_respond_error(req, 413, msg);
        } else if (route_bind_params(r, &ps, req) != 0) {
                http_respond_error(req, 400, "malformed path parameter");
        } else if (req->bad_query) {
                http_respond_error(req, 400, "malformed query string");
        } else {
                path_segments_clear(&ps);
                r->handler(req, r->arg); /* req is the handler's now */
                return;
        }
        path_segments_clear(&ps);
}

static uint16_t bound_port(struct evhttp_bound_socket *sock)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_storage any;
        } addr = {0};
        socklen_t len = sizeof(addr);
        if (getsockname(evhttp_bound_socket_get_fd(sock), &addr.sa, &len) != 0)
                return 0;
        return ntohs(addr.sa.sa_family == AF_INET6 ? addr.in6.sin6_port : addr.in.sin_port);
}

struct http_server *http_server_new(struct event_base *base, const struct http_server_opts *opts,
                                    char *err, size_t errlen)
{
        struct http_server *srv = calloc(1, sizeof(*srv));
        if (!srv)
                abort();
        srv->base = base;
        srv->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
        srv->http = evhttp_new(base);
        if (!srv->http) {
                snprintf(err, errlen, "cannot create the HTTP server");
                goto fail;
        }
        if (opts->tls_cert) {
                srv->ssl_ctx = http_tls_context(opts, err, errlen);
                if (!srv->ssl_ctx)
                        goto fail;
                http_tls_attach(srv->http, srv->ssl_ctx);
        }
        /* libevent's own limit sits above ours so that a body up to twice
         * max_body still reaches dispatch() and gets the JSON 413. */
        size_t hard = srv->max_body > (SIZE_MAX - BODY_SLACK) / 2 ? SIZE_MAX / 2
                                                                  : srv->max_body * 2 + BODY_SLACK;
        evhttp_set_max_body_size(srv->http, (ev_ssize_t)hard);
        evhttp_set_max_headers_size(srv->http, MAX_HEADERS_SIZE);
        evhttp_set_timeout(srv->http, opts->timeout_s ? (int)opts->timeout_s : DEFAULT_TIMEOUT_S);
        evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                  EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                  EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
        evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
        evhttp_set_gencb(srv->http, dispatch, srv);

        const char *address = opts->address ? opts->address : "127.0.0.1";
        struct evhttp_bound_socket *sock =
            evhttp_bind_socket_with_handle(srv->http, address, opts->port);
        if (!sock) {
                snprintf(err, errlen, "cannot listen on %s:%u: %s", address, (unsigned)opts->port,
                         strerror(errno));
                goto fail;
        }
        srv->port = bound_port(sock);
        log_info("http.listening", "address=%s port=%u tls=%s", address, (unsigned)srv->port,
                 srv->ssl_ctx ? (opts->tls_client_ca ? "mutual" : "on") : "off");
        return srv;
fail:
        http_server_free(srv);
        return NULL;
}

uint16_t http_server_port(const struct http_server *srv)
{
        return srv->port;
}

void http_server_free(struct http_server *srv)
{
        if (!srv)
                return;
        if (srv->http)
                evhttp_free(srv->http); /* closes connections: on_connection_close */
        while (srv->pending) {          /* none expected: each had an open connection */
                srv->pending->evreq = NULL;
                http_request_kill(srv->pending);
        }
        for (size_t i = 0; i < srv->n_routes; i++)
                route_clear(&srv->routes[i]);
        free(srv->routes);
        SSL_CTX_free(srv->ssl_ctx);
        free(srv);
}

int http_server_route(struct http_server *srv, const char *method, const char *pattern,
                      http_handler handler, void *arg)
{
        struct route r;
        if (!handler || route_parse(&r, method, pattern) != 0)
                return -1;
        r.handler = handler;
        r.arg = arg;
        if (srv->n_routes == srv->cap_routes) {
                size_t cap = srv->cap_routes ? srv->cap_routes * 2 : 16;
                struct route *p = realloc(srv->routes, cap * sizeof(*p));
                if (!p)
                        abort();
                srv->routes = p;
                srv->cap_routes = cap;
        }
        srv->routes[srv->n_routes++] = r;
        return 0;
}
