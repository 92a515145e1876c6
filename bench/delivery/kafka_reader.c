/* kafka_reader.c — the delivery benchmark's Kafka reader (takt-dbench-kafka).
 *
 *   takt-dbench-kafka BOOTSTRAP TOPIC PREFIX OUTFILE
 *
 * Reads every partition of TOPIC from the beginning with assign(), not a
 * consumer group (the mock cluster's group coordinator stalls JoinGroup),
 * while the run goes on (taktd's embedded mock cluster keeps only about 5 MB
 * per partition), and records each record's envelope "id" (lg-PREFIX-<seq>)
 * with its CLOCK_MONOTONIC arrival time (arrivals.c). Once it is caught up
 * (every partition has reached its end once) it creates OUTFILE.count, and
 * from then on writes over it every 200 ms the number received so far:
 * run.sh waits for the file before it starts the generator, then polls it.
 * On SIGTERM or SIGINT it writes "<seq> <arrival>" lines to OUTFILE and
 * exits. The signals are blocked and
 * polled with sigtimedwait(), so there is no global state. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "arrivals.h"

/* Partitions of topic (it must exist: run.sh creates it first); 0 when
 * the metadata does not come within 10 s. */
static int partition_count(rd_kafka_t *rk, const char *topic)
{
        int n = 0;
        rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (t && rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        if (t)
                rd_kafka_topic_destroy(t);
        return n;
}

/* A consumer assigned every partition of topic from the beginning; their
 * number in *partitions. NULL on failure (reported). */
static rd_kafka_t *consumer_new(const char *bootstrap, const char *topic, int *partitions)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        static const char *const settings[][2] = {
            {"group.id", "takt-dbench"}, /* required; no group is joined */
            {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"},
            {"fetch.wait.max.ms", "5"},        {"fetch.error.backoff.ms", "10"},
            {"enable.partition.eof", "true"},  {"topic.metadata.refresh.interval.ms", "500"},
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
        *partitions = partition_count(rk, topic);
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(*partitions);
        for (int p = 0; p < *partitions; p++)
                rd_kafka_topic_partition_list_add(list, topic, p)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t e =
            *partitions > 0 ? rd_kafka_assign(rk, list) : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        rd_kafka_topic_partition_list_destroy(list);
        if (e) {
                fprintf(stderr, "kafka: assign %s: %s\n", topic, rd_kafka_err2str(e));
                rd_kafka_destroy(rk);
                return NULL;
        }
        return rk;
fail:
        fprintf(stderr, "kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
}

#define MAX_PARTITIONS 1024

/* Caught up: every partition has reported its end once. */
struct catch_up {
        bool eof[MAX_PARTITIONS];
        int n_eof, partitions;
        bool done;
};

static void catch_up_note(struct catch_up *c, const rd_kafka_message_t *m)
{
        if (c->done || m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF || m->partition < 0 ||
            m->partition >= MAX_PARTITIONS || c->eof[m->partition])
                return;
        c->eof[m->partition] = true;
        c->done = ++c->n_eof >= c->partitions;
}

/* Writes n over the count file's text in place. Never truncate it: on an
 * ext4 mounted with `discard` (this machine's root), truncating frees a block
 * and the synchronous discard stalled other writers to the disk, PostgreSQL's
 * among them, for 0.1-0.6 s (seen as one 202 stall per Kafka row, perf sched).
 * The count only grows, so the new text is never shorter than the old. */
static void write_count(int fd, size_t n)
{
        char text[32];
        int len = snprintf(text, sizeof(text), "%zu\n", n);
        if (fd >= 0 && pwrite(fd, text, (size_t)len, 0) != len)
                fprintf(stderr, "kafka: cannot write the count\n");
}

/* The count file, created empty (run.sh starts the generator once it
 * exists); -1 when it cannot be. */
static int count_open(const char *path)
{
        return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
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
        int count_fd = -1; /* created once caught up */
        struct arrivals arr = {.prefix = argv[3]};
        struct catch_up caught = {0};
        rd_kafka_t *rk = consumer_new(argv[1], argv[2], &caught.partitions);
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
                if (m) {
                        catch_up_note(&caught, m);
                        rd_kafka_message_destroy(m);
                }
                if (rc)
                        break;
                if (caught.done && count_fd < 0)
                        count_fd = count_open(count_path);
                if (caught.done && at - last_count >= 0.2) {
                        write_count(count_fd, arr.n);
                        last_count = at;
                }
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (count_fd < 0)
                count_fd = count_open(count_path);
        write_count(count_fd, arr.n);
        if (count_fd >= 0)
                close(count_fd);
        if (rc == 0 && !arrivals_write(&arr, argv[4])) {
                fprintf(stderr, "kafka: cannot write %s\n", argv[4]);
                rc = 1;
        }
        fprintf(stderr, "kafka: %zu messages of run %s, %llu others\n", arr.n, argv[3],
                (unsigned long long)arr.foreign);
        arrivals_free(&arr);
        return rc;
}
