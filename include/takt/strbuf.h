/* strbuf.h — a growing text buffer: the one place its growth is written
 * (metrics exposition, JSON text, PostgreSQL array literals use it). */
#ifndef TAKT_STRBUF_H
#define TAKT_STRBUF_H

#include <stddef.h>

/* data is owned (free() it); {0} is an empty buffer. */
struct strbuf {
        char *data;
        size_t len, cap;
};

/* Grow to hold len + more bytes and a NUL (capacity doubles, from 256).
 * Aborts when out of memory. Call strbuf_reserve. */
void strbuf_grow(struct strbuf *b, size_t more);

/* Room for `more` bytes and a NUL past len. Inline: writers call it for
 * every character they put. */
static inline void strbuf_reserve(struct strbuf *b, size_t more)
{
        if (b->len + more + 1 > b->cap)
                strbuf_grow(b, more);
}
/* Append n bytes of s; data stays NUL-terminated. */
void strbuf_add(struct strbuf *b, const char *s, size_t n);

#endif
