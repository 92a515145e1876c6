/* raw_client.h — a test HTTP client on the test's own event loop: sends the
 * exact bytes given (plain or over TLS) and collects the whole response
 * until the server closes the connection. */
#ifndef TAKT_TEST_RAW_CLIENT_H
#define TAKT_TEST_RAW_CLIENT_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct exchange {
        struct bufferevent *bev; /* owned until done */
        struct evbuffer *in;     /* owned: the response bytes */
        bool done;               /* the connection is closed */
};

struct response {
        int status; /* 0 when no HTTP response came back */
        char *head; /* owned: status line and headers, each ending in CRLF */
        char *body; /* owned */
};

/* Run the loop for ms milliseconds. */
void loop_for_ms(struct event_base *base, int ms);

/* Connect to 127.0.0.1:port (over TLS when tls is set: a client context;
 * the server name checked is the IP 127.0.0.1) and send raw. */
void exchange_start(struct exchange *x, struct event_base *base, uint16_t port, SSL_CTX *tls,
                    const char *raw, size_t len);
/* Hang up now (the client side of a disconnect). */
void exchange_close(struct exchange *x);
/* Run the loop until the connection closed (asserts: at most 5 s). */
void exchange_wait(struct exchange *x, struct event_base *base);
/* The response collected by a finished exchange (frees x's buffer). */
struct response exchange_response(struct exchange *x);

/* One request with "Connection: close" and a Content-Length, read to the
 * end. extra_headers: "Name: value\r\n" lines or NULL; body may be NULL. */
struct response raw_request(struct event_base *base, uint16_t port, SSL_CTX *tls,
                            const char *method, const char *target, const char *extra_headers,
                            const char *body);

/* The value of the first response header `name` (case-insensitive), or "". */
const char *header_value(const struct response *r, const char *name, char *buf, size_t len);
void response_free(struct response *r);

#endif
