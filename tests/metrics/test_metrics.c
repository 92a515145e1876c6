/* test_metrics.c — the metrics registry: value formatting, the exposition
 * byte for byte (each type, escaping, label order, empty families, histogram
 * bucket edges), declaration rules, process metrics, and promtool's verdict
 * on a rendered registry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void test_format_value(void **state)
{
        static const struct {
                double v;
                const char *want;
        } cases[] = {
            {0, "0"},
            {-0.0, "0"},
            {1, "1"},
            {-12, "-12"},
            {1e6, "1000000"},
            {4294967296.0, "4294967296"},
            {0.1, "0.1"},
            {0.0005, "0.0005"},
            {2.5, "2.5"},
            {123.456, "123.456"},
            {1.5e-7, "1.5e-07"},
            {1.0 / 3.0, "0.3333333333333333"},
            {9007199254740992.0, "9007199254740992"},
            {1e17, "1e+17"},
            {1e21, "1e+21"},
            {INFINITY, "+Inf"},
            {-INFINITY, "-Inf"},
            {NAN, "NaN"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char buf[64];
                int n = metrics_format_value(cases[i].v, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].want);
                assert_int_equal(n, strlen(cases[i].want));
        }
}

/* --- exposition cases --------------------------------------------------- */

static void build_counter(struct metrics *m)
{
        struct metric_family *f =
            metrics_family(m, "t_requests_total", "Requests.", METRIC_COUNTER, NULL, NULL, 0);
        struct metric_series *s = metric_series_get(f, NULL);
        metric_inc(s);
        metric_inc(s);
        metric_add(s, 0.5);
        metric_add(s, -3);    /* ignored: counters only go up */
        metric_observe(s, 7); /* ignored: not a histogram */
}

static void build_gauge_labels(struct metrics *m)
{
        static const char *const labels[] = {"destination", "state", NULL};
        struct metric_family *f =
            metrics_family(m, "t_outbox", "Outbox.", METRIC_GAUGE, labels, NULL, 0);
        metrics_set(f, (const char *[]){"s4", "pending"}, 3);
        metrics_set(f, (const char *[]){"mes", "failed"}, -1.25);
        metrics_set(f, (const char *[]){"s4", "pending"}, 4); /* same series */
}

static void build_histogram(struct metrics *m)
{
        static const char *const labels[] = {"destination", NULL};
        static const double buckets[] = {0.1, 1, 10};
        struct metric_family *f = metrics_family(m, "t_latency_seconds", "Latency.",
                                                 METRIC_HISTOGRAM, labels, buckets, 3);
        const char *v[] = {"s4"};
        metrics_observe(f, v, 0.1); /* on the edge: le="0.1" */
        metrics_observe(f, v, 0.5);
        metrics_observe(f, v, 10); /* on the edge: le="10" */
        metrics_observe(f, v, 11); /* only +Inf */
        metrics_inc(f, v);         /* ignored on histograms */
}

static void build_histogram_empty(struct metrics *m)
{
        static const double buckets[] = {0.5, INFINITY}; /* trailing +Inf is implicit */
        metrics_family(m, "t_h", "H.", METRIC_HISTOGRAM, NULL, buckets, 2);
}

static void build_escaping(struct metrics *m)
{
        static const char *const labels[] = {"v", NULL};
        struct metric_family *f = metrics_family(m, "t_esc", "Back\\slash and\nnewline \"q\".",
                                                 METRIC_GAUGE, labels, NULL, 0);
        metrics_set(f, (const char *[]){"a\\b\"c\nd"}, 1);
}

static void build_label_order(struct metrics *m)
{
        static const char *const labels[] = {"zeta", "alpha", "mid", NULL};
        struct metric_family *f =
            metrics_family(m, "t_order", "Order.", METRIC_GAUGE, labels, NULL, 0);
        metrics_set(f, (const char *[]){"z2", "a2", "m2"}, 2);
        metrics_set(f, (const char *[]){"z1", "a1", "m1"}, 1);
}

static void build_empty_families(struct metrics *m)
{
        static const char *const labels[] = {"plant", NULL};
        metrics_family(m, "t_labelled_total", "No series yet.", METRIC_COUNTER, labels, NULL, 0);
        metrics_family(m, "t_plain", "Plain gauge.", METRIC_GAUGE, NULL, NULL, 0);
}

static void build_reset(struct metrics *m)
{
        static const char *const labels[] = {"state", NULL};
        struct metric_family *f =
            metrics_family(m, "t_wo", "Work orders.", METRIC_GAUGE, labels, NULL, 0);
        metrics_set(f, (const char *[]){"released"}, 5);
        metrics_set(f, (const char *[]){"closed"}, 9);
        metric_family_reset(f);
        metrics_set(f, (const char *[]){"closed"}, 10);
}

static void build_null_value(struct metrics *m)
{
        static const char *const labels[] = {"a", "b", NULL};
        struct metric_family *f = metrics_family(m, "t_n", "N.", METRIC_GAUGE, labels, NULL, 0);
        metrics_set(f, (const char *[]){"x", NULL}, 1);
        metrics_set(f, (const char *[]){"x", ""}, 2); /* the same series */
}

static void build_two_families(struct metrics *m)
{
        struct metric_family *b = metrics_family(m, "t_b", "B.", METRIC_GAUGE, NULL, NULL, 0);
        struct metric_family *a = metrics_family(m, "t_a", "A.", METRIC_GAUGE, NULL, NULL, 0);
        metrics_set(a, NULL, 1e-9);
        metrics_set(b, NULL, NAN);
}

static const struct {
        const char *name;
        void (*build)(struct metrics *m);
        const char *want;
} exposition_cases[] = {
    {"counter", build_counter,
     "# HELP t_requests_total Requests.\n"
     "# TYPE t_requests_total counter\n"
     "t_requests_total 2.5\n"},
    {"gauge with labels", build_gauge_labels,
     "# HELP t_outbox Outbox.\n"
     "# TYPE t_outbox gauge\n"
     "t_outbox{destination=\"s4\",state=\"pending\"} 4\n"
     "t_outbox{destination=\"mes\",state=\"failed\"} -1.25\n"},
    {"histogram bucket edges", build_histogram,
     "# HELP t_latency_seconds Latency.\n"
     "# TYPE t_latency_seconds histogram\n"
     "t_latency_seconds_bucket{destination=\"s4\",le=\"0.1\"} 1\n"
     "t_latency_seconds_bucket{destination=\"s4\",le=\"1\"} 2\n"
     "t_latency_seconds_bucket{destination=\"s4\",le=\"10\"} 3\n"
     "t_latency_seconds_bucket{destination=\"s4\",le=\"+Inf\"} 4\n"
     "t_latency_seconds_sum{destination=\"s4\"} 21.6\n"
     "t_latency_seconds_count{destination=\"s4\"} 4\n"},
    {"empty unlabelled histogram", build_histogram_empty,
     "# HELP t_h H.\n"
     "# TYPE t_h histogram\n"
     "t_h_bucket{le=\"0.5\"} 0\n"
     "t_h_bucket{le=\"+Inf\"} 0\n"
     "t_h_sum 0\n"
     "t_h_count 0\n"},
    {"escaping", build_escaping,
     "# HELP t_esc Back\\\\slash and\\nnewline \"q\".\n"
     "# TYPE t_esc gauge\n"
     "t_esc{v=\"a\\\\b\\\"c\\nd\"} 1\n"},
    {"label order is declaration order", build_label_order,
     "# HELP t_order Order.\n"
     "# TYPE t_order gauge\n"
     "t_order{zeta=\"z2\",alpha=\"a2\",mid=\"m2\"} 2\n"
     "t_order{zeta=\"z1\",alpha=\"a1\",mid=\"m1\"} 1\n"},
    {"empty families", build_empty_families,
     "# HELP t_labelled_total No series yet.\n"
     "# TYPE t_labelled_total counter\n"
     "# HELP t_plain Plain gauge.\n"
     "# TYPE t_plain gauge\n"
     "t_plain 0\n"},
    {"family reset", build_reset,
     "# HELP t_wo Work orders.\n"
     "# TYPE t_wo gauge\n"
     "t_wo{state=\"closed\"} 10\n"},
    {"NULL label value reads as empty", build_null_value,
     "# HELP t_n N.\n"
     "# TYPE t_n gauge\n"
     "t_n{a=\"x\",b=\"\"} 2\n"},
    {"declaration order, odd values", build_two_families,
     "# HELP t_b B.\n"
     "# TYPE t_b gauge\n"
     "t_b NaN\n"
     "# HELP t_a A.\n"
     "# TYPE t_a gauge\n"
     "t_a 1e-09\n"},
};

static void test_exposition(void **state)
{
        for (size_t i = 0; i < sizeof(exposition_cases) / sizeof(exposition_cases[0]); i++) {
                struct metrics *m = metrics_new();
                exposition_cases[i].build(m);
                size_t len = 0;
                char *out = metrics_render(m, &len);
                if (strcmp(out, exposition_cases[i].want) != 0)
                        fail_msg("case '%s':\n--- got\n%s--- want\n%s", exposition_cases[i].name,
                                 out, exposition_cases[i].want);
                assert_int_equal(len, strlen(out));
                free(out);
                metrics_free(m);
        }
}

static void test_empty_registry(void **state)
{
        struct metrics *m = metrics_new();
        size_t len = 99;
        char *out = metrics_render(m, &len);
        assert_string_equal(out, "");
        assert_int_equal(len, 0);
        free(out);
        metrics_free(m);
}

/* --- declaration rules -------------------------------------------------- */

static void test_declaration_rules(void **state)
{
        static const char *const ab[] = {"a", "b", NULL};
        static const char *const ba[] = {"b", "a", NULL};
        static const char *const le[] = {"le", NULL};
        static const char *const dup[] = {"a", "a", NULL};
        static const char *const reserved[] = {"__x", NULL};
        static const char *const bad_label[] = {"1a", NULL};
        static const double desc[] = {1, 0.5};
        static const double nan_b[] = {NAN};
        struct metrics *m = metrics_new();

        struct metric_family *f = metrics_family(m, "x_total", "X.", METRIC_COUNTER, ab, NULL, 0);
        assert_non_null(f);
        assert_ptr_equal(metrics_family(m, "x_total", "X.", METRIC_COUNTER, ab, NULL, 0), f);
        assert_ptr_equal(metrics_find(m, "x_total"), f);
        assert_null(metrics_find(m, "nope"));
        assert_null(metrics_family(m, "x_total", "X.", METRIC_GAUGE, ab, NULL, 0));
        assert_null(metrics_family(m, "x_total", "X.", METRIC_COUNTER, ba, NULL, 0));

        static const struct {
                const char *name;
                enum metric_type type;
                const char *const *labels;
                const double *buckets;
                size_t n;
        } invalid[] = {
            {"", METRIC_GAUGE, NULL, NULL, 0},         {"9lives", METRIC_GAUGE, NULL, NULL, 0},
            {"has-dash", METRIC_GAUGE, NULL, NULL, 0}, {"h", METRIC_HISTOGRAM, le, NULL, 0},
            {"g", METRIC_GAUGE, dup, NULL, 0},         {"g", METRIC_GAUGE, reserved, NULL, 0},
            {"g", METRIC_GAUGE, bad_label, NULL, 0},   {"h", METRIC_HISTOGRAM, NULL, desc, 2},
            {"h", METRIC_HISTOGRAM, NULL, nan_b, 1},
        };
        for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
                assert_null(metrics_family(m, invalid[i].name, "bad", invalid[i].type,
                                           invalid[i].labels, invalid[i].buckets, invalid[i].n));
        /* "le" is fine on a gauge; a colon is fine in a metric name. */
        assert_non_null(metrics_family(m, "ns:g", "ok", METRIC_GAUGE, le, NULL, 0));

        /* NULL propagates without effect. */
        assert_null(metrics_family(NULL, "y", "Y.", METRIC_GAUGE, NULL, NULL, 0));
        assert_null(metric_series_get(NULL, NULL));
        assert_null(metric_series_get(f, NULL)); /* labelled family needs values */
        metrics_inc(NULL, NULL);
        metrics_set(NULL, NULL, 1);
        metrics_observe(NULL, NULL, 1);
        metric_family_reset(NULL);
        metric_inc(NULL);
        metrics_process_update(NULL);
        metrics_free(NULL);
        metrics_free(m);
}

/* --- process metrics ---------------------------------------------------- */

static double sample(const char *text, const char *name)
{
        char key[128];
        snprintf(key, sizeof(key), "\n%s ", name);
        const char *p = strstr(text, key);
        assert_non_null(p);
        return strtod(p + strlen(key), NULL);
}

static void test_process_metrics(void **state)
{
        struct metrics *m = metrics_new();
        metrics_process_register(m, "1.2.3");
        metrics_process_update(m);
        char *out = metrics_render(m, NULL);
        assert_non_null(strstr(out, "\ntakt_build_info{version=\"1.2.3\"} 1\n"));
        assert_true(sample(out, "process_cpu_seconds_total") >= 0);
        assert_true(sample(out, "process_resident_memory_bytes") > 1024 * 1024);
        assert_true(sample(out, "process_virtual_memory_bytes") >=
                    sample(out, "process_resident_memory_bytes"));
        assert_true(sample(out, "process_open_fds") >= 3);
        assert_true(sample(out, "process_max_fds") >= sample(out, "process_open_fds"));
        double start = sample(out, "process_start_time_seconds");
        double now = (double)time(NULL);
        assert_true(start > now - 600 && start <= now + 1);
        free(out);

        /* Re-registering keeps one build_info series. */
        metrics_process_register(m, "1.2.4");
        out = metrics_render(m, NULL);
        assert_null(strstr(out, "1.2.3"));
        assert_non_null(strstr(out, "takt_build_info{version=\"1.2.4\"} 1\n"));
        free(out);
        metrics_free(m);
}

/* --- promtool ----------------------------------------------------------- */

static void test_promtool_accepts_exposition(void **state)
{
        const char *promtool = PROMTOOL;
        if (!*promtool || access(promtool, X_OK) != 0)
                fail_msg("promtool not found (apt-get install prometheus): required");

        static const char *const dest[] = {"destination", "result", NULL};
        static const char *const esc[] = {"source", NULL};
        struct metrics *m = metrics_new();
        metrics_process_register(m, "0.1.0");
        struct metric_family *c = metrics_family(m, "takt_delivery_attempts_total", "Attempts.",
                                                 METRIC_COUNTER, dest, NULL, 0);
        metrics_inc(c, (const char *[]){"s4", "ok"});
        metrics_inc(c, (const char *[]){"mes\"de01", "error"});
        struct metric_family *h = metrics_family(
            m, "takt_delivery_duration_seconds", "Delivery duration.\nSecond line \\.",
            METRIC_HISTOGRAM, esc, metrics_latency_buckets, metrics_latency_buckets_count);
        metrics_observe(h, (const char *[]){"a\\b\nc"}, 0.003);
        metrics_observe(h, (const char *[]){"a\\b\nc"}, 100);
        metrics_family(m, "takt_parked_events", "Parked events.", METRIC_GAUGE, NULL, NULL, 0);
        metrics_family(m, "takt_sla_breaches_total", "SLA breaches.", METRIC_COUNTER, esc, NULL, 0);

        char *out = metrics_render(m, NULL);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s check metrics", promtool);
        FILE *p = popen(cmd, "w");
        assert_non_null(p);
        fputs(out, p);
        int status = pclose(p);
        if (status != 0)
                fail_msg("promtool check metrics failed (status %d) on:\n%s", status, out);
        free(out);
        metrics_free(m);
}

/* The main and the delivery loop count into one registry: no increment,
 * observation or new series may be lost to a race. */
#define COUNTING_THREADS 4
#define COUNTS_EACH      50000

static void *count_a_lot(void *arg)
{
        struct metric_family **f = arg;
        const char *labels[COUNTING_THREADS][1] = {{"a"}, {"b"}, {"c"}, {"d"}};
        for (int i = 0; i < COUNTS_EACH; i++) {
                metrics_inc(f[0], NULL);
                metrics_observe(f[1], NULL, 0.001);
                metrics_inc(f[2], labels[i % COUNTING_THREADS]);
        }
        return NULL;
}

static void test_counts_from_threads(void **state)
{
        struct metrics *m = metrics_new();
        const char *label[] = {"who", NULL};
        struct metric_family *f[3] = {
            metrics_family(m, "t_total", "h", METRIC_COUNTER, NULL, NULL, 0),
            metrics_family(m, "t_seconds", "h", METRIC_HISTOGRAM, NULL, metrics_latency_buckets,
                           metrics_latency_buckets_count),
            metrics_family(m, "t_by_total", "h", METRIC_COUNTER, label, NULL, 0),
        };
        pthread_t t[COUNTING_THREADS];
        for (int i = 0; i < COUNTING_THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, count_a_lot, f), 0);
        for (int i = 0; i < COUNTING_THREADS; i++)
                pthread_join(t[i], NULL);
        char *text = metrics_render(m, NULL);
        char want[128];
        snprintf(want, sizeof(want), "\nt_total %d\n", COUNTING_THREADS * COUNTS_EACH);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof(want), "\nt_seconds_count %d\n", COUNTING_THREADS * COUNTS_EACH);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof(want), "t_by_total{who=\"c\"} %d\n", COUNTS_EACH);
        assert_non_null(strstr(text, want));
        free(text);
        metrics_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format_value),
            cmocka_unit_test(test_exposition),
            cmocka_unit_test(test_empty_registry),
            cmocka_unit_test(test_declaration_rules),
            cmocka_unit_test(test_process_metrics),
            cmocka_unit_test(test_promtool_accepts_exposition),
            cmocka_unit_test(test_counts_from_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
