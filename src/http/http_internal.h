/* http_internal.h — what server.c, request.c and route.c share inside the
 * http module: the server and request structs, and the route table. Nothing
 * outside src/http includes this. */
#ifndef TAKT_HTTP_INTERNAL_H
#define TAKT_HTTP_INTERNAL_H

#include "takt/http.h"

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

/* One pattern segment: a literal, or a {name} parameter (literal NULL). */
struct route_segment {
        char *literal; /* owned, or NULL */
        char *param;   /* owned, or NULL */
};

struct route {
        char *method;                   /* owned, "GET" */
        struct route_segment *segments; /* owned */
        size_t n_segments;
        http_handler handler;
        void *arg;
};

/* The raw segments of a request path ("/a/b%20c/" -> "a", "b%20c", ""). */
struct path_segments {
        char *buf;   /* owned copy of the path, split in place */
        char **segs; /* owned array of pointers into buf */
        size_t n;
};

struct http_server {
        struct event_base *base;
        struct evhttp *http; /* owned */
        SSL_CTX *ssl_ctx;    /* owned, NULL without TLS */
        uint16_t port;
        size_t max_body;
        struct route *routes; /* owned */
        size_t n_routes, cap_routes;
        struct http_request *pending; /* requests handed out and not answered */
};

struct http_request {
        struct http_server *srv;          /* NULL once dead */
        struct evhttp_request *evreq;     /* libevent's; NULL once dead */
        struct evhttp_connection *evcon;  /* its connection; NULL once dead */
        struct http_request *prev, *next; /* in srv->pending while alive */
        char *method;                     /* owned */
        char *path;                       /* owned, raw */
        char *peer;                       /* owned "ip:port" */
        char **param_names;               /* owned copies of the route's names */
        char **param_values;              /* owned, decoded */
        size_t n_params;
        struct evkeyvalq query;   /* owned copy */
        struct evkeyvalq headers; /* owned copy */
        char *body;               /* owned, NUL-terminated */
        size_t body_len;
        bool bad_query; /* query string did not parse */
};

/* route.c */
int route_parse(struct route *r, const char *method, const char *pattern);
void route_clear(struct route *r);
int path_split(const char *path, struct path_segments *out);
void path_segments_clear(struct path_segments *ps);
/* Does r's pattern match these segments (method not considered)? */
bool route_matches(const struct route *r, const struct path_segments *ps);
/* Decode r's parameters from ps into req; -1 if a value decodes to
 * something with a NUL byte. */
int route_bind_params(const struct route *r, const struct path_segments *ps,
                      struct http_request *req);

/* request.c */
/* A wrapper for evreq copying everything a handler may read; linked into
 * srv->pending. A malformed query string sets bad_query. The body is
 * copied only when with_body (not for an answer of 413). */
struct http_request *http_request_new(struct http_server *srv, struct evhttp_request *evreq,
                                      bool with_body);
/* Mark req dead (client gone or server freed): unlink it and forget the
 * libevent objects. */
void http_request_kill(struct http_request *req);

/* tls.c */
SSL_CTX *http_tls_context(const struct http_server_opts *opts, char *err, size_t errlen);
void http_tls_attach(struct evhttp *http, SSL_CTX *ctx);

#endif
