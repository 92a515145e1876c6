/* log.c — structured stderr logging (see takt/log.h). One write(2) per line
 * so lines from the daemon never interleave. */
#include "takt/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* read by both loops, set on reload */
static _Atomic int current_level = TAKT_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void takt_log_set_level(enum takt_log_level level)
{
        current_level = level;
}

enum takt_log_level takt_log_get_level(void)
{
        return (enum takt_log_level)current_level;
}

bool takt_log_level_parse(const char *name, enum takt_log_level *out)
{
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                if (strcmp(name, level_names[i]) == 0) {
                        *out = (enum takt_log_level)i;
                        return true;
                }
        }
        return false;
}

void takt_log(enum takt_log_level level, const char *event, const char *fmt, ...)
{
        if ((int)level < current_level)
                return;
        char line[2048];
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        int n =
            snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), level_names[level], event);
        if (fmt && *fmt && n > 0 && (size_t)n < sizeof(line) - 2) {
                line[n++] = ' ';
                va_list ap;
                va_start(ap, fmt);
                int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
                va_end(ap);
                if (m > 0)
                        n += m;
        }
        if (n < 0)
                return;
        if ((size_t)n > sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, (size_t)n);
        (void)w;
}
