/* kafka_reader.c — the delivery benchmark's Kafka reader (takt-dbench-kafka).
 *
 *   takt-dbench-kafka BOOTSTRAP TOPIC PREFIX OUTFILE
 *
 * Consumes TOPIC from the beginning (taktd's embedded mock cluster keeps only
 * about 5 MB per partition, so it reads while the run goes on) and records
 * each record's envelope "id" (lg-PREFIX-<seq>) with its CLOCK_MONOTONIC
 * arrival time (arrivals.c). Every 200 ms it rewrites OUTFILE.count with the
 * number received so far (run.sh polls it). On SIGTERM or SIGINT it writes
 * "<seq> <arrival>" lines to OUTFILE and exits. The signals are blocked and
 * polled with sigtimedwait(), so there is no global state. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "arrivals.h"

static rd_kafka_t *consumer_new(const char *bootstrap, const char *topic)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        static const char *const settings[][2] = {
            {"group.id", "takt-dbench"},      {"auto.offset.reset", "earliest"},
            {"enable.auto.commit", "false"},  {"fetch.wait.max.ms", "5"},
            {"fetch.error.backoff.ms", "10"}, {"topic.metadata.refresh.interval.ms", "500"},
        };
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) != 0)
                goto fail;
        for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
                if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof(err)) != 0)
                        goto fail;
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "kafka: %s\n", err);
                return NULL; /* rd_kafka_new() freed conf */
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e) {
                fprintf(stderr, "kafka: subscribe: %s\n", rd_kafka_err2str(e));
                rd_kafka_destroy(rk);
                return NULL;
        }
        return rk;
fail:
        fprintf(stderr, "kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
}

static void write_count(const char *path, size_t n)
{
        FILE *f = fopen(path, "w");
        if (f) {
                fprintf(f, "%zu\n", n);
                fclose(f);
        }
}

int main(int argc, char **argv)
{
        if (argc != 5) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PREFIX OUTFILE\n", argv[0]);
                return 2;
        }
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sigprocmask(SIG_BLOCK, &stop, NULL);

        char count_path[4096];
        snprintf(count_path, sizeof(count_path), "%s.count", argv[4]);
        struct arrivals arr = {.prefix = argv[3]};
        rd_kafka_t *rk = consumer_new(argv[1], argv[2]);
        if (!rk)
                return 1;
        int rc = 0;
        unsigned errors_shown = 0;
        double last_count = 0;
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&stop, NULL, &zero) < 0) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
                double at = arrivals_now();
                if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        if (!arrivals_add_envelope(&arr, m->payload, m->len, at)) {
                                fprintf(stderr, "kafka: out of memory\n");
                                rc = 1;
                        }
                } else if (m && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && errors_shown++ < 5) {
                        fprintf(stderr, "kafka: %s\n", rd_kafka_message_errstr(m));
                }
                if (m)
                        rd_kafka_message_destroy(m);
                if (rc)
                        break;
                if (at - last_count >= 0.2) {
                        write_count(count_path, arr.n);
                        last_count = at;
                }
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        write_count(count_path, arr.n);
        if (rc == 0 && !arrivals_write(&arr, argv[4])) {
                fprintf(stderr, "kafka: cannot write %s\n", argv[4]);
                rc = 1;
        }
        fprintf(stderr, "kafka: %zu messages of run %s, %llu others\n", arr.n, argv[3],
                (unsigned long long)arr.foreign);
        arrivals_free(&arr);
        return rc;
}
