/* json_text.h — compact JSON text from jansson values, fast.
 *
 * jansson's json_dumps() writes through a callback a few bytes at a time
 * and formats every integer with snprintf. takt writes every work-order
 * document, envelope and answer it commits as text, and measured
 * (callgrind, bench/ingest at c=8) json_dumps at 30% of the daemon's
 * instructions, 105k instructions for one 1.2 kB work-order document. This
 * writer appends to a growing buffer, copies runs of plain string bytes at
 * once and formats integers by hand.
 *
 * The text is byte for byte what json_dumps(j, JSON_COMPACT |
 * JSON_ENCODE_ANY) writes (tests/core/test_json_text.c holds it to that):
 * object members in jansson's iteration order, strings as UTF-8 with only
 * '"', '\\' and control characters escaped, reals with "%.17g" and ".0"
 * added when that looks like an integer. */
#ifndef TAKT_JSON_TEXT_H
#define TAKT_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "takt/strbuf.h"

/* Append j's text to b (NUL-terminated after it). pg_quoted: additionally
 * put a backslash before every '"' and '\\' of the text, as inside a
 * double-quoted PostgreSQL array element. -1 (b unchanged past its old
 * length) when j is NULL or nests deeper than 10,000: parsed input nests
 * 2048 deep at most, so that is a cycle. Aborts when out of memory. */
int json_text_append(struct strbuf *b, const json_t *j, bool pg_quoted);

/* j's text as a new string (free() it); NULL when json_text_append fails. */
char *json_text(const json_t *j);

#endif
