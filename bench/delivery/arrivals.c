/* arrivals.c — parses a delivered envelope's "id" (lg-<prefix>-<seq>, see
 * bench/ingest/loadgen_msg.c) and keeps (seq, arrival time) pairs in a
 * growable array (see arrivals.h). */
#include "arrivals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

double arrivals_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The <seq> of "lg-<prefix>-<seq>"; false for any other id. */
static bool seq_of(const char *id, const char *prefix, uint64_t *seq)
{
        size_t n = strlen(prefix);
        if (!id || strncmp(id, "lg-", 3) != 0 || strncmp(id + 3, prefix, n) != 0 ||
            id[3 + n] != '-' || id[4 + n] < '0' || id[4 + n] > '9')
                return false;
        char *end;
        *seq = strtoull(id + 4 + n, &end, 10);
        return *end == '\0';
}

bool arrivals_add_envelope(struct arrivals *r, const char *json, size_t len, double at)
{
        json_t *doc = json_loadb(json, len, 0, NULL);
        uint64_t seq;
        bool ok = doc && seq_of(json_string_value(json_object_get(doc, "id")), r->prefix, &seq);
        json_decref(doc);
        if (!ok) {
                r->foreign++;
                return true;
        }
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 65536;
                struct arrival *a = realloc(r->a, cap * sizeof(*a));
                if (!a)
                        return false;
                r->a = a;
                r->cap = cap;
        }
        r->a[r->n++] = (struct arrival){seq, at};
        return true;
}

bool arrivals_write(const struct arrivals *r, const char *path)
{
        FILE *f = fopen(path, "w");
        if (!f)
                return false;
        for (size_t i = 0; i < r->n; i++)
                fprintf(f, "%llu %.6f\n", (unsigned long long)r->a[i].seq, r->a[i].at);
        return fclose(f) == 0;
}

void arrivals_free(struct arrivals *r)
{
        free(r->a);
        *r = (struct arrivals){0};
}
