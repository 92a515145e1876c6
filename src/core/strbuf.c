/* strbuf.c — growth of a text buffer (see takt/strbuf.h). */
#include "takt/strbuf.h"

#include <stdlib.h>
#include <string.h>

void strbuf_grow(struct strbuf *b, size_t more)
{
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + more + 1)
                cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
                abort(); /* out of memory */
        b->data = grown;
        b->cap = cap;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
        strbuf_reserve(b, n);
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}
