/* loadgen_stats.c — a growable array of latency samples and nearest-rank
 * percentiles over it (see loadgen_stats.h). */
#include "loadgen_stats.h"

#include <math.h>
#include <stdlib.h>

bool loadgen_stats_add(struct loadgen_stats *s, double ms)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 4096;
                double *ms_new = realloc(s->ms, cap * sizeof(*ms_new));
                if (!ms_new)
                        return false;
                s->ms = ms_new;
                s->cap = cap;
        }
        s->ms[s->n++] = ms;
        return true;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

double loadgen_stats_percentile(struct loadgen_stats *s, double p)
{
        if (s->n == 0)
                return 0;
        qsort(s->ms, s->n, sizeof(*s->ms), cmp_double);
        size_t rank = (size_t)ceil(p / 100.0 * (double)s->n);
        if (rank < 1)
                rank = 1;
        if (rank > s->n)
                rank = s->n;
        return s->ms[rank - 1];
}

void loadgen_stats_free(struct loadgen_stats *s)
{
        free(s->ms);
        s->ms = NULL;
        s->n = s->cap = 0;
}
