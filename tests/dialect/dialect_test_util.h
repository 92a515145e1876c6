/* dialect_test_util.h — helpers shared by the dialect tests: paths under the
 * source tree, loading a shipped dialect, reading a JSON file. */
#ifndef TAKT_DIALECT_TEST_UTIL_H
#define TAKT_DIALECT_TEST_UTIL_H

#include <stddef.h>

#include <jansson.h>

#include "takt/dialect.h"

/* "$TAKT_SOURCE_DIR/<rel>" (or the compile-time source dir) into buf. */
const char *test_source_path(char *buf, size_t len, const char *rel);
/* conf/dialects/<name>.yaml, compiled; fails the test on error. */
struct dialect *test_load_shipped(const char *name);
/* A JSON file, or NULL. */
json_t *test_read_json(const char *path);

#endif
