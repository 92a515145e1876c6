/* receiver.c — the delivery benchmark's HTTP receiver (takt-dbench-receiver).
 *
 *   takt-dbench-receiver PORT PREFIX OUTFILE
 *
 * An evhttp server on 127.0.0.1:PORT. Every POST is a delivery: the body's
 * canonical envelope "id" (lg-PREFIX-<seq>) and the CLOCK_MONOTONIC arrival
 * time are recorded (arrivals.c) and the answer is 200. GET /count answers
 * the number of this run's messages received so far (run.sh polls it). On
 * SIGTERM or SIGINT it writes "<seq> <arrival>" lines to OUTFILE and exits.
 * Everything lives in one struct on main()'s stack; no globals. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "arrivals.h"

struct receiver {
        struct event_base *base;
        struct arrivals arrivals;
        bool oom;
};

static void on_request(struct evhttp_request *req, void *arg)
{
        struct receiver *r = arg;
        double at = arrivals_now();
        struct evbuffer *out = evbuffer_new();
        if (!out) {
                evhttp_send_error(req, 500, NULL);
                return;
        }
        if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
                evbuffer_add_printf(out, "%zu\n", r->arrivals.n);
                evhttp_send_reply(req, 200, "OK", out);
        } else {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                size_t len = evbuffer_get_length(in);
                const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
                if (!arrivals_add_envelope(&r->arrivals, body ? body : "", body ? len : 0, at)) {
                        r->oom = true;
                        event_base_loopbreak(r->base);
                }
                evhttp_send_reply(req, 200, "OK", out);
        }
        evbuffer_free(out);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        struct receiver *r = arg;
        event_base_loopexit(r->base, NULL);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s PORT PREFIX OUTFILE\n", argv[0]);
                return 2;
        }
        struct receiver r = {.arrivals = {.prefix = argv[2]}};
        signal(SIGPIPE, SIG_IGN);
        r.base = event_base_new();
        struct evhttp *http = r.base ? evhttp_new(r.base) : NULL;
        struct event *term = r.base ? evsignal_new(r.base, SIGTERM, on_signal, &r) : NULL;
        struct event *intr = r.base ? evsignal_new(r.base, SIGINT, on_signal, &r) : NULL;
        int rc = 1;
        if (!http || !term || !intr || event_add(term, NULL) || event_add(intr, NULL) ||
            evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
                fprintf(stderr, "receiver: cannot listen on 127.0.0.1:%s\n", argv[1]);
                goto out;
        }
        evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
        evhttp_set_gencb(http, on_request, &r);
        event_base_dispatch(r.base);
        if (r.oom)
                fprintf(stderr, "receiver: out of memory\n");
        else if (!arrivals_write(&r.arrivals, argv[3]))
                fprintf(stderr, "receiver: cannot write %s\n", argv[3]);
        else
                rc = 0;
        fprintf(stderr, "receiver: %zu messages of run %s, %llu others\n", r.arrivals.n, argv[2],
                (unsigned long long)r.arrivals.foreign);
out:
        if (term)
                event_free(term);
        if (intr)
                event_free(intr);
        if (http)
                evhttp_free(http);
        if (r.base)
                event_base_free(r.base);
        arrivals_free(&r.arrivals);
        return rc;
}
