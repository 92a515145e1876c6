/* receiver.c — the in-process HTTP destination of the delivery tests. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "receiver.h"

struct delayed {
        struct receiver *r;
        struct evhttp_request *req;
        struct event *ev;
        struct answer a;
};

struct receiver {
        struct event_base *base;
        struct evhttp *http;
        int port;
        receiver_plan plan;
        void *arg;
        struct rreq *reqs;
        size_t n, cap;
        int concurrent, max_concurrent;
        struct delayed **delayed;
        size_t n_delayed;
        SSL_CTX *ssl; /* TLS receivers only */
};

int64_t test_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *hdr(struct evhttp_request *req, const char *name)
{
        const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
        return v ? strdup(v) : NULL;
}

static void reply(struct receiver *r, struct evhttp_request *req, const struct answer *a)
{
        if (a->retry_after)
                evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                                  a->retry_after);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "{\"status\":%d}", a->status);
        evhttp_send_reply(req, a->status, "answer", b);
        evbuffer_free(b);
        r->concurrent--;
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
        struct delayed *d = arg;
        reply(d->r, d->req, &d->a);
        d->req = NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
        struct receiver *r = arg;
        if (r->n == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 64;
                r->reqs = realloc(r->reqs, r->cap * sizeof(*r->reqs));
        }
        struct rreq *q = &r->reqs[r->n];
        memset(q, 0, sizeof(*q));
        char *idem = hdr(req, "Idempotency-Key");
        q->idem = idem ? strtoll(idem, NULL, 10) : -1;
        free(idem);
        q->work_order = hdr(req, "X-Takt-Work-Order");
        q->type = hdr(req, "X-Takt-Type");
        q->traceparent = hdr(req, "traceparent");
        q->authorization = hdr(req, "Authorization");
        q->content_type = hdr(req, "Content-Type");
        q->signature = hdr(req, "X-Takt-Signature");
        q->host = hdr(req, "Host");
        q->conn = evhttp_request_get_connection(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        q->body = malloc(len + 1);
        evbuffer_copyout(in, q->body, len);
        q->body[len] = '\0';
        q->at_ms = test_mono_ms();
        size_t n = r->n++;
        r->concurrent++;
        if (r->concurrent > r->max_concurrent)
                r->max_concurrent = r->concurrent;
        struct answer a = r->plan(r->arg, q, n);
        if (a.status == 0)
                return; /* hang: the client's timeout ends it */
        if (a.delay_ms <= 0) {
                reply(r, req, &a);
                return;
        }
        struct delayed *d = calloc(1, sizeof(*d));
        d->r = r;
        d->req = req;
        d->a = a;
        d->ev = evtimer_new(r->base, on_delay, d);
        struct timeval tv = {a.delay_ms / 1000, (a.delay_ms % 1000) * 1000};
        evtimer_add(d->ev, &tv);
        r->delayed = realloc(r->delayed, (r->n_delayed + 1) * sizeof(*r->delayed));
        r->delayed[r->n_delayed++] = d;
}

struct receiver *receiver_new(struct event_base *base, receiver_plan plan, void *arg)
{
        struct receiver *r = calloc(1, sizeof(*r));
        r->base = base;
        r->plan = plan;
        r->arg = arg;
        r->http = evhttp_new(base);
        evhttp_set_gencb(r->http, on_request, r);
        evhttp_set_allowed_methods(r->http, EVHTTP_REQ_POST);
        struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(r->http, "127.0.0.1", 0);
        if (s == NULL) {
                evhttp_free(r->http);
                free(r);
                return NULL;
        }
        struct sockaddr_in sin;
        socklen_t sl = sizeof(sin);
        getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &sl);
        r->port = ntohs(sin.sin_port);
        return r;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
        struct receiver *r = arg;
        return bufferevent_openssl_socket_new(base, -1, SSL_new(r->ssl), BUFFEREVENT_SSL_ACCEPTING,
                                              BEV_OPT_CLOSE_ON_FREE);
}

struct receiver *receiver_new_tls(struct event_base *base, receiver_plan plan, void *arg,
                                  const char *cert_file, const char *key_file)
{
        struct receiver *r = receiver_new(base, plan, arg);
        if (r == NULL)
                return NULL;
        r->ssl = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(r->ssl, cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(r->ssl, key_file, SSL_FILETYPE_PEM) != 1) {
                receiver_free(r);
                return NULL;
        }
        evhttp_set_bevcb(r->http, tls_bev, r);
        return r;
}

int receiver_port(const struct receiver *r)
{
        return r->port;
}

size_t receiver_count(const struct receiver *r)
{
        return r->n;
}

const struct rreq *receiver_get(const struct receiver *r, size_t i)
{
        return i < r->n ? &r->reqs[i] : NULL;
}

int receiver_max_concurrent(const struct receiver *r)
{
        return r->max_concurrent;
}

void receiver_free(struct receiver *r)
{
        if (r == NULL)
                return;
        for (size_t i = 0; i < r->n_delayed; i++) {
                event_free(r->delayed[i]->ev);
                free(r->delayed[i]);
        }
        free(r->delayed);
        evhttp_free(r->http);
        if (r->ssl)
                SSL_CTX_free(r->ssl);
        for (size_t i = 0; i < r->n; i++) {
                free(r->reqs[i].work_order);
                free(r->reqs[i].type);
                free(r->reqs[i].traceparent);
                free(r->reqs[i].authorization);
                free(r->reqs[i].content_type);
                free(r->reqs[i].signature);
                free(r->reqs[i].host);
                free(r->reqs[i].body);
        }
        free(r->reqs);
        free(r);
}
