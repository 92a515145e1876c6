/* wo_cache.c — bounded map (plant, work order) -> (document, version); see
 * wo_cache.h. A jansson object is the hash table: it keeps insertion order,
 * so its first key is the oldest entry, the one dropped when full. */
#include "wo_cache.h"

#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wo_cache {
        json_t *map; /* owned: key -> [doc, version] */
        size_t cap;
};

struct wo_cache *wo_cache_new(size_t cap)
{
        struct wo_cache *c = calloc(1, sizeof(*c));
        if (!c || !(c->map = json_object()))
                abort(); /* out of memory */
        c->cap = cap ? cap : 1;
        return c;
}

void wo_cache_free(struct wo_cache *c)
{
        if (!c)
                return;
        json_decref(c->map);
        free(c);
}

const json_t *wo_cache_get(const struct wo_cache *c, const char *plant, const char *work_order,
                           int64_t *version)
{
        char *key = store_pair_key(plant, work_order);
        const json_t *entry = json_object_get(c->map, key);
        free(key);
        if (!entry)
                return NULL;
        *version = json_integer_value(json_array_get(entry, 1));
        return json_array_get(entry, 0);
}

void wo_cache_put(struct wo_cache *c, const char *plant, const char *work_order, json_t *doc,
                  int64_t version)
{
        char *key = store_pair_key(plant, work_order);
        json_t *entry = json_pack("[O, I]", doc, (json_int_t)version);
        if (!entry)
                abort(); /* out of memory */
        /* Re-inserted, so the entry counts as new for eviction. */
        json_object_del(c->map, key);
        while (json_object_size(c->map) >= c->cap)
                json_object_del(c->map, json_object_iter_key(json_object_iter(c->map)));
        json_object_set_new(c->map, key, entry);
        free(key);
}

void wo_cache_forget(struct wo_cache *c, const char *plant, const char *work_order)
{
        char *key = store_pair_key(plant, work_order);
        json_object_del(c->map, key);
        free(key);
}

size_t wo_cache_size(const struct wo_cache *c)
{
        return json_object_size(c->map);
}
