/* prune_pace.h — when the pruner's next round starts (pure; the rounds
 * themselves are src/api/pruner.c). A round deletes at most
 * PRUNE_BATCH_ROWS of each table. While some table gave a full batch,
 * more is waiting: the next round follows after PRUNE_CATCH_UP_RATIO times
 * what the round took (at least PRUNE_MIN_GAP_MS), so catching up keeps
 * the admin connection's backend busy at most a fifth of the time and
 * leaves room for the admin API between rounds. Otherwise the pruner is
 * caught up and waits the configured interval (retention.interval). */
#ifndef TAKT_PRUNE_PACE_H
#define TAKT_PRUNE_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define PRUNE_BATCH_ROWS     5000
#define PRUNE_CATCH_UP_RATIO 4
#define PRUNE_MIN_GAP_MS     100

static inline uint64_t prune_next_delay_ms(bool full_batch, uint64_t took_ms, uint64_t interval_ms)
{
        if (!full_batch)
                return interval_ms;
        uint64_t gap = took_ms * PRUNE_CATCH_UP_RATIO;
        if (gap < PRUNE_MIN_GAP_MS)
                gap = PRUNE_MIN_GAP_MS;
        return gap < interval_ms ? gap : interval_ms;
}

#endif
