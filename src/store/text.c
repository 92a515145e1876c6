/* text.c — strings the store's files share: server error text made fit for
 * callers (one line) and for log values (one line, no double quotes, since
 * log values are "..."-quoted), and map keys of two strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

void store_one_line(char *buf, size_t len, const char *msg)
{
        snprintf(buf, len, "%s", msg && *msg ? msg : "unknown error");
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\t' || *p == '\r')
                        *p = ' ';
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == ' ')
                buf[--n] = '\0';
}

void store_log_safe(char *buf, size_t len, const char *msg)
{
        store_one_line(buf, len, msg);
        for (char *p = buf; *p; p++)
                if (*p == '"')
                        *p = '\'';
}

char *store_pair_key(const char *a, const char *b)
{
        char *key = NULL;
        if (asprintf(&key, "%zu:%s%s", strlen(a ? a : ""), a ? a : "", b ? b : "") < 0)
                abort(); /* out of memory */
        return key;
}
