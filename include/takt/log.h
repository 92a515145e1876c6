/* log.h — structured logging to stderr: one line per event,
 * "2026-11-30T06:45:02.123Z level=info event=ingest.accepted key=value ...".
 * The level is process-wide (set once from config and on reload); it is the
 * one piece of mutable state outside struct takt, because every module logs. */
#ifndef TAKT_LOG_H
#define TAKT_LOG_H

#include <stdbool.h>

enum takt_log_level { TAKT_LOG_DEBUG, TAKT_LOG_INFO, TAKT_LOG_WARN, TAKT_LOG_ERROR };

void takt_log_set_level(enum takt_log_level level);
enum takt_log_level takt_log_get_level(void);
/* Parses "debug", "info", "warn", "error". */
bool takt_log_level_parse(const char *name, enum takt_log_level *out);

/* event: dotted event name; fmt: the key=value fields (printf format). Values
 * with spaces must be quoted by the caller with %s inside "...". */
void takt_log(enum takt_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(event, ...)                                                                      \
        do {                                                                                       \
                if (takt_log_get_level() <= TAKT_LOG_DEBUG)                                        \
                        takt_log(TAKT_LOG_DEBUG, event, __VA_ARGS__);                              \
        } while (0)
#define log_info(event, ...)  takt_log(TAKT_LOG_INFO, event, __VA_ARGS__)
#define log_warn(event, ...)  takt_log(TAKT_LOG_WARN, event, __VA_ARGS__)
#define log_error(event, ...) takt_log(TAKT_LOG_ERROR, event, __VA_ARGS__)

#endif
