/* refresh_pace.h — how often a periodic full count may run. The gauges
 * that count whole tables (work orders by state, open outbox rows) take
 * longer as the tables grow: at 50,000 orders the work-order count took
 * 130 ms, the outbox count 112 ms with 25,000 rows delivered since the
 * last VACUUM. A count may start on its timer's tick only when the time
 * since the last one ended is at least RATIO times what it took, so it
 * never keeps a PostgreSQL backend busy more than 1/(RATIO+1) of the time:
 * fresh every tick while counting is cheap, slower (and still bounded)
 * when it is not. Times are milliseconds of the monotonic clock
 * (refresh_pace_now_ms); the rest is pure. */
#ifndef TAKT_REFRESH_PACE_H
#define TAKT_REFRESH_PACE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define REFRESH_PACE_RATIO 19 /* at most 5% of a backend */

struct refresh_pace {
        int64_t started_ms; /* the count in flight, or the last one */
        int64_t next_ms;    /* not before; 0: now */
        bool running;       /* started, not yet ended: one count at a time */
};

static inline int64_t refresh_pace_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* May a count start at now_ms? Never while one runs. */
static inline bool refresh_pace_due(const struct refresh_pace *p, int64_t now_ms)
{
        return !p->running && now_ms >= p->next_ms;
}

static inline void refresh_pace_started(struct refresh_pace *p, int64_t now_ms)
{
        p->started_ms = now_ms;
        p->running = true;
}

/* The count that started last ended at now_ms (answered or failed). */
static inline void refresh_pace_ended(struct refresh_pace *p, int64_t now_ms)
{
        int64_t took = now_ms > p->started_ms ? now_ms - p->started_ms : 0;
        p->next_ms = now_ms + REFRESH_PACE_RATIO * took;
        p->running = false;
}

#endif
