/* config_internal.h — shared between the config*.c files, not a public face.
 *
 * The loader walks a libyaml document. Every mapping in the file is described
 * by a table of struct cfg_field: key, handler, offset into a base struct and
 * an optional argument (an enum table, a child table). cfg_map() checks the
 * mapping (scalar keys, no duplicates, no unknown keys) and then calls the
 * handlers in TABLE order, so a table lists what later fields depend on first
 * (dialects_dir before sources, destinations before plants before sources).
 *
 * Errors: the first error wins; it is formatted "FILE:LINE: path: message"
 * into ctx->err, where path is the dotted key path being parsed. */
#ifndef TAKT_CONFIG_INTERNAL_H
#define TAKT_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "takt/config.h"

struct cfg_ctx {
        const char *file; /* as given by the caller, for messages */
        struct takt_config *cfg;
        yaml_document_t *doc;
        char *err;
        size_t errlen;
        bool failed;
        char path[512]; /* dotted key path of the node being parsed */
        size_t path_len;
        bool *dest_kind_set; /* owned; per destination: "kind" given in the file */
};

struct cfg_field;
typedef bool (*cfg_handler)(struct cfg_ctx *ctx, const yaml_node_t *key, const yaml_node_t *value,
                            void *base, const struct cfg_field *f);

struct cfg_field {
        const char *key;
        cfg_handler parse;
        size_t offset;   /* of the target inside base */
        const void *arg; /* handler-specific: enum table, child table, flags */
};
#define CFG_END                                                                                    \
        {                                                                                          \
                NULL, NULL, 0, NULL                                                                \
        }

struct cfg_enum {
        const char *name;
        int value;
};
#define CFG_ENUM_END                                                                               \
        {                                                                                          \
                NULL, 0                                                                            \
        }

/* --- errors and key paths (config_yaml.c) --- */
int cfg_line(const yaml_node_t *node);
bool cfg_error(struct cfg_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends ".name" (or "name" at the root) to ctx->path; returns the old
 * length for cfg_path_pop(). */
size_t cfg_path_push(struct cfg_ctx *ctx, const char *name);
void cfg_path_pop(struct cfg_ctx *ctx, size_t len);

/* --- node helpers (config_yaml.c) --- */
yaml_node_t *cfg_node(const struct cfg_ctx *ctx, int index);
/* The scalar's text, or NULL (error set) when node is not a non-null scalar. */
const char *cfg_scalar(struct cfg_ctx *ctx, const yaml_node_t *node);
/* Checks that node is a mapping whose keys are unique non-empty scalars. */
bool cfg_check_mapping(struct cfg_ctx *ctx, const yaml_node_t *node);
size_t cfg_mapping_size(const yaml_node_t *node);
/* Walks a mapping against a field table (see the top of this file). */
bool cfg_map(struct cfg_ctx *ctx, const yaml_node_t *node, void *base,
             const struct cfg_field *fields);
/* True when the mapping node has key. */
bool cfg_has_key(const struct cfg_ctx *ctx, const yaml_node_t *node, const char *key);
/* Replaces *slot (freed) with a copy of text; false (error set) when out of memory. */
bool cfg_set_string(struct cfg_ctx *ctx, char **slot, const char *text, int line);

/* --- generic handlers (config_yaml.c) --- */
bool cfg_h_string(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                  const struct cfg_field *); /* arg non-NULL: quoted "" allowed */
bool cfg_h_bool(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                const struct cfg_field *);
bool cfg_h_port(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                const struct cfg_field *);
bool cfg_h_count(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                 const struct cfg_field *); /* unsigned >= 1 */
bool cfg_h_duration(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                    const struct cfg_field *); /* uint64_t ms */
bool cfg_h_duration_or_forever(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                               const struct cfg_field *); /* uint64_t ms, forever: 0 */
bool cfg_h_size(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                const struct cfg_field *); /* size_t >= 1 */
bool cfg_h_enum(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                const struct cfg_field *); /* arg: const struct cfg_enum[] */
bool cfg_h_section(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                   const struct cfg_field *); /* arg: child table, base + offset */

/* --- values: paths, secrets, dialects, names (config_values.c) --- */
/* Returns text when absolute, else "<cfg->dir>/<text>"; malloc'd, NULL on OOM. */
char *cfg_resolve(const struct cfg_ctx *ctx, const char *text);
/* A relative or absolute path to a readable file, stored resolved (char *). */
bool cfg_h_file(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                const struct cfg_field *);
/* A path stored resolved, not checked (dialects_dir). */
bool cfg_h_dir(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
               const struct cfg_field *);
/* Secrets into a struct takt_secret at offset: *_file reads the file, *_env the
 * environment. A secret already set by its sibling key is an error. */
bool cfg_h_secret_file(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                       const struct cfg_field *);
bool cfg_h_secret_env(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                      const struct cfg_field *);
/* "canonical" or a readable <dialects_dir>/<name>.yaml; stored as the name. */
bool cfg_h_dialect(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                   const struct cfg_field *);
/* Names of sources, destinations and plants: 1-64 of [A-Za-z0-9._-]. */
bool cfg_valid_name(const char *name);
void cfg_secret_free(struct takt_secret *s);

/* --- sources, destinations, plants (config_entities.c) --- */
bool cfg_h_sources(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                   const struct cfg_field *);
bool cfg_h_destinations(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                        const struct cfg_field *);
bool cfg_h_plants(struct cfg_ctx *, const yaml_node_t *, const yaml_node_t *, void *,
                  const struct cfg_field *);
/* After the walk: destination kinds default to the same-named source's. */
void cfg_link_destination_kinds(struct cfg_ctx *ctx);
void cfg_free_entities(struct takt_config *cfg);

#endif
