/* kafka_out.c — the Kafka deliverer: one idempotent librdkafka producer for
 * every Kafka destination. Delivery reports come back on the loop thread:
 * the main queue signals a pipe2(O_NONBLOCK|O_CLOEXEC) that libevent watches,
 * plus a 250 ms safety timer; both call rd_kafka_poll(rk, 0). Logs go to the
 * main queue too (log.queue=true), never to librdkafka threads. With brokers
 * "embedded" a mock cluster lives on its own rd_kafka_t in this process. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "outputs.h"
#include "takt/decimal.h"
#include "takt/log.h"

struct kafka_out {
        rd_kafka_t *rk;                /* owned producer */
        rd_kafka_queue_t *mainq;       /* owned ref, destroyed before rk */
        rd_kafka_t *mock_rk;           /* owned, embedded only */
        rd_kafka_mock_cluster_t *mock; /* owned by mock_rk, embedded only */
        char *bootstrap;               /* owned, embedded only */
        int wake[2];
        struct event *wake_ev, *tick_ev; /* owned */
        attempt_done_fn done;
        void *arg;
};

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        if (level <= 3)
                log_error("kafka.log", "facility=%s message=\"%s\"", fac, buf);
        else if (level <= 4)
                log_warn("kafka.log", "facility=%s message=\"%s\"", fac, buf);
        else
                log_debug("kafka.log", "facility=%s message=\"%s\"", fac, buf);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct kafka_out *k = opaque;
        if (k->done == NULL)
                return;
        if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                return; /* shutdown: stays pending in PostgreSQL */
        struct attempt_report r = {.id = (int64_t)(intptr_t)m->_private};
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                r.result = ATTEMPT_DELIVERED;
        } else {
                r.result = ATTEMPT_RETRY;
                r.error = rd_kafka_err2str(m->err);
        }
        k->done(k->arg, &r);
}

static void poll_now(struct kafka_out *k)
{
        rd_kafka_poll(k->rk, 0);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
        char buf[64];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        poll_now(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        poll_now(arg);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
        if (rd_kafka_conf_set(conf, k, v, err, errlen) != RD_KAFKA_CONF_OK)
                return -1;
        return 0;
}

static int start_mock(struct kafka_out *k, char *err, size_t errlen)
{
        /* the mock's host client only logs its own errors (to stderr) */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "log_level", "3", err, errlen);
        /* The host client owns its cluster (test.mock.num.brokers), so one
         * rd_kafka_destroy() tears both down. (librdkafka 2.0.2's cluster
         * destroy has a known race, tests/valgrind/librdkafka-mock.supp.) */
        set(conf, "test.mock.num.brokers", "1", err, errlen);
        k->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
        if (k->mock_rk == NULL) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        k->mock = rd_kafka_handle_mock_cluster(k->mock_rk);
        if (k->mock == NULL) {
                snprintf(err, errlen, "cannot start the embedded Kafka mock cluster");
                return -1;
        }
        k->bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(k->mock));
        log_info("kafka.embedded", "bootstrap=%s durable=false", k->bootstrap);
        return k->bootstrap ? 0 : -1;
}

struct kafka_out *kafka_out_new(struct event_base *base, const struct takt_config *cfg,
                                attempt_done_fn done, void *arg, char *err, size_t errlen)
{
        struct kafka_out *k = calloc(1, sizeof(*k));
        if (k == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        k->wake[0] = k->wake[1] = -1;
        k->done = done;
        k->arg = arg;
        const char *brokers = cfg->kafka.brokers ? cfg->kafka.brokers : "embedded";
        if (strcmp(brokers, "embedded") == 0) {
                if (start_mock(k, err, errlen) != 0)
                        goto fail;
                brokers = k->bootstrap;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (set(conf, "bootstrap.servers", brokers, err, errlen) ||
            set(conf, "enable.idempotence", "true", err, errlen) ||
            set(conf, "log.queue", "true", err, errlen) ||
            /* a plant event is worth more now than in a fuller batch: 1 ms
             * instead of librdkafka's 5 ms; kafka.properties may override */
            set(conf, "linger.ms", "1", err, errlen)) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        for (size_t i = 0; i < cfg->kafka.n_properties; i++)
                if (set(conf, cfg->kafka.properties[i].key, cfg->kafka.properties[i].value, err,
                        errlen)) {
                        rd_kafka_conf_destroy(conf);
                        goto fail;
                }
        rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
        rd_kafka_conf_set_log_cb(conf, on_log);
        rd_kafka_conf_set_opaque(conf, k);
        k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
        if (k->rk == NULL) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rd_kafka_set_log_queue(k->rk, NULL);
        if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
                snprintf(err, errlen, "pipe2 failed");
                goto fail;
        }
        k->mainq = rd_kafka_queue_get_main(k->rk);
        rd_kafka_queue_io_event_enable(k->mainq, k->wake[1], "1", 1);
        k->wake_ev = event_new(base, k->wake[0], EV_READ | EV_PERSIST, on_wake, k);
        k->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, k);
        struct timeval tick = {0, 250000};
        if (k->wake_ev == NULL || k->tick_ev == NULL || event_add(k->wake_ev, NULL) ||
            event_add(k->tick_ev, &tick)) {
                snprintf(err, errlen, "cannot watch the Kafka queue");
                goto fail;
        }
        return k;
fail:
        kafka_out_free(k);
        return NULL;
}

int kafka_out_send(struct kafka_out *k, const char *topic, const struct store_outbox_row *row,
                   const char *value, size_t len, char *err, size_t errlen)
{
        char id[DECIMAL_INT64_SIZE];
        decimal_int64(id, row->id);
        char tp[TRACEPARENT_SIZE];
        traceparent_format(row->correlation_id, row->id, tp, sizeof(tp));
        const char *type = row->type ? row->type : "";
        const char *key = row->lane ? row->lane : "";
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADER("takt-type", type, (ssize_t)strlen(type)),
            RD_KAFKA_V_HEADER("takt-schema-version", "1", 1),
            RD_KAFKA_V_HEADER("takt-message-id", id, (ssize_t)strlen(id)),
            RD_KAFKA_V_HEADER("traceparent", tp, (ssize_t)strlen(tp)),
            /* the row id rides as the message's opaque, not as memory */
            RD_KAFKA_V_OPAQUE((void *)(intptr_t)row->id), /* NOLINT(performance-no-int-to-ptr) */
            RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(err, errlen, "%s", rd_kafka_err2str(e));
                return -1;
        }
        return 0;
}

int kafka_out_pending(struct kafka_out *k)
{
        return k->rk ? rd_kafka_outq_len(k->rk) : 0;
}

void kafka_out_purge(struct kafka_out *k)
{
        if (k->rk)
                rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

const char *kafka_out_bootstrap(const struct kafka_out *k)
{
        return k->bootstrap;
}

void kafka_out_free(struct kafka_out *k)
{
        if (k == NULL)
                return;
        if (k->wake_ev)
                event_free(k->wake_ev);
        if (k->tick_ev)
                event_free(k->tick_ev);
        if (k->rk) {
                /* nothing may call back into a dispatcher being freed */
                rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                k->done = NULL;
        }
        if (k->mainq) {
                rd_kafka_queue_io_event_enable(k->mainq, -1, NULL, 0);
                rd_kafka_queue_destroy(k->mainq);
        }
        if (k->rk)
                rd_kafka_destroy(k->rk);
        if (k->mock_rk)
                rd_kafka_destroy(k->mock_rk);
        for (int i = 0; i < 2; i++)
                if (k->wake[i] >= 0)
                        close(k->wake[i]);
        free(k->bootstrap);
        free(k);
}
