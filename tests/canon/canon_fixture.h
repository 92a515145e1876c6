/* canon_fixture.h — test helpers for canon: a valid message of every type
 * (minimal and full) and JSON-Pointer patches to break them one field at a
 * time. */
#ifndef TAKT_TEST_CANON_FIXTURE_H
#define TAKT_TEST_CANON_FIXTURE_H

#include <stdbool.h>

#include <jansson.h>

/* A valid envelope of `type` ("work_order.released", ...); full adds every
 * optional field. New reference; NULL for an unknown type. */
json_t *fixture_message(const char *type, bool full);

/* Sets the value at pointer (RFC 6901, parent must exist) to the JSON text
 * value_json, or removes it when value_json is NULL. An array index equal
 * to the size appends. Returns false when the pointer does not resolve. */
bool fixture_patch(json_t *root, const char *pointer, const char *value_json);

#endif
