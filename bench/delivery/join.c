/* join.c — the delivery benchmark's arithmetic (takt-dbench-join).
 *
 *   takt-dbench-join ARRIVALS [ACCEPTED]
 *
 * ARRIVALS: "<seq> <arrival>" lines from takt-dbench-receiver or
 * takt-dbench-kafka; ACCEPTED: "<seq> <intended> <answered>" lines from
 * takt-loadgen -o (all CLOCK_MONOTONIC seconds of the same machine). A message
 * delivered twice counts with its first arrival. Prints one line:
 *   arrived=.. dups=.. first=.. last=.. delivered_per_s=..
 * and with ACCEPTED also
 *   accepted=.. matched=.. missing=.. a2d_p50_ms=.. a2d_p99_ms=.. a2d_max_ms=..
 *   i2d_p50_ms=.. i2d_p99_ms=.. last_accept=.. tail_s=..
 * where a2d = arrival - 202 answer (accepted -> delivered; it can be slightly
 * negative: taktd hands a message to delivery right after its commit, so it
 * may arrive before the generator has read the 202), i2d = arrival -
 * intended send time (what a sender feels, queueing included), tail_s = last
 * arrival - last 202. Percentiles are nearest-rank (bench/ingest/
 * loadgen_stats.c). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen_stats.h"

struct table {
        double *at;  /* owned; indexed by seq; 0 = not seen */
        size_t cap;  /* entries allocated */
        size_t n;    /* distinct seqs */
        size_t dups; /* repeated seqs */
        double first, last;
};

static bool table_put(struct table *t, unsigned long long seq, double at)
{
        if (seq >= t->cap) {
                size_t cap = t->cap ? t->cap : 65536;
                while (cap <= seq)
                        cap *= 2;
                double *a = realloc(t->at, cap * sizeof(*a));
                if (!a)
                        return false;
                memset(a + t->cap, 0, (cap - t->cap) * sizeof(*a));
                t->at = a;
                t->cap = cap;
        }
        if (t->at[seq] != 0) {
                t->dups++;
                return true;
        }
        t->at[seq] = at;
        t->first = t->n == 0 || at < t->first ? at : t->first;
        t->last = at > t->last ? at : t->last;
        t->n++;
        return true;
}

static bool read_arrivals(const char *path, struct table *t)
{
        FILE *f = fopen(path, "r");
        if (!f) {
                fprintf(stderr, "join: cannot read %s\n", path);
                return false;
        }
        unsigned long long seq;
        double at;
        bool ok = true;
        while (ok && fscanf(f, "%llu %lf", &seq, &at) == 2)
                ok = table_put(t, seq, at);
        fclose(f);
        return ok;
}

static bool join(const char *path, const struct table *t)
{
        FILE *f = fopen(path, "r");
        if (!f) {
                fprintf(stderr, "join: cannot read %s\n", path);
                return false;
        }
        struct loadgen_stats a2d = {0}, i2d = {0};
        unsigned long long seq;
        double intended, answered, last_accept = 0;
        size_t accepted = 0, missing = 0;
        bool ok = true;
        while (ok && fscanf(f, "%llu %lf %lf", &seq, &intended, &answered) == 3) {
                accepted++;
                last_accept = answered > last_accept ? answered : last_accept;
                if (seq >= t->cap || t->at[seq] == 0) {
                        missing++;
                        continue;
                }
                ok = loadgen_stats_add(&a2d, (t->at[seq] - answered) * 1e3) &&
                     loadgen_stats_add(&i2d, (t->at[seq] - intended) * 1e3);
        }
        fclose(f);
        if (ok)
                printf(" accepted=%zu matched=%zu missing=%zu a2d_p50_ms=%.3f a2d_p99_ms=%.3f"
                       " a2d_max_ms=%.3f i2d_p50_ms=%.3f i2d_p99_ms=%.3f last_accept=%.6f"
                       " tail_s=%.3f",
                       accepted, a2d.n, missing, loadgen_stats_percentile(&a2d, 50),
                       loadgen_stats_percentile(&a2d, 99), loadgen_stats_percentile(&a2d, 100),
                       loadgen_stats_percentile(&i2d, 50), loadgen_stats_percentile(&i2d, 99),
                       last_accept, t->n ? t->last - last_accept : 0);
        loadgen_stats_free(&a2d);
        loadgen_stats_free(&i2d);
        return ok;
}

int main(int argc, char **argv)
{
        if (argc != 2 && argc != 3) {
                fprintf(stderr, "usage: %s ARRIVALS [ACCEPTED]\n", argv[0]);
                return 2;
        }
        struct table t = {0};
        bool ok = read_arrivals(argv[1], &t);
        if (ok) {
                double span = t.last - t.first;
                printf("arrived=%zu dups=%zu first=%.6f last=%.6f delivered_per_s=%.1f", t.n,
                       t.dups, t.first, t.last, span > 0 ? (double)(t.n - 1) / span : 0);
                ok = argc == 2 || join(argv[2], &t);
                printf("\n");
        }
        free(t.at);
        return ok ? 0 : 1;
}
