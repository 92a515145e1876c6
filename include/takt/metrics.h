/* metrics.h — a registry of counters, gauges and histograms with bounded
 * label sets, rendered in the Prometheus text exposition format 0.0.4.
 *
 * A family is declared once (name, help, type, label names, histogram
 * buckets); a series is one label-value tuple of a family, created on first
 * use and kept for the registry's life. Families render in declaration order,
 * series in creation order. The registry owns every family and series.
 *
 * Misuse is not fatal: metrics_family() returns NULL (and logs) for an
 * invalid name, label name or bucket list, and for a redeclaration that
 * differs in type, labels or buckets (an identical redeclaration returns the
 * existing family, so a module may declare again after a reload). Every
 * function accepts a NULL registry, family or series and then does nothing,
 * so code running without metrics just passes NULL along. Counters ignore
 * negative increments; inc/add/set ignore histograms, observe ignores
 * counters and gauges. metric_set() works on counters too, for mirroring a
 * counter kept elsewhere (process_cpu_seconds_total). A family without
 * labels has its one series from the start; a labelled family with no
 * series renders only its HELP and TYPE lines. Thread-safe: one mutex per registry (the main and
 * delivery loops both count). */
#ifndef TAKT_METRICS_H
#define TAKT_METRICS_H

#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;       /* the registry */
struct metric_family; /* owned by the registry */
struct metric_series; /* owned by its family */

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Declare a family. label_names: NULL-terminated array (may be NULL for no
 * labels); copied. buckets: ascending upper bounds for histograms (copied,
 * +Inf is implicit), NULL otherwise. */
struct metric_family *metrics_family(struct metrics *m, const char *name, const char *help,
                                     enum metric_type type, const char *const *label_names,
                                     const double *buckets, size_t n_buckets);

/* The series for these label values (as many as the family has label names);
 * created at zero on first use. Values are copied. */
struct metric_series *metric_series_get(struct metric_family *f, const char *const *label_values);

void metric_inc(struct metric_series *s);
void metric_add(struct metric_series *s, double v);
void metric_set(struct metric_series *s, double v);
void metric_observe(struct metric_series *s, double v); /* histograms */

/* Drop every series of a gauge family (before re-setting it from a fresh
 * snapshot, e.g. outbox counts by state). Pointers to its series become
 * invalid. A family without labels gets its zero series back. */
void metric_family_reset(struct metric_family *f);

/* Shorthand: series by label values, then inc/set/observe. */
void metrics_inc(struct metric_family *f, const char *const *label_values);
void metrics_set(struct metric_family *f, const char *const *label_values, double v);
void metrics_observe(struct metric_family *f, const char *const *label_values, double v);

/* Default latency buckets, in seconds: 0.0005 .. 60. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_count;

/* Render the whole registry. Returns a malloc'd NUL-terminated string the
 * caller frees; *len gets its length. */
char *metrics_render(const struct metrics *m, size_t *len);

/* The family declared under this name, or NULL. */
struct metric_family *metrics_find(struct metrics *m, const char *name);

/* Format a sample value the way Prometheus clients do: integral values
 * below 2^53 without exponent or fraction ("3", "-12"), other finite values
 * in the shortest form that reads back to the same double ("0.1",
 * "1.5e-07"), and "+Inf", "-Inf", "NaN". Writes at most len bytes including
 * the NUL; returns the length it needed (as snprintf). Also used for the
 * histogram "le" label. */
int metrics_format_value(double v, char *buf, size_t len);

/* Standard process_* metrics (cpu seconds, resident memory, virtual memory,
 * open fds, max fds, start time) and takt_build_info{version}: declares the
 * families; metrics_process_update() refreshes them from /proc before each
 * render. */
void metrics_process_register(struct metrics *m, const char *version);
void metrics_process_update(struct metrics *m);

#endif
