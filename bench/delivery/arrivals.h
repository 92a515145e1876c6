/* arrivals.h — the delivery benchmark's record of delivered messages: for
 * each message of one load-generator run (id lg-<prefix>-<seq>), the
 * CLOCK_MONOTONIC time it arrived at the receiver. Shared by the HTTP
 * receiver and the Kafka reader. */
#ifndef TAKT_DBENCH_ARRIVALS_H
#define TAKT_DBENCH_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arrival {
        uint64_t seq;
        double at; /* monotonic seconds */
};

struct arrivals {
        const char *prefix; /* only ids lg-<prefix>-<seq> count; not owned */
        struct arrival *a;  /* owned */
        size_t n, cap;
        uint64_t foreign; /* messages of another run or not ours */
};

double arrivals_now(void);
/* Records the message whose canonical envelope JSON (len bytes, not
 * NUL-terminated) arrived at time at; false when out of memory. */
bool arrivals_add_envelope(struct arrivals *r, const char *json, size_t len, double at);
/* Writes "<seq> <at>" lines to path; false on an I/O error. */
bool arrivals_write(const struct arrivals *r, const char *path);
void arrivals_free(struct arrivals *r);

#endif
