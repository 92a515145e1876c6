/* loadgen_stats.h — latency samples of one load-generator run and their
 * percentiles. */
#ifndef TAKT_LOADGEN_STATS_H
#define TAKT_LOADGEN_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct loadgen_stats {
        double *ms; /* owned; latencies in milliseconds */
        size_t n, cap;
};

/* Appends one latency; false when out of memory. */
bool loadgen_stats_add(struct loadgen_stats *s, double ms);
/* Nearest-rank percentile p (0..100) of the samples; sorts them in place.
 * 0 when there is no sample. */
double loadgen_stats_percentile(struct loadgen_stats *s, double p);
void loadgen_stats_free(struct loadgen_stats *s);

#endif
