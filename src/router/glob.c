/* glob.c — the shell-style glob of route keys: '*' matches any run of
 * characters (dots included, so "work_order.*" and "*" both work), '?'
 * exactly one character, everything else itself. No classes, no escapes.
 * Linear-time matching: on a mismatch only the last '*' is retried. */
#include "takt/router.h"

bool router_glob_match(const char *pattern, const char *text)
{
        const char *star = NULL;   /* last '*' seen in pattern */
        const char *resume = NULL; /* text position that '*' currently ends at */
        while (*text != '\0') {
                if (*pattern == '*') {
                        star = pattern++;
                        resume = text;
                } else if (*pattern != '\0' && (*pattern == '?' || *pattern == *text)) {
                        pattern++;
                        text++;
                } else if (star != NULL) {
                        pattern = star + 1;
                        text = ++resume;
                } else {
                        return false;
                }
        }
        while (*pattern == '*')
                pattern++;
        return *pattern == '\0';
}
