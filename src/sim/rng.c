/* rng.c — xorshift64* random numbers; the state lives in the caller's struct
 * (one per simulator run), so a seed replays a run's choices. */
#include "sim.h"

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
        r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint64_t sim_rng_next(struct sim_rng *r)
{
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        return r->s * 0x2545F4914F6CDD1Dull;
}

double sim_rng_unit(struct sim_rng *r)
{
        return (double)(sim_rng_next(r) >> 11) / 9007199254740992.0;
}

int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
        if (hi <= lo)
                return lo;
        return lo + (int64_t)(sim_rng_next(r) % (uint64_t)(hi - lo + 1));
}
