/* bare_server.c — the HTTP ceiling of the ingest benchmark (takt-bare-server).
 *
 * One libevent loop with evhttp, like taktd's, that does only the work every
 * ingest must do before any business logic: read the body, parse it with
 * jansson, answer. POST with a JSON body -> 202 {"status":"accepted"}; bad
 * JSON -> 400; other methods -> 405. No auth, no validation, no database.
 * It also serves as the delivery sink (a destination that always accepts)
 * when bench/ingest/run.sh measures taktd. SIGINT/SIGTERM stop it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

static void answer(struct evhttp_request *req, int code, const char *reason, const char *body)
{
        struct evbuffer *out = evbuffer_new();
        if (!out) {
                evhttp_send_error(req, 500, NULL);
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evbuffer_add(out, body, strlen(body));
        evhttp_send_reply(req, code, reason, out);
        evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
                answer(req, 405, "Method Not Allowed", "{\"status\":\"method not allowed\"}");
                return;
        }
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        const char *body = (const char *)evbuffer_pullup(in, -1);
        json_error_t err;
        json_t *doc = body ? json_loadb(body, len, 0, &err) : NULL;
        if (!doc) {
                answer(req, 400, "Bad Request", "{\"status\":\"malformed\"}");
                return;
        }
        json_decref(doc);
        answer(req, 202, "Accepted", "{\"status\":\"accepted\"}");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
        if (argc != 2 && argc != 3) {
                fprintf(stderr, "usage: %s PORT [ADDRESS]   (address default 127.0.0.1)\n",
                        argv[0]);
                return 2;
        }
        int port = atoi(argv[1]);
        const char *address = argc == 3 ? argv[2] : "127.0.0.1";
        signal(SIGPIPE, SIG_IGN);

        int rc = 1;
        struct event_base *base = event_base_new();
        struct evhttp *http = base ? evhttp_new(base) : NULL;
        struct event *sigint = base ? evsignal_new(base, SIGINT, on_signal, base) : NULL;
        struct event *sigterm = base ? evsignal_new(base, SIGTERM, on_signal, base) : NULL;
        if (!http || !sigint || !sigterm)
                goto out;
        evhttp_set_max_body_size(http, 1 << 20);
        evhttp_set_gencb(http, on_request, NULL);
        if (evhttp_bind_socket(http, address, (ev_uint16_t)port) != 0) {
                fprintf(stderr, "bare_server: cannot listen on %s:%d\n", address, port);
                goto out;
        }
        event_add(sigint, NULL);
        event_add(sigterm, NULL);
        fprintf(stderr, "bare_server: listening on %s:%d\n", address, port);
        event_base_dispatch(base);
        rc = 0;
out:
        if (sigint)
                event_free(sigint);
        if (sigterm)
                event_free(sigterm);
        if (http)
                evhttp_free(http);
        if (base)
                event_base_free(base);
        return rc;
}
