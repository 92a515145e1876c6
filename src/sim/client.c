/* client.c — takt-sim's HTTP calls to taktd: a few keep-alive evhttp
 * connections used in turn, bearer or X-Takt-Signature auth, and retries
 * (5xx, 429, no answer) with capped exponential backoff on a timer, never a
 * sleep. Every call is on one list so that a shutdown frees them all. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "runtime.h"

#define NCONN        4
#define MAX_BACKOFF  4000
#define CALL_TIMEOUT 30

struct call {
        struct sim_client *c;
        char *path; /* owned */
        char *body; /* owned; NULL for GET */
        struct sim_auth auth;
        bool retry;
        int attempts;
        sim_http_cb cb;
        void *arg;
        struct event *timer; /* retry backoff; owned */
        struct call *prev, *next;
};

struct sim_client {
        struct event_base *base;
        char host[128];
        int port;
        struct evhttp_connection *conn[NCONN]; /* owned */
        int turn;
        bool shutting_down;
        struct call *calls; /* every live call; owned */
};

struct sim_client *sim_client_new(struct event_base *base, const char *host, int port)
{
        struct sim_client *c = calloc(1, sizeof(*c));
        if (c == NULL)
                return NULL;
        c->base = base;
        sim_copy(c->host, sizeof(c->host), host);
        c->port = port;
        for (int i = 0; i < NCONN; i++) {
                c->conn[i] = evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
                if (c->conn[i] == NULL) {
                        sim_client_free(c);
                        return NULL;
                }
                evhttp_connection_set_timeout(c->conn[i], CALL_TIMEOUT);
        }
        return c;
}

static void call_free(struct call *k)
{
        struct sim_client *c = k->c;
        if (k->prev)
                k->prev->next = k->next;
        else
                c->calls = k->next;
        if (k->next)
                k->next->prev = k->prev;
        if (k->timer)
                event_free(k->timer);
        free(k->path);
        free(k->body);
        free(k);
}

void sim_client_free(struct sim_client *c)
{
        if (c == NULL)
                return;
        for (int i = 0; i < NCONN; i++) {
                if (c->conn[i])
                        evhttp_connection_free(c->conn[i]); /* calls no callback */
        }
        while (c->calls)
                call_free(c->calls);
        free(c);
}

void sim_hmac_signature(const char *secret, long long t, const char *body, size_t len, char *buf,
                        size_t buflen)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        char prefix[32];
        int plen = snprintf(prefix, sizeof(prefix), "%lld.", t);
        size_t n = (size_t)plen + len;
        unsigned char *msg = malloc(n + 1);
        if (msg == NULL) {
                buf[0] = '\0';
                return;
        }
        memcpy(msg, prefix, (size_t)plen);
        memcpy(msg + plen, body, len);
        HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, md, &mdlen);
        free(msg);
        int off = snprintf(buf, buflen, "t=%lld,v1=", t);
        for (unsigned int i = 0; i < mdlen && (size_t)off + 2 < buflen; i++)
                off += snprintf(buf + off, buflen - (size_t)off, "%02x", md[i]);
}

static void send_call(struct call *k);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
        struct call *k = arg;
        if (k->c->shutting_down) {
                if (k->cb)
                        k->cb(k->arg, 0, "", 0);
                call_free(k);
                return;
        }
        send_call(k);
}

static bool retryable(int status)
{
        return status == 0 || status == 429 || status == 408 || status >= 500;
}

static void on_done(struct evhttp_request *req, void *arg)
{
        struct call *k = arg;
        int status = req ? evhttp_request_get_response_code(req) : 0;
        if (k->retry && retryable(status) && !k->c->shutting_down) {
                int64_t ms = 100LL << (k->attempts < 6 ? k->attempts : 6);
                struct timeval tv = {.tv_sec = 0, .tv_usec = 0};
                ms = ms > MAX_BACKOFF ? MAX_BACKOFF : ms;
                tv.tv_sec = ms / 1000;
                tv.tv_usec = (ms % 1000) * 1000;
                if (k->timer == NULL)
                        k->timer = evtimer_new(k->c->base, on_retry, k);
                if (k->timer != NULL && evtimer_add(k->timer, &tv) == 0)
                        return;
        }
        const char *body = "";
        size_t len = 0;
        struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
        if (in != NULL && (len = evbuffer_get_length(in)) > 0)
                body = (const char *)evbuffer_pullup(in, -1);
        if (k->cb)
                k->cb(k->arg, status, body, len);
        call_free(k);
}

static void send_call(struct call *k)
{
        struct sim_client *c = k->c;
        struct evhttp_request *req = evhttp_request_new(on_done, k);
        if (req == NULL) {
                on_done(NULL, k);
                return;
        }
        k->attempts++;
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        char host[160], value[256];
        snprintf(host, sizeof(host), "%s:%d", c->host, c->port);
        evhttp_add_header(h, "Host", host);
        evhttp_add_header(h, "Accept", "application/json");
        size_t len = k->body ? strlen(k->body) : 0;
        if (k->auth.secret != NULL) {
                sim_hmac_signature(k->auth.secret, (long long)time(NULL), k->body ? k->body : "",
                                   len, value, sizeof(value));
                evhttp_add_header(h, "X-Takt-Signature", value);
        } else if (k->auth.token != NULL) {
                snprintf(value, sizeof(value), "Bearer %s", k->auth.token);
                evhttp_add_header(h, "Authorization", value);
        }
        if (k->body != NULL) {
                evhttp_add_header(h, "Content-Type", "application/json");
                evbuffer_add(evhttp_request_get_output_buffer(req), k->body, len);
        }
        struct evhttp_connection *conn = c->conn[c->turn];
        c->turn = (c->turn + 1) % NCONN;
        if (evhttp_make_request(conn, req, k->body ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, k->path) !=
            0)
                on_done(NULL, k); /* evhttp freed req */
}

void sim_client_call(struct sim_client *c, const char *path, const char *body,
                     const struct sim_auth *auth, bool retry, sim_http_cb cb, void *arg)
{
        struct call *k = calloc(1, sizeof(*k));
        if (k == NULL || (k->path = strdup(path)) == NULL ||
            (body != NULL && (k->body = strdup(body)) == NULL)) {
                if (k)
                        free(k->path);
                free(k);
                if (cb)
                        cb(arg, 0, "", 0);
                return;
        }
        k->c = c;
        k->auth = auth ? *auth : (struct sim_auth){0};
        k->retry = retry;
        k->cb = cb;
        k->arg = arg;
        k->next = c->calls;
        if (c->calls)
                c->calls->prev = k;
        c->calls = k;
        send_call(k);
}

void sim_client_shutdown(struct sim_client *c)
{
        c->shutting_down = true;
        for (struct call *k = c->calls; k != NULL; k = k->next) {
                if (k->timer && evtimer_pending(k->timer, NULL))
                        event_active(k->timer, EV_TIMEOUT, 0);
        }
}
