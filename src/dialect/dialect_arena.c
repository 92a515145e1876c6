/* dialect_arena.c — a bump allocator for a compiled dialect: the whole tree
 * of expressions, fields, pointers and strings is freed in one go when the
 * dialect is freed, so the compiler needs no per-node cleanup paths. */
#include <stdlib.h>
#include <string.h>

#include "dialect_internal.h"

#define ARENA_CHUNK 8192

struct arena_chunk {
        struct arena_chunk *next;
        size_t used, cap;
        max_align_t data[]; /* cap bytes */
};

void *arena_alloc(struct arena *a, size_t size)
{
        size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
        struct arena_chunk *c = a->head;
        if (c == NULL || c->cap - c->used < size) {
                size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
                c = malloc(sizeof(*c) + cap);
                if (c == NULL)
                        return NULL;
                c->used = 0;
                c->cap = cap;
                c->next = a->head;
                a->head = c;
        }
        void *p = (char *)c->data + c->used;
        c->used += size;
        memset(p, 0, size);
        return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
        size_t n = strlen(s) + 1;
        char *p = arena_alloc(a, n);
        if (p != NULL)
                memcpy(p, s, n);
        return p;
}

void arena_free(struct arena *a)
{
        struct arena_chunk *c = a->head;
        while (c != NULL) {
                struct arena_chunk *next = c->next;
                free(c);
                c = next;
        }
        a->head = NULL;
}
