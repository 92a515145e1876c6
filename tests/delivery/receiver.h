/* receiver.h — an in-process HTTP destination for delivery tests: evhttp on
 * 127.0.0.1 at a free port; a plan callback decides each answer (status,
 * Retry-After, a delay, or hanging); every request is recorded. */
#ifndef TAKT_TEST_RECEIVER_H
#define TAKT_TEST_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

struct rreq {
        int64_t idem;        /* Idempotency-Key */
        char *work_order;    /* X-Takt-Work-Order (owned) */
        char *type;          /* X-Takt-Type (owned) */
        char *traceparent;   /* owned */
        char *authorization; /* owned, may be NULL */
        char *content_type;  /* owned */
        char *signature;     /* X-Takt-Signature (owned), may be NULL */
        char *host;          /* Host (owned) */
        const void *conn;    /* the server-side connection (identity only) */
        char *body;          /* owned */
        int64_t at_ms;       /* monotonic arrival time */
};

struct answer {
        int status;              /* 0: never answer (hang) */
        const char *retry_after; /* NULL: no header */
        int delay_ms;            /* answer after this long */
};

struct receiver;
/* n: index of this request (0-based) among all the receiver has seen. */
typedef struct answer (*receiver_plan)(void *arg, const struct rreq *req, size_t n);

struct receiver *receiver_new(struct event_base *base, receiver_plan plan, void *arg);
/* The same over TLS with this certificate chain and key (PEM files). */
struct receiver *receiver_new_tls(struct event_base *base, receiver_plan plan, void *arg,
                                  const char *cert_file, const char *key_file);
int receiver_port(const struct receiver *r);
size_t receiver_count(const struct receiver *r);
const struct rreq *receiver_get(const struct receiver *r, size_t i);
int receiver_max_concurrent(const struct receiver *r);
void receiver_free(struct receiver *r);

int64_t test_mono_ms(void);

#endif
