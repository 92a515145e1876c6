/* canon_errors.c — the bounded list of validation errors and its JSON form
 * (contract §4: 422 {"status":"invalid","errors":[{"path","message"}]}), and
 * JSON Pointer token escaping (RFC 6901). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "takt/canon.h"

void canon_errors_add(struct canon_errors *errs, const char *prefix, const char *path,
                      const char *fmt, ...)
{
        if (errs == NULL || errs->count >= CANON_MAX_ERRORS)
                return;
        struct canon_error *e = &errs->items[errs->count++];
        snprintf(e->path, sizeof(e->path), "%s%s", prefix ? prefix : "", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
}

json_t *canon_errors_json(const struct canon_errors *errs)
{
        json_t *list = json_array();
        size_t n = errs ? errs->count : 0;
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, json_pack("{s:s, s:s}", "path", errs->items[i].path,
                                                      "message", errs->items[i].message));
        return json_pack("{s:s, s:o}", "status", "invalid", "errors", list);
}

const char *canon_pointer_append(char *buf, size_t len, const char *token)
{
        size_t n = strnlen(buf, len);
        if (n + 1 >= len)
                return buf;
        buf[n++] = '/';
        for (const char *p = token; *p != '\0' && n + 1 < len; p++) {
                const char *esc = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
                if (esc == NULL) {
                        buf[n++] = *p;
                } else if (n + 2 < len) {
                        buf[n++] = esc[0];
                        buf[n++] = esc[1];
                } else {
                        break;
                }
        }
        buf[n] = '\0';
        return buf;
}
