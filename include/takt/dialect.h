/* dialect.h — declarative mappings between a system's own JSON and the
 * canonical model (contract §5, docs/dialects.md).
 *
 * A dialect file (conf/dialects/<name>.yaml) is compiled once when the config
 * is loaded; running it re-parses nothing. The built-in "canonical" dialect
 * is the identity and is represented by a NULL struct dialect pointer, so it
 * costs nothing. */
#ifndef TAKT_DIALECT_H
#define TAKT_DIALECT_H

#include <stdbool.h>

#include <jansson.h>

#include "takt/canon.h"
#include "takt/config.h"

struct dialect;     /* one compiled mapping file */
struct dialect_set; /* every dialect a config names, by name */

/* Compile one mapping file; NULL and "FILE:LINE: message" in err on error. */
struct dialect *dialect_load(const char *path, char *err, size_t errlen);
void dialect_free(struct dialect *d);
/* Compile mapping text held in memory; name stands for FILE in errors and
 * is the dialect's name (tests, fuzzing). */
struct dialect *dialect_load_text(const char *text, size_t len, const char *name, char *err,
                                  size_t errlen);
/* The dialect's name (its file name without .yaml); "canonical" for NULL. */
const char *dialect_name(const struct dialect *d);

/* Inbound: a source message -> a JSON array of canonical envelopes (new
 * reference, usually one). On a mapping error returns NULL and adds errors
 * whose paths name the SOURCE field, prefixed with prefix. d == NULL:
 * returns [src] (a new reference to src itself). */
json_t *dialect_inbound(const struct dialect *d, const json_t *src, const char *prefix,
                        struct canon_errors *errs);

/* Outbound: a canonical envelope -> the destination's body (new reference).
 * NULL with errors when the mapping fails. d == NULL: returns env itself
 * (new reference). */
json_t *dialect_outbound(const struct dialect *d, const json_t *env, struct canon_errors *errs);

/* Whether the dialect has an outbound mapping for this type (NULL: all). A
 * route to a destination whose dialect cannot express a type skips that
 * destination for that type. */
bool dialect_accepts(const struct dialect *d, enum canon_type type);

/* Load every dialect named by cfg's sources and destinations from
 * cfg->dialects_dir/<name>.yaml ("canonical" is built in). NULL and
 * "FILE:LINE: message" on error. */
struct dialect_set *dialect_set_load(const struct takt_config *cfg, char *err, size_t errlen);
void dialect_set_free(struct dialect_set *set);
/* NULL for "canonical" (and for unknown names: check with dialect_set_has). */
const struct dialect *dialect_set_get(const struct dialect_set *set, const char *name);
bool dialect_set_has(const struct dialect_set *set, const char *name);

#endif
