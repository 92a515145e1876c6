/* http.h — the HTTP(S) server over libevent's evhttp: routing with path
 * parameters, body limits, JSON errors, and asynchronous answers.
 *
 * Routing: http_server_route(srv, "POST", "/v1/ingest/{source}", fn, arg).
 * A pattern is literal segments and {name} segments, each matching exactly
 * one non-empty path segment; routes are tried in registration order. A path
 * that no route matches gets 404; a path some route matches with another
 * method gets 405 with an Allow header. Every error the server produces is
 * {"status":"error","error":"<message>"} (http_respond_error()).
 *
 * Request lifetime (read this before answering later):
 *  - A handler gets a struct http_request that it now OWNS. It must answer it
 *    exactly once with http_respond*() — now, or many loop turns later (ingest
 *    answers after the database COMMIT). http_respond*() frees the wrapper;
 *    the pointer is invalid afterwards.
 *  - Everything readable from the request (method, path, params, query,
 *    headers, body, peer) is copied into the wrapper when it is created, so
 *    it stays valid until the answer, even if the client went away.
 *  - If the client disconnects, or the server is freed, before the answer,
 *    the wrapper becomes "dead" (http_request_alive() turns false): the
 *    libevent request is no longer touched, and http_respond*() on it only
 *    frees the wrapper. The handler's owner must still call http_respond*()
 *    (or http_request_abandon()) exactly once, or the wrapper leaks.
 *    Note: libevent 2.1 stops reading from a connection while its request is
 *    being handled, so a disconnect is often only noticed when the answer is
 *    written; either way nothing is used after free.
 *  - Not thread-safe: everything runs on the loop of the event_base.
 *
 * Limits: bodies over opts.max_body get 413 with a JSON body when the client
 * declares a Content-Length up to twice max_body (+64 KiB); libevent 2.1.12
 * itself answers a larger declared or chunked body with its own HTML 413
 * page (it offers no hook to change that page; see docs). Methods evhttp
 * does not know (not GET/POST/HEAD/PUT/DELETE/OPTIONS/PATCH) get libevent's
 * own 501/400 page, and malformed request lines its own 400. */
#ifndef TAKT_HTTP_H
#define TAKT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_server;  /* owns its listener, routes and pending requests */
struct http_request; /* owned by the handler until answered */

typedef void (*http_handler)(struct http_request *req, void *arg);

struct http_server_opts {
        const char *address;       /* listen address, default "127.0.0.1" */
        uint16_t port;             /* 0 = any free port (see http_server_port()) */
        size_t max_body;           /* request body limit in bytes; 0 = 1 MiB */
        unsigned timeout_s;        /* idle/read/write timeout per connection; 0 = 60 */
        const char *tls_cert;      /* PEM chain file: HTTPS when set */
        const char *tls_key;       /* PEM key file, required with tls_cert */
        const char *tls_client_ca; /* PEM CA file: require and verify client certs */
};

/* Bind and listen. The options' strings are only read during the call.
 * Returns NULL and writes a message into err on failure (bind, TLS files). */
struct http_server *http_server_new(struct event_base *base, const struct http_server_opts *opts,
                                    char *err, size_t errlen);
/* The bound port (the chosen one when opts.port was 0). */
uint16_t http_server_port(const struct http_server *srv);
/* Close the listener and every connection; pending requests become dead
 * (their owners still answer or abandon them). NULL is fine. */
void http_server_free(struct http_server *srv);

/* Register a route. method: "GET", "POST", ...; pattern: "/a/{name}/b".
 * Both are copied. Returns 0, or -1 for a malformed pattern or method. */
int http_server_route(struct http_server *srv, const char *method, const char *pattern,
                      http_handler handler, void *arg);

/* --- reading the request (valid until the answer, alive or dead) -------- */

const char *http_request_method(const struct http_request *req); /* "GET" */
/* The path without query string, as sent (percent-encoded). */
const char *http_request_path(const struct http_request *req);
/* A {name} segment of the matched pattern, URL-decoded; NULL if no such name. */
const char *http_request_param(const struct http_request *req, const char *name);
/* A query-string parameter, URL-decoded ('+' is a space); NULL if absent. */
const char *http_request_query(const struct http_request *req, const char *name);
/* A request header (case-insensitive name); NULL if absent. */
const char *http_request_header(const struct http_request *req, const char *name);
/* The body: contiguous, NUL-terminated after len bytes (never NULL; "" for
 * no body). May contain NUL bytes: use len. */
const char *http_request_body(const struct http_request *req, size_t *len);
/* The client's address, "ip:port" (for logs). */
const char *http_request_peer(const struct http_request *req);
/* False once the client disconnected or the server was freed. */
bool http_request_alive(const struct http_request *req);

/* --- answering (exactly once; each frees req) ---------------------------- */

/* Add a response header before answering; ignored on a dead request or a
 * header value with CR/LF. */
void http_response_header(struct http_request *req, const char *name, const char *value);
/* Answer with status, Content-Type (may be NULL for none) and body (copied;
 * may be NULL when len is 0). */
void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len);
/* Answer with a JSON body (application/json). body is STOLEN (decref'd). */
void http_respond_json(struct http_request *req, int status, json_t *body);
/* Answer {"status":"error","error":message}. */
void http_respond_error(struct http_request *req, int status, const char *message);
/* Answer 503 {"status":"error","error":"server shutting down"} (if the
 * client is still there) and free: for owners shutting down with requests
 * still pending. */
void http_request_abandon(struct http_request *req);

#endif
