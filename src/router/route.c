/* route.c — where a message goes: the union of the destinations of every
 * route of its plant whose glob matches the type, each destination once, in
 * the order of config->destinations (so the answer does not depend on how
 * routes overlap or are ordered in the file). */
#include "takt/router.h"

static bool route_names(const struct takt_route *r, size_t dest)
{
        for (size_t i = 0; i < r->n_destinations; i++)
                if (r->destinations[i] == dest)
                        return true;
        return false;
}

static bool plant_sends_to(const struct takt_plant *plant, const char *type, size_t dest)
{
        for (size_t i = 0; i < plant->n_routes; i++) {
                const struct takt_route *r = &plant->routes[i];
                if (route_names(r, dest) && router_glob_match(r->glob, type))
                        return true;
        }
        return false;
}

size_t router_route(const struct takt_config *cfg, const struct takt_plant *plant, const char *type,
                    size_t *out, size_t cap)
{
        size_t n = 0;
        if (cfg == NULL || plant == NULL || type == NULL)
                return 0;
        for (size_t d = 0; d < cfg->n_destinations && n < cap; d++)
                if (plant_sends_to(plant, type, d))
                        out[n++] = d;
        return n;
}
