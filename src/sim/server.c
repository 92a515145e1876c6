/* server.c — the MES and ERP destinations that taktd delivers to, on
 * --listen: POST /<destination>/... where <destination> is a plant's MES
 * destination or the ERP's. Before a delivery reaches the MES or ERP code,
 * --fault-rate of them get a fault: 503, a late answer (held past taktd's
 * timeout), or a 400 rejection (each message at most once, so its replay
 * goes through; only when the admin token allows replays). Duplicates (an
 * Idempotency-Key already answered 2xx) are answered 200 and not processed
 * again. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "runtime.h"

struct sim_held {
        struct sim *sim;
        struct evhttp_request *req; /* answered when the timer fires */
        struct event *timer;        /* owned */
        struct sim_held *next;
};

static void reply(struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(struct evhttp_request *req, int status, const char *fmt, ...)
{
        struct evbuffer *b = evbuffer_new();
        va_list ap;
        va_start(ap, fmt);
        if (b)
                evbuffer_add_vprintf(b, fmt, ap);
        va_end(ap);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evhttp_send_reply(req, status, status < 300 ? "OK" : "Simulated", b);
        if (b)
                evbuffer_free(b);
}

static void held_remove(struct sim *s, struct sim_held *h)
{
        for (struct sim_held **pp = &s->held; *pp; pp = &(*pp)->next) {
                if (*pp == h) {
                        *pp = h->next;
                        break;
                }
        }
        event_free(h->timer);
        free(h);
}

static void on_held(evutil_socket_t fd, short what, void *arg)
{
        struct sim_held *h = arg;
        reply(h->req, 504, "{\"error\":\"simulated timeout\"}");
        held_remove(h->sim, h);
}

static void hold(struct sim *s, struct evhttp_request *req)
{
        struct sim_held *h = calloc(1, sizeof(*h));
        struct timeval tv = {.tv_sec = s->opts.timeout_hold_ms / 1000,
                             .tv_usec = (s->opts.timeout_hold_ms % 1000) * 1000};
        if (h == NULL || (h->timer = evtimer_new(s->base, on_held, h)) == NULL) {
                free(h);
                reply(req, 503, "{\"error\":\"simulated fault\"}");
                return;
        }
        h->sim = s;
        h->req = req;
        h->next = s->held;
        s->held = h;
        evtimer_add(h->timer, &tv);
}

/* Which fault (if any) this delivery gets: 0 none, else 503/504/400. */
static int pick_fault(struct sim *s, const char *dedup_key)
{
        if (s->phase == SIM_REPORTING || sim_rng_unit(&s->rng) >= s->opts.fault_rate)
                return 0;
        int kinds = s->may_reject && json_object_get(s->faulted, dedup_key) == NULL ? 3 : 2;
        switch (sim_rng_range(&s->rng, 0, kinds - 1)) {
        case 0:
                return 503;
        case 1:
                return 504;
        default:
                return 400;
        }
}

/* "/name/..." -> destination index: plant i, or -2 for the ERP, -1 none. */
static int route(const struct sim *s, const char *path, char *name, size_t len)
{
        const char *p = path[0] == '/' ? path + 1 : path;
        size_t n = strcspn(p, "/?");
        if (n == 0 || n >= len)
                return -1;
        memcpy(name, p, n);
        name[n] = '\0';
        if (strcmp(name, s->opts.erp_destination) == 0)
                return -2;
        for (int i = 0; i < s->opts.nplants; i++) {
                if (strcmp(name, s->opts.plants[i].mes_destination) == 0)
                        return i;
        }
        return -1;
}

static void on_request(struct evhttp_request *req, void *arg)
{
        struct sim *s = arg;
        char name[SIM_NAME], key[SIM_NAME + 160];
        int dest = route(s, evhttp_request_get_uri(req), name, sizeof(name));
        if (dest == -1) {
                reply(req, 404, "{\"error\":\"no such destination\"}");
                return;
        }
        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
                reply(req, 405, "{\"error\":\"POST only\"}");
                return;
        }
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        const char *idem = evhttp_find_header(h, "Idempotency-Key");
        const char *type = evhttp_find_header(h, "X-Takt-Type");
        if (idem == NULL || type == NULL) {
                reply(req, 400, "{\"error\":\"Idempotency-Key and X-Takt-Type required\"}");
                return;
        }
        snprintf(key, sizeof(key), "%s/%s", name, idem);
        s->stats.deliveries++;
        if (json_object_get(s->seen_keys, key) != NULL) {
                s->stats.duplicates++;
                reply(req, 200, "{\"status\":\"duplicate\"}");
                return;
        }
        switch (pick_fault(s, key)) {
        case 503:
                s->stats.fault_5xx++;
                reply(req, 503, "{\"error\":\"simulated outage\"}");
                return;
        case 504:
                s->stats.fault_timeout++;
                hold(s, req);
                return;
        case 400:
                s->stats.fault_400++;
                json_object_set_new(s->faulted, key, json_true());
                reply(req, 400, "{\"error\":\"simulated rejection of %s\"}", type);
                return;
        default:
                break;
        }
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        json_error_t jerr;
        json_t *body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
        if (body == NULL) {
                reply(req, 400, "{\"error\":\"malformed JSON\"}");
                return;
        }
        int status = dest == -2 ? sim_erp_on_posting(s, type, idem, body)
                                : sim_mes_on_delivery(s, dest, type, body);
        json_decref(body);
        if (status >= 200 && status < 300)
                json_object_set_new(s->seen_keys, key, json_true());
        reply(req, status, "{\"status\":\"%s\"}", status < 300 ? "accepted" : "refused");
}

bool sim_server_start(struct sim *s, char *err, size_t errlen)
{
        s->http = evhttp_new(s->base);
        if (s->http == NULL) {
                snprintf(err, errlen, "cannot create the HTTP server");
                return false;
        }
        evhttp_set_timeout(s->http, (int)(s->opts.timeout_hold_ms / 1000) + 30);
        evhttp_set_gencb(s->http, on_request, s);
        if (evhttp_bind_socket(s->http, s->opts.listen_addr, (unsigned short)s->opts.listen_port) !=
            0) {
                snprintf(err, errlen, "cannot listen on %s:%d (in use?)", s->opts.listen_addr,
                         s->opts.listen_port);
                return false;
        }
        return true;
}

void sim_server_stop(struct sim *s)
{
        while (s->held) {
                reply(s->held->req, 503, "{\"error\":\"simulator stopping\"}");
                held_remove(s, s->held);
        }
        if (s->http)
                evhttp_free(s->http);
        s->http = NULL;
}
