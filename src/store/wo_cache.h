/* wo_cache.h — the work orders this daemon last wrote or loaded, kept so an
 * ingest group can be decided without first reading them back under lock
 * (batch.c, "fast path"). A hint, never the truth: every write made from a
 * cached order carries the version it was decided against, and PostgreSQL
 * refuses it when the row has moved on (002_ingest_checks.sql).
 *
 * Bounded: past `cap` entries the oldest inserted is dropped. Documents are
 * shared jansson references and are never modified once cached. */
#ifndef TAKT_WO_CACHE_H
#define TAKT_WO_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct wo_cache;

struct wo_cache *wo_cache_new(size_t cap);
void wo_cache_free(struct wo_cache *c);

/* The cached document (borrowed, valid until the entry is replaced or
 * dropped) and its version column; NULL when not cached. */
const json_t *wo_cache_get(const struct wo_cache *c, const char *plant, const char *work_order,
                           int64_t *version);
/* Cache (a new reference to) doc as the order's current row. */
void wo_cache_put(struct wo_cache *c, const char *plant, const char *work_order, json_t *doc,
                  int64_t version);
void wo_cache_forget(struct wo_cache *c, const char *plant, const char *work_order);
size_t wo_cache_size(const struct wo_cache *c);

#endif
