/* dialect_pointer.c — JSON Pointers (RFC 6901) split into tokens once, at
 * compile time, with a base marker for where they start ("/" the current
 * scope, "^/" the message, "@/" the body as received). Resolving one at run
 * time walks the tokens; it parses nothing but array indexes. */
#include <stdlib.h>
#include <string.h>

#include "dialect_internal.h"

/* Unescapes one token (~1 -> '/', ~0 -> '~') in place; false on a bad escape. */
static bool unescape(char *tok)
{
        char *w = tok;
        for (const char *r = tok; *r; r++) {
                if (*r != '~') {
                        *w++ = *r;
                        continue;
                }
                if (r[1] == '0')
                        *w++ = '~';
                else if (r[1] == '1')
                        *w++ = '/';
                else
                        return false;
                r++;
        }
        *w = '\0';
        return true;
}

bool ptr_compile(struct arena *a, const char *text, struct ptr *out)
{
        memset(out, 0, sizeof(*out));
        out->base = PTR_SCOPE;
        if (text[0] == '^' || text[0] == '@') {
                out->base = text[0] == '^' ? PTR_MSG : PTR_RAW;
                text++;
        }
        if (text[0] != '\0' && text[0] != '/')
                return false;
        out->text = arena_strdup(a, text);
        if (out->text == NULL)
                return false;
        for (const char *p = text; *p; p++)
                out->n += *p == '/';
        if (out->n == 0)
                return true;
        out->tokens = arena_alloc(a, out->n * sizeof(*out->tokens));
        char *copy = arena_strdup(a, text + 1);
        if (out->tokens == NULL || copy == NULL)
                return false;
        for (size_t i = 0; i < out->n; i++) {
                char *slash = strchr(copy, '/');
                if (slash != NULL)
                        *slash = '\0';
                if (!unescape(copy))
                        return false;
                out->tokens[i] = copy;
                copy = slash ? slash + 1 : copy + strlen(copy);
        }
        return true;
}

/* A decimal array index without sign or leading zeros; SIZE_MAX if not one. */
static size_t array_index(const char *tok)
{
        if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
                return (size_t)-1;
        size_t v = 0;
        for (const char *p = tok; *p; p++) {
                if (*p < '0' || *p > '9' || v > ((size_t)-1) / 10 - 10)
                        return (size_t)-1;
                v = v * 10 + (size_t)(*p - '0');
        }
        return v;
}

json_t *ptr_get(const struct ptr *p, const json_t *doc)
{
        json_t *cur = (json_t *)doc;
        for (size_t i = 0; i < p->n && cur != NULL; i++) {
                if (json_is_object(cur))
                        cur = json_object_get(cur, p->tokens[i]);
                else if (json_is_array(cur))
                        cur = json_array_get(cur, array_index(p->tokens[i]));
                else
                        cur = NULL;
        }
        return cur;
}
