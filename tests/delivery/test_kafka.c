/* test_kafka.c — the Kafka deliverer against an rdkafka mock cluster made
 * here (broker down and back, nothing lost; records read back with a
 * consumer) and the embedded cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "fixture.h"
/* ---- Kafka: broker down and back, nothing lost ---- */

struct kmsg {
        char key[64];
        int64_t id;
        char type[64];
        char tp[64];
};

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
        const void *v;
        size_t n;
        buf[0] = '\0';
        if (h && rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR)
                snprintf(buf, len, "%.*s", (int)n, (const char *)v);
        return buf;
}

/* Read up to want records from topic (blocking: outside the loop). */
static size_t consume(const char *bootstrap, const char *topic, struct kmsg *out, size_t want)
{
        char err[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
        rd_kafka_conf_set(conf, "group.id", "delivery-test", err, sizeof(err));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
        rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        assert_non_null(c);
        rd_kafka_poll_set_consumer(c);
        rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(c, t);
        rd_kafka_topic_partition_list_destroy(t);
        size_t n = 0;
        int64_t end = test_mono_ms() + 20000;
        while (n < want && test_mono_ms() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
                if (m == NULL)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        rd_kafka_headers_t *h = NULL;
                        rd_kafka_message_headers(m, &h);
                        char id[32], sv[8];
                        snprintf(out[n].key, sizeof(out[n].key), "%.*s", (int)m->key_len,
                                 (const char *)m->key);
                        out[n].id = atoll(header(h, "takt-message-id", id, sizeof(id)));
                        header(h, "takt-type", out[n].type, sizeof(out[n].type));
                        header(h, "traceparent", out[n].tp, sizeof(out[n].tp));
                        assert_string_equal(header(h, "takt-schema-version", sv, sizeof(sv)), "1");
                        json_t *v = json_loadb(m->payload, m->len, 0, NULL);
                        assert_non_null(v); /* the canonical envelope */
                        assert_string_equal(json_string_value(json_object_get(v, "plant")), "DE01");
                        json_decref(v);
                        n++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return n;
}

static void test_kafka_broker_down_and_back(void **state)
{
        struct fx *f = *state;
        char err[256];
        rd_kafka_conf_t *mconf = rd_kafka_conf_new();
        rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
        assert_non_null(mrk);
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
        assert_non_null(mc);
        rd_kafka_mock_topic_create(mc, "takt.events", 2, 1);
        char *bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(mc));

        f->dest[0] = (struct takt_destination){.name = strdup("events"),
                                               .type = TAKT_DEST_KAFKA,
                                               .topic = strdup("events"),
                                               .max_in_flight = 16,
                                               .retry = {10, 100, 0},
                                               .breaker = {100, 1000}};
        f->cfg.kafka.brokers = bootstrap;
        start(f, 1);
        assert_null(delivery_kafka_bootstrap(f->d)); /* real brokers: no embedded cluster */
        for (int seq = 0; seq < 5; seq++) {
                submit_one(f, "events", "WO-K1", seq, NULL);
                submit_one(f, "events", "WO-K2", seq, NULL);
        }
        struct count_arg first = {"delivered", 10};
        assert_true(run_until(f, n_in_state, &first, 15000));

        rd_kafka_mock_broker_set_down(mc, 1);
        for (int seq = 5; seq < 10; seq++) {
                submit_one(f, "events", "WO-K1", seq, NULL);
                submit_one(f, "events", "WO-K2", seq, NULL);
        }
        run_for(f, 1500);
        assert_int_equal(count_state(f, "delivered"), 10); /* nothing marked while down */
        assert_int_equal(count_state(f, "failed"), 0);
        rd_kafka_mock_broker_set_up(mc, 1);
        struct count_arg all = {"delivered", 20};
        assert_true(run_until(f, n_in_state, &all, 30000));
        stop(f);

        struct kmsg got[40];
        size_t n = consume(bootstrap, "takt.events", got, 20);
        assert_true(n >= 20); /* at-least-once: nothing lost */
        for (const char *key = "DE01/WO-K1"; key;
             key = strcmp(key, "DE01/WO-K1") == 0 ? "DE01/WO-K2" : NULL) {
                int64_t last = 0;
                size_t seen = 0;
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(got[i].key, key) != 0)
                                continue;
                        assert_true(got[i].id > last); /* per-key order, no duplicate */
                        last = got[i].id;
                        seen++;
                        assert_string_equal(got[i].type, "work_order.released");
                        assert_int_equal(strlen(got[i].tp), 55);
                }
                assert_int_equal(seen, 10);
        }
        free(bootstrap);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
}

/* ---- embedded brokers start the mock cluster ---- */

static void test_kafka_embedded(void **state)
{
        struct fx *f = *state;
        f->dest[0] = (struct takt_destination){.name = strdup("events"),
                                               .type = TAKT_DEST_KAFKA,
                                               .topic = strdup("demo"),
                                               .retry = {10, 100, 0},
                                               .breaker = {100, 1000}};
        f->cfg.kafka.brokers = "embedded";
        start(f, 1);
        const char *bootstrap = delivery_kafka_bootstrap(f->d);
        assert_non_null(bootstrap);
        submit_one(f, "events", "WO-E", 1, NULL);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 15000));
        stop(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_kafka_broker_down_and_back, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kafka_embedded, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
