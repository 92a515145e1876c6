/* metrics.c — the metrics registry (see takt/metrics.h): families, series,
 * their values, and rendering in the Prometheus text exposition format
 * 0.0.4. The process_* families live in metrics_process.c, on the public
 * API only.
 *
 * Series are kept in a growable array per family and found by a linear scan
 * of their label values: label sets are bounded by design (plants, sources,
 * destinations, states), so a family holds tens of series, not thousands.
 * Histogram series keep per-bucket (non-cumulative) counts; rendering sums
 * them into the cumulative le buckets.
 *
 * Thread safety: the main loop and the delivery loop both count, so every
 * public function takes the registry's mutex (uncontended: tens of ns). A
 * series pointer stays valid until its family is reset; a family is reset
 * only by the one thread that writes it (a gauge refreshed from a query). */
#include "takt/metrics.h"

#include "takt/log.h"
#include "takt/strbuf.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metric_series {
        struct metric_family *family; /* back pointer, not owned */
        char **label_values;          /* owned, family->n_labels strings */
        double value;                 /* counter, gauge */
        uint64_t *bucket_counts;      /* owned, histogram: n_buckets + 1 (+Inf) */
        double sum;                   /* histogram */
        uint64_t count;               /* histogram */
};

struct metric_family {
        struct metrics *registry; /* back pointer, not owned: its lock */
        char *name;               /* owned */
        char *help;               /* owned */
        enum metric_type type;
        char **label_names; /* owned, n_labels strings */
        size_t n_labels;
        double *buckets; /* owned, n_buckets ascending finite bounds */
        size_t n_buckets;
        struct metric_series **series; /* owned, in creation order */
        size_t n_series, cap_series;
};

struct metrics {
        pthread_mutex_t lock;            /* guards everything below and every family's series */
        struct metric_family **families; /* owned, in declaration order */
        size_t n_families, cap_families;
};

const double metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
const size_t metrics_latency_buckets_count =
    sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

/* --- small helpers ------------------------------------------------------ */

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                abort();
        return p;
}

static char *xstrdup(const char *s)
{
        char *d = strdup(s ? s : "");
        if (!d)
                abort();
        return d;
}

/* Grow *arr (of pointers) so that one more fits. */
static void grow(void ***arr, size_t n, size_t *cap)
{
        if (n < *cap)
                return;
        size_t ncap = *cap ? *cap * 2 : 8;
        void **p = realloc(*arr, ncap * sizeof(*p));
        if (!p)
                abort();
        *arr = p;
        *cap = ncap;
}

static void free_strv(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon allowed), same without
 * colons for label names. */
static bool valid_name(const char *s, bool colon)
{
        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                             (colon && c == ':');
                bool digit = c >= '0' && c <= '9';
                if (!alpha && !(digit && p != s))
                        return false;
        }
        return true;
}

static size_t strv_count(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* --- registry ----------------------------------------------------------- */

struct metrics *metrics_new(void)
{
        struct metrics *m = xcalloc(1, sizeof(struct metrics));
        pthread_mutex_init(&m->lock, NULL);
        return m;
}

static void lock(struct metrics *m)
{
        pthread_mutex_lock(&m->lock);
}

static void unlock(struct metrics *m)
{
        pthread_mutex_unlock(&m->lock);
}

static void series_free(struct metric_series *s)
{
        free_strv(s->label_values, s->family->n_labels);
        free(s->bucket_counts);
        free(s);
}

static void family_free(struct metric_family *f)
{
        for (size_t i = 0; i < f->n_series; i++)
                series_free(f->series[i]);
        free(f->series);
        free(f->name);
        free(f->help);
        free_strv(f->label_names, f->n_labels);
        free(f->buckets);
        free(f);
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_families; i++)
                family_free(m->families[i]);
        free(m->families);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

static struct metric_family *find_locked(struct metrics *m, const char *name)
{
        for (size_t i = 0; i < m->n_families; i++)
                if (strcmp(m->families[i]->name, name) == 0)
                        return m->families[i];
        return NULL;
}

struct metric_family *metrics_find(struct metrics *m, const char *name)
{
        if (!m || !name)
                return NULL;
        lock(m);
        struct metric_family *f = find_locked(m, name);
        unlock(m);
        return f;
}

static struct metric_series *series_new(struct metric_family *f, const char *const *values)
{
        struct metric_series *s = xcalloc(1, sizeof(*s));
        s->family = f;
        s->label_values = xcalloc(f->n_labels, sizeof(char *));
        for (size_t i = 0; i < f->n_labels; i++)
                s->label_values[i] = xstrdup(values ? values[i] : "");
        if (f->type == METRIC_HISTOGRAM)
                s->bucket_counts = xcalloc(f->n_buckets + 1, sizeof(uint64_t));
        grow((void ***)&f->series, f->n_series, &f->cap_series);
        f->series[f->n_series++] = s;
        return s;
}

/* Validate the bucket list: finite, strictly ascending; a trailing +Inf is
 * dropped (it is implicit). Returns the number of bounds to keep, or
 * (size_t)-1 when invalid. */
static size_t check_buckets(const double *b, size_t n)
{
        if (n && isinf(b[n - 1]) && b[n - 1] > 0)
                n--;
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(b[i]) || (i && b[i] <= b[i - 1]))
                        return (size_t)-1;
        }
        return n;
}

/* Does the earlier declaration f match this one? */
static bool same_declaration(const struct metric_family *f, enum metric_type type,
                             const char *const *label_names, size_t n_labels, const double *buckets,
                             size_t n_buckets)
{
        if (f->type != type || f->n_labels != n_labels || f->n_buckets != n_buckets)
                return false;
        for (size_t i = 0; i < n_labels; i++)
                if (strcmp(f->label_names[i], label_names[i]) != 0)
                        return false;
        for (size_t i = 0; i < n_buckets; i++)
                if (f->buckets[i] != buckets[i])
                        return false;
        return true;
}

static bool valid_labels(const char *const *label_names, size_t n, enum metric_type type)
{
        for (size_t i = 0; i < n; i++) {
                if (!valid_name(label_names[i], false) || strncmp(label_names[i], "__", 2) == 0)
                        return false;
                if (type == METRIC_HISTOGRAM && strcmp(label_names[i], "le") == 0)
                        return false;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(label_names[i], label_names[j]) == 0)
                                return false;
        }
        return true;
}

struct metric_family *metrics_family(struct metrics *m, const char *name, const char *help,
                                     enum metric_type type, const char *const *label_names,
                                     const double *buckets, size_t n_buckets)
{
        if (!m)
                return NULL;
        size_t n_labels = strv_count(label_names);
        if (type != METRIC_HISTOGRAM) {
                buckets = NULL;
                n_buckets = 0;
        }
        n_buckets = buckets ? check_buckets(buckets, n_buckets) : 0;
        if (!valid_name(name, true) || n_buckets == (size_t)-1 ||
            !valid_labels(label_names, n_labels, type)) {
                log_error("metrics.invalid_family", "name=%s", name ? name : "(null)");
                return NULL;
        }
        lock(m);
        struct metric_family *f = find_locked(m, name);
        if (f) {
                bool same = same_declaration(f, type, label_names, n_labels, buckets, n_buckets);
                unlock(m);
                if (same)
                        return f;
                log_error("metrics.conflicting_family", "name=%s", name);
                return NULL;
        }
        f = xcalloc(1, sizeof(*f));
        f->registry = m;
        f->name = xstrdup(name);
        f->help = xstrdup(help);
        f->type = type;
        f->n_labels = n_labels;
        f->label_names = xcalloc(n_labels, sizeof(char *));
        for (size_t i = 0; i < n_labels; i++)
                f->label_names[i] = xstrdup(label_names[i]);
        f->n_buckets = n_buckets;
        f->buckets = xcalloc(n_buckets, sizeof(double));
        if (n_buckets)
                memcpy(f->buckets, buckets, n_buckets * sizeof(double));
        if (n_labels == 0)
                series_new(f, NULL);
        grow((void ***)&m->families, m->n_families, &m->cap_families);
        m->families[m->n_families++] = f;
        unlock(m);
        return f;
}

static struct metric_series *series_get_locked(struct metric_family *f,
                                               const char *const *label_values)
{
        for (size_t i = 0; i < f->n_series; i++) {
                struct metric_series *s = f->series[i];
                size_t k = 0;
                while (k < f->n_labels &&
                       strcmp(s->label_values[k], label_values[k] ? label_values[k] : "") == 0)
                        k++;
                if (k == f->n_labels)
                        return s;
        }
        return series_new(f, label_values);
}

struct metric_series *metric_series_get(struct metric_family *f, const char *const *label_values)
{
        if (!f || (f->n_labels && !label_values))
                return NULL;
        lock(f->registry);
        struct metric_series *s = series_get_locked(f, label_values);
        unlock(f->registry);
        return s;
}

void metric_family_reset(struct metric_family *f)
{
        if (!f)
                return;
        lock(f->registry);
        for (size_t i = 0; i < f->n_series; i++)
                series_free(f->series[i]);
        f->n_series = 0;
        if (f->n_labels == 0)
                series_new(f, NULL);
        unlock(f->registry);
}

/* --- values ------------------------------------------------------------- */

void metric_add(struct metric_series *s, double v)
{
        if (!s || s->family->type == METRIC_HISTOGRAM)
                return;
        if (s->family->type == METRIC_COUNTER && !(v >= 0))
                return;
        lock(s->family->registry);
        s->value += v;
        unlock(s->family->registry);
}

void metric_inc(struct metric_series *s)
{
        metric_add(s, 1);
}

void metric_set(struct metric_series *s, double v)
{
        if (!s || s->family->type == METRIC_HISTOGRAM)
                return;
        lock(s->family->registry);
        s->value = v;
        unlock(s->family->registry);
}

void metric_observe(struct metric_series *s, double v)
{
        if (!s || s->family->type != METRIC_HISTOGRAM)
                return;
        const struct metric_family *f = s->family;
        size_t i = 0;
        while (i < f->n_buckets && !(v <= f->buckets[i]))
                i++;
        lock(f->registry);
        s->bucket_counts[i]++;
        s->sum += v;
        s->count++;
        unlock(f->registry);
}

void metrics_inc(struct metric_family *f, const char *const *label_values)
{
        metric_inc(metric_series_get(f, label_values));
}

void metrics_set(struct metric_family *f, const char *const *label_values, double v)
{
        metric_set(metric_series_get(f, label_values), v);
}

void metrics_observe(struct metric_family *f, const char *const *label_values, double v)
{
        metric_observe(metric_series_get(f, label_values), v);
}

/* --- rendering ---------------------------------------------------------- */

int metrics_format_value(double v, char *buf, size_t len)
{
        if (isnan(v))
                return snprintf(buf, len, "NaN");
        if (isinf(v))
                return snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
        if (v == 0)
                return snprintf(buf, len, "0");                /* also -0 */
        if (v == nearbyint(v) && fabs(v) < 9007199254740992.0) /* 2^53 */
                return snprintf(buf, len, "%.0f", v);
        /* Shortest %.Ng that reads back to the same double. */
        char tmp[40];
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
                if (strtod(tmp, NULL) == v)
                        break;
        }
        return snprintf(buf, len, "%s", tmp);
}

static void sb_puts(struct strbuf *b, const char *s)
{
        strbuf_add(b, s, strlen(s));
}

static void sb_value(struct strbuf *b, double v)
{
        char tmp[48];
        metrics_format_value(v, tmp, sizeof(tmp));
        sb_puts(b, tmp);
}

static void sb_u64(struct strbuf *b, uint64_t v)
{
        char tmp[24];
        snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
        sb_puts(b, tmp);
}

/* Escape backslash and newline (HELP), plus double quote for label values. */
static void sb_escaped(struct strbuf *b, const char *s, bool quote)
{
        for (; *s; s++) {
                if (*s == '\\')
                        sb_puts(b, "\\\\");
                else if (*s == '\n')
                        sb_puts(b, "\\n");
                else if (quote && *s == '"')
                        sb_puts(b, "\\\"");
                else
                        strbuf_add(b, s, 1);
        }
}

/* name{a="x",b="y",le="0.5"} — le may be NULL; no braces without labels. */
static void sb_sample_name(struct strbuf *b, const struct metric_series *s, const char *suffix,
                           const char *le)
{
        const struct metric_family *f = s->family;
        sb_puts(b, f->name);
        sb_puts(b, suffix);
        if (f->n_labels == 0 && !le)
                return;
        sb_puts(b, "{");
        for (size_t i = 0; i < f->n_labels; i++) {
                if (i)
                        sb_puts(b, ",");
                sb_puts(b, f->label_names[i]);
                sb_puts(b, "=\"");
                sb_escaped(b, s->label_values[i], true);
                sb_puts(b, "\"");
        }
        if (le) {
                sb_puts(b, f->n_labels ? ",le=\"" : "le=\"");
                sb_puts(b, le);
                sb_puts(b, "\"");
        }
        sb_puts(b, "}");
}

static void render_histogram(struct strbuf *b, const struct metric_series *s)
{
        const struct metric_family *f = s->family;
        uint64_t cumulative = 0;
        char le[48];
        for (size_t i = 0; i <= f->n_buckets; i++) {
                cumulative += s->bucket_counts[i];
                if (i < f->n_buckets)
                        metrics_format_value(f->buckets[i], le, sizeof(le));
                else
                        snprintf(le, sizeof(le), "+Inf");
                sb_sample_name(b, s, "_bucket", le);
                sb_puts(b, " ");
                sb_u64(b, cumulative);
                sb_puts(b, "\n");
        }
        sb_sample_name(b, s, "_sum", NULL);
        sb_puts(b, " ");
        sb_value(b, s->sum);
        sb_puts(b, "\n");
        sb_sample_name(b, s, "_count", NULL);
        sb_puts(b, " ");
        sb_u64(b, s->count);
        sb_puts(b, "\n");
}

static const char *type_name(enum metric_type t)
{
        switch (t) {
        case METRIC_COUNTER:
                return "counter";
        case METRIC_GAUGE:
                return "gauge";
        case METRIC_HISTOGRAM:
                return "histogram";
        }
        return "untyped";
}

static void render_family(struct strbuf *b, const struct metric_family *f)
{
        sb_puts(b, "# HELP ");
        sb_puts(b, f->name);
        sb_puts(b, " ");
        sb_escaped(b, f->help, false);
        sb_puts(b, "\n# TYPE ");
        sb_puts(b, f->name);
        sb_puts(b, " ");
        sb_puts(b, type_name(f->type));
        sb_puts(b, "\n");
        for (size_t i = 0; i < f->n_series; i++) {
                const struct metric_series *s = f->series[i];
                if (f->type == METRIC_HISTOGRAM) {
                        render_histogram(b, s);
                        continue;
                }
                sb_sample_name(b, s, "", NULL);
                sb_puts(b, " ");
                sb_value(b, s->value);
                sb_puts(b, "\n");
        }
}

char *metrics_render(const struct metrics *m, size_t *len)
{
        struct strbuf b = {0};
        strbuf_reserve(&b, 0);
        b.data[0] = '\0';
        if (m) {
                /* the lock is not part of the registry's value */
                struct metrics *locked = (struct metrics *)m;
                lock(locked);
                for (size_t i = 0; i < m->n_families; i++)
                        render_family(&b, m->families[i]);
                unlock(locked);
        }
        if (len)
                *len = b.len;
        return b.data;
}
