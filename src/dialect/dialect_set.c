/* dialect_set.c — every dialect a configuration names, compiled once at
 * config load: the distinct dialect names of its sources and destinations,
 * each from cfg->dialects_dir/<name>.yaml ("canonical" is built in and
 * stored as NULL). Lookups by name are a linear scan over a handful. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "takt/dialect.h"

struct dialect_entry {
        char *name;        /* owned */
        struct dialect *d; /* owned; NULL for "canonical" */
};

struct dialect_set {
        struct dialect_entry *items; /* owned */
        size_t n;
};

static const struct dialect_entry *find(const struct dialect_set *set, const char *name)
{
        for (size_t i = 0; set != NULL && i < set->n; i++)
                if (strcmp(set->items[i].name, name) == 0)
                        return &set->items[i];
        return NULL;
}

/* Adds name (compiling its file) unless present. */
static bool add(struct dialect_set *set, const struct takt_config *cfg, const char *name, char *err,
                size_t errlen)
{
        if (name == NULL || find(set, name) != NULL)
                return true;
        struct dialect *d = NULL;
        if (strcmp(name, "canonical") != 0) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s.yaml",
                         cfg->dialects_dir ? cfg->dialects_dir : ".", name);
                if ((d = dialect_load(path, err, errlen)) == NULL)
                        return false;
        }
        struct dialect_entry *items = realloc(set->items, (set->n + 1) * sizeof(*items));
        char *copy = strdup(name);
        if (items == NULL || copy == NULL) {
                if (items != NULL)
                        set->items = items;
                free(copy);
                dialect_free(d);
                snprintf(err, errlen, "%s:0: out of memory", name);
                return false;
        }
        set->items = items;
        set->items[set->n++] = (struct dialect_entry){.name = copy, .d = d};
        return true;
}

struct dialect_set *dialect_set_load(const struct takt_config *cfg, char *err, size_t errlen)
{
        struct dialect_set *set = calloc(1, sizeof(*set));
        if (set == NULL) {
                snprintf(err, errlen, "%s:0: out of memory", cfg->path ? cfg->path : "config");
                return NULL;
        }
        bool ok = add(set, cfg, "canonical", err, errlen);
        for (size_t i = 0; ok && i < cfg->n_sources; i++)
                ok = add(set, cfg, cfg->sources[i].dialect, err, errlen);
        for (size_t i = 0; ok && i < cfg->n_destinations; i++)
                ok = add(set, cfg, cfg->destinations[i].dialect, err, errlen);
        if (!ok) {
                dialect_set_free(set);
                return NULL;
        }
        return set;
}

void dialect_set_free(struct dialect_set *set)
{
        if (set == NULL)
                return;
        for (size_t i = 0; i < set->n; i++) {
                free(set->items[i].name);
                dialect_free(set->items[i].d);
        }
        free(set->items);
        free(set);
}

const struct dialect *dialect_set_get(const struct dialect_set *set, const char *name)
{
        const struct dialect_entry *e = name ? find(set, name) : NULL;
        return e ? e->d : NULL;
}

bool dialect_set_has(const struct dialect_set *set, const char *name)
{
        return name != NULL && find(set, name) != NULL;
}
