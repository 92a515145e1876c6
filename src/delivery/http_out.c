/* http_out.c — the HTTP deliverer of one destination: a pool of up to
 * max_in_flight keep-alive evhttp connections (https through an OpenSSL
 * bufferevent with certificate and host-name verification), one request per
 * connection at a time. A connection that closed or failed is replaced by a
 * fresh one on its next use (never freed inside its own callback). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "outputs.h"
#include "takt/auth.h"
#include "takt/decimal.h"

#define BODY_EXCERPT 256

struct http_slot {
        struct http_target *t;          /* back pointer */
        struct evhttp_connection *conn; /* owned; NULL until first use */
        bool busy, dead, errored;
        enum evhttp_request_error error;
        int64_t id; /* outbox id in flight */
};

struct http_target {
        struct event_base *base;
        struct evdns_base *dns;
        char *url, *host, *path, *ca_file; /* owned */
        char *host_header;                 /* owned: Host, as every request sends it */
        char *token, *hmac;                /* owned copies of secrets, may be NULL */
        char *authorization;               /* owned: "Bearer <token>", or NULL */
        size_t hmac_len;
        int port;
        bool https;
        uint64_t timeout_ms;
        SSL_CTX *ssl; /* owned, https only */
        attempt_done_fn done;
        void *arg;
        size_t n_slots;
        struct http_slot *slots; /* owned */
};

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

/* The Host header: the host (IPv6 literals in brackets), and the port
 * unless it is the scheme's default. Caller frees. */
static char *host_header(const char *host, int port, bool https)
{
        char buf[320];
        const char *v6 = strchr(host, ':') && host[0] != '[' ? "[" : "";
        if (port == (https ? 443 : 80))
                snprintf(buf, sizeof(buf), "%s%.250s%s", v6, host, *v6 ? "]" : "");
        else
                snprintf(buf, sizeof(buf), "%s%.250s%s:%d", v6, host, *v6 ? "]" : "", port);
        return strdup(buf);
}

static SSL_CTX *ssl_ctx_new(const char *ca_file, char *err, size_t errlen)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == NULL) {
                snprintf(err, errlen, "SSL_CTX_new failed");
                return NULL;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
        if (!ok) {
                snprintf(err, errlen, "cannot load CA file %s", ca_file ? ca_file : "(default)");
                SSL_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

struct http_target *http_target_new(struct event_base *base, struct evdns_base *dns,
                                    const struct takt_destination *dest, attempt_done_fn done,
                                    void *arg, char *err, size_t errlen)
{
        struct evhttp_uri *uri = dest->url ? evhttp_uri_parse(dest->url) : NULL;
        const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
        const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
        if (uri == NULL || scheme == NULL || host == NULL ||
            (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
                snprintf(err, errlen, "destination %s: bad url", dest->name);
                if (uri)
                        evhttp_uri_free(uri);
                return NULL;
        }
        struct http_target *t = calloc(1, sizeof(*t));
        if (t == NULL) {
                evhttp_uri_free(uri);
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        t->base = base;
        t->dns = dns;
        t->done = done;
        t->arg = arg;
        t->https = strcmp(scheme, "https") == 0;
        t->port = evhttp_uri_get_port(uri);
        if (t->port < 0)
                t->port = t->https ? 443 : 80;
        const char *path = evhttp_uri_get_path(uri);
        const char *query = evhttp_uri_get_query(uri);
        size_t plen = (path && *path ? strlen(path) : 1) + (query ? strlen(query) + 1 : 0) + 1;
        t->path = malloc(plen);
        if (t->path)
                snprintf(t->path, plen, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
                         query ? query : "");
        t->host = strdup(host);
        t->url = strdup(dest->url);
        t->ca_file = dup_or_null(dest->ca_file);
        t->token = dup_or_null(dest->auth.token.value);
        t->host_header = host_header(t->host, t->port, t->https);
        if (t->token) {
                size_t n = strlen(t->token) + sizeof("Bearer ");
                if ((t->authorization = malloc(n)) != NULL)
                        snprintf(t->authorization, n, "Bearer %s", t->token);
        }
        if (dest->auth.hmac_secret.value) {
                t->hmac = malloc(dest->auth.hmac_secret.len + 1);
                if (t->hmac) {
                        memcpy(t->hmac, dest->auth.hmac_secret.value, dest->auth.hmac_secret.len);
                        t->hmac[dest->auth.hmac_secret.len] = '\0';
                        t->hmac_len = dest->auth.hmac_secret.len;
                }
        }
        t->timeout_ms = takt_dest_timeout_ms(dest);
        t->n_slots = takt_dest_max_in_flight(dest);
        t->slots = calloc(t->n_slots, sizeof(*t->slots));
        evhttp_uri_free(uri);
        if (t->path == NULL || t->host == NULL || t->url == NULL || t->slots == NULL ||
            t->host_header == NULL || (t->token && t->authorization == NULL)) {
                snprintf(err, errlen, "out of memory");
                http_target_free(t);
                return NULL;
        }
        for (size_t i = 0; i < t->n_slots; i++)
                t->slots[i].t = t;
        if (t->https && (t->ssl = ssl_ctx_new(t->ca_file, err, errlen)) == NULL) {
                http_target_free(t);
                return NULL;
        }
        return t;
}

static bool str_eq(const char *a, const char *b)
{
        return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int http_target_same(const struct http_target *t, const struct takt_destination *dest)
{
        return str_eq(t->url, dest->url) && str_eq(t->ca_file, dest->ca_file) &&
               str_eq(t->token, dest->auth.token.value) &&
               str_eq(t->hmac, dest->auth.hmac_secret.value) &&
               t->timeout_ms == takt_dest_timeout_ms(dest) &&
               t->n_slots == takt_dest_max_in_flight(dest);
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
        struct http_slot *s = arg;
        s->dead = true;
}

static const char *request_error_name(enum evhttp_request_error e)
{
        switch (e) {
        case EVREQ_HTTP_TIMEOUT:
                return "timeout";
        case EVREQ_HTTP_EOF:
                return "connection closed";
        case EVREQ_HTTP_INVALID_HEADER:
                return "invalid answer header";
        case EVREQ_HTTP_BUFFER_ERROR:
                return "connection error";
        case EVREQ_HTTP_REQUEST_CANCEL:
                return "cancelled";
        case EVREQ_HTTP_DATA_TOO_LONG:
                return "answer too long";
        }
        return "connection error";
}

static void on_error(enum evhttp_request_error e, void *arg)
{
        struct http_slot *s = arg;
        s->errored = true;
        s->error = e;
}

static void on_done(struct evhttp_request *req, void *arg)
{
        struct http_slot *s = arg;
        struct http_target *t = s->t;
        int status = req ? evhttp_request_get_response_code(req) : 0;
        char body[BODY_EXCERPT + 1] = "";
        struct attempt_report r = {.id = s->id, .status = status};
        if (status == 0) {
                s->dead = true;
                r.error = s->errored ? request_error_name(s->error) : "connection error";
        } else {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                ev_ssize_t n = evbuffer_copyout(in, body, BODY_EXCERPT);
                body[n > 0 ? n : 0] = '\0';
                r.body = body;
                const char *ra =
                    evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After");
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                uint64_t ms;
                if (retry_after_parse(ra, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &ms))
                        r.retry_after_ms = ms;
        }
        r.result = http_status_classify(status);
        if (r.result != ATTEMPT_DELIVERED && r.error == NULL)
                r.error = "http status";
        s->busy = false;
        s->errored = false;
        t->done(t->arg, &r);
}

/* The name the certificate must carry: an IP address literal is checked
 * against the IP SANs (and sends no SNI), a host name against the DNS
 * names (and is sent as SNI). */
static bool tls_expect_peer(SSL *ssl, const char *host)
{
        unsigned char addr[16];
        char bare[64];
        snprintf(bare, sizeof(bare), "%s", host);
        size_t n = strlen(bare);
        if (n > 1 && bare[0] == '[' && bare[n - 1] == ']') { /* [::1] */
                memmove(bare, bare + 1, n - 2);
                bare[n - 2] = '\0';
        }
        if (inet_pton(AF_INET, bare, addr) == 1 || inet_pton(AF_INET6, bare, addr) == 1)
                return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), bare) == 1;
        return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

static struct evhttp_connection *connect_slot(struct http_target *t, struct http_slot *s)
{
        struct bufferevent *bev = NULL;
        if (t->https) {
                SSL *ssl = SSL_new(t->ssl);
                if (ssl == NULL)
                        return NULL;
                if (!tls_expect_peer(ssl, t->host)) {
                        SSL_free(ssl);
                        return NULL;
                }
                bev =
                    bufferevent_openssl_socket_new(t->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
                if (bev == NULL) {
                        SSL_free(ssl);
                        return NULL;
                }
                bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        }
        struct evhttp_connection *c = evhttp_connection_base_bufferevent_new(
            t->base, t->dns, bev, t->host, (unsigned short)t->port);
        if (c == NULL) {
                if (bev)
                        bufferevent_free(bev);
                return NULL;
        }
        struct timeval tv = {(time_t)(t->timeout_ms / 1000),
                             (suseconds_t)((t->timeout_ms % 1000) * 1000)};
        evhttp_connection_set_timeout_tv(c, &tv);
        evhttp_connection_set_retries(c, 0);
        evhttp_connection_set_closecb(c, on_close, s);
        return c;
}

static void add_headers(struct http_target *t, struct evkeyvalq *h,
                        const struct store_outbox_row *row, const char *body, size_t len)
{
        char buf[TRACEPARENT_SIZE > DECIMAL_INT64_SIZE ? TRACEPARENT_SIZE : DECIMAL_INT64_SIZE];
        evhttp_add_header(h, "Host", t->host_header);
        evhttp_add_header(h, "Content-Type", "application/json");
        decimal_int64(buf, row->id);
        evhttp_add_header(h, "Idempotency-Key", buf);
        traceparent_format(row->correlation_id, row->id, buf, sizeof(buf));
        evhttp_add_header(h, "traceparent", buf);
        if (row->type)
                evhttp_add_header(h, "X-Takt-Type", row->type);
        if (row->work_order)
                evhttp_add_header(h, "X-Takt-Work-Order", row->work_order);
        if (t->authorization)
                evhttp_add_header(h, "Authorization", t->authorization);
        if (t->hmac) {
                struct takt_secret secret = {.value = t->hmac, .len = t->hmac_len};
                char sig[AUTH_SIGNATURE_MAX];
                if (auth_sign(&secret, (int64_t)time(NULL), body, len, sig, sizeof(sig)) == 0)
                        evhttp_add_header(h, "X-Takt-Signature", sig);
        }
}

int http_target_send(struct http_target *t, const struct store_outbox_row *row, const char *body,
                     size_t len)
{
        struct http_slot *s = NULL;
        for (size_t i = 0; i < t->n_slots && s == NULL; i++)
                if (!t->slots[i].busy)
                        s = &t->slots[i];
        if (s == NULL)
                return -1;
        if (s->conn && s->dead) {
                evhttp_connection_free(s->conn);
                s->conn = NULL;
        }
        s->dead = false;
        if (s->conn == NULL && (s->conn = connect_slot(t, s)) == NULL)
                return -1;
        struct evhttp_request *req = evhttp_request_new(on_done, s);
        if (req == NULL)
                return -1;
        evhttp_request_set_error_cb(req, on_error);
        add_headers(t, evhttp_request_get_output_headers(req), row, body, len);
        evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
        s->id = row->id;
        s->busy = true;
        s->errored = false;
        if (evhttp_make_request(s->conn, req, EVHTTP_REQ_POST, t->path) != 0) {
                s->busy = false;
                s->dead = true;
                return -1;
        }
        return 0;
}

void http_target_free(struct http_target *t)
{
        if (t == NULL)
                return;
        for (size_t i = 0; t->slots && i < t->n_slots; i++)
                if (t->slots[i].conn)
                        evhttp_connection_free(t->slots[i].conn);
        free(t->slots);
        if (t->ssl)
                SSL_CTX_free(t->ssl);
        free(t->url);
        free(t->host);
        free(t->host_header);
        free(t->path);
        free(t->ca_file);
        free(t->token);
        free(t->authorization);
        free(t->hmac);
        free(t);
}
