/* router.h — plant routes (contract §5): a canonical type matched against
 * each route's glob; the union of the destinations of every match, each once,
 * in the order of config->destinations. Pure. */
#ifndef TAKT_ROUTER_H
#define TAKT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "takt/config.h"

/* Shell-style glob: '*' matches any run (including dots), '?' one char. */
bool router_glob_match(const char *pattern, const char *text);

/* Fills out[] with destination indices for a message of `type` in `plant`.
 * cap must be at least cfg->n_destinations (never written past; a smaller
 * cap keeps the first matches). Returns how many; 0 when nothing matches. */
size_t router_route(const struct takt_config *cfg, const struct takt_plant *plant, const char *type,
                    size_t *out, size_t cap);

#endif
