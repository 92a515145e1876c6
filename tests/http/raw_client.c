/* raw_client.c — the test HTTP client (see raw_client.h): a bufferevent
 * (optionally OpenSSL) that writes raw request bytes and gathers the
 * response until EOF. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "raw_client.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void finish(struct exchange *x)
{
        evbuffer_add_buffer(x->in, bufferevent_get_input(x->bev));
        bufferevent_free(x->bev);
        x->bev = NULL;
        x->done = true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
        struct exchange *x = arg;
        evbuffer_add_buffer(x->in, bufferevent_get_input(bev));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
        if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
                finish(arg);
}

void loop_for_ms(struct event_base *base, int ms)
{
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
}

static struct bufferevent *tls_bufferevent(struct event_base *base, SSL_CTX *tls)
{
        SSL *ssl = SSL_new(tls);
        assert_non_null(ssl);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
        struct bufferevent *bev = bufferevent_openssl_socket_new(
            base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
        assert_non_null(bev);
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        return bev;
}

void exchange_start(struct exchange *x, struct event_base *base, uint16_t port, SSL_CTX *tls,
                    const char *raw, size_t len)
{
        memset(x, 0, sizeof(*x));
        x->in = evbuffer_new();
        x->bev = tls ? tls_bufferevent(base, tls)
                     : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        assert_non_null(x->bev);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bufferevent_setcb(x->bev, on_read, NULL, on_event, x);
        bufferevent_enable(x->bev, EV_READ | EV_WRITE);
        assert_int_equal(bufferevent_socket_connect(x->bev, (struct sockaddr *)&sin, sizeof(sin)),
                         0);
        bufferevent_write(x->bev, raw, len);
}

void exchange_close(struct exchange *x)
{
        if (x->bev)
                bufferevent_free(x->bev);
        x->bev = NULL;
        x->done = true;
}

void exchange_wait(struct exchange *x, struct event_base *base)
{
        for (int i = 0; i < 500 && !x->done; i++)
                loop_for_ms(base, 10);
        assert_true(x->done);
}

struct response exchange_response(struct exchange *x)
{
        struct response r = {0};
        size_t n = evbuffer_get_length(x->in);
        char *all = malloc(n + 1);
        assert_non_null(all);
        evbuffer_remove(x->in, all, n);
        all[n] = '\0';
        evbuffer_free(x->in);
        x->in = NULL;
        char *sep = strstr(all, "\r\n\r\n");
        if (sep) {
                r.head = strndup(all, (size_t)(sep - all) + 2);
                r.body = strdup(sep + 4);
                if (sscanf(all, "HTTP/1.%*d %d", &r.status) != 1)
                        r.status = 0;
        }
        free(all);
        return r;
}

struct response raw_request(struct event_base *base, uint16_t port, SSL_CTX *tls,
                            const char *method, const char *target, const char *extra_headers,
                            const char *body)
{
        char raw[4096];
        int n = snprintf(raw, sizeof(raw),
                         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                         "%sContent-Length: %zu\r\n\r\n%s",
                         method, target, extra_headers ? extra_headers : "",
                         body ? strlen(body) : 0, body ? body : "");
        assert_true(n > 0 && (size_t)n < sizeof(raw));
        struct exchange x;
        exchange_start(&x, base, port, tls, raw, (size_t)n);
        exchange_wait(&x, base);
        return exchange_response(&x);
}

const char *header_value(const struct response *r, const char *name, char *buf, size_t len)
{
        buf[0] = '\0';
        char key[128];
        snprintf(key, sizeof(key), "\r\n%s: ", name);
        const char *p = r->head ? strcasestr(r->head, key) : NULL;
        if (p) {
                p += strlen(key);
                size_t n = strcspn(p, "\r");
                snprintf(buf, len, "%.*s", (int)n, p);
        }
        return buf;
}

void response_free(struct response *r)
{
        free(r->head);
        free(r->body);
}
