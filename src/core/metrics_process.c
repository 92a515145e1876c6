/* metrics_process.c — the standard process_* families and takt_build_info
 * (see takt/metrics.h), refreshed from /proc/self/stat, /proc/stat (boot
 * time), /proc/self/fd and getrlimit(RLIMIT_NOFILE), with the same names and
 * meanings as the official Prometheus clients. Reading these small procfs
 * files does not block on anything but the kernel, so it runs on the loop
 * right before a render. A file that cannot be read leaves its metrics at
 * their last value. */
#include "takt/metrics.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *const build_info_labels[] = {"version", NULL};

void metrics_process_register(struct metrics *m, const char *version)
{
        metrics_family(m, "process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", METRIC_COUNTER, NULL,
                       NULL, 0);
        metrics_family(m, "process_resident_memory_bytes", "Resident memory size in bytes.",
                       METRIC_GAUGE, NULL, NULL, 0);
        metrics_family(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       METRIC_GAUGE, NULL, NULL, 0);
        metrics_family(m, "process_open_fds", "Number of open file descriptors.", METRIC_GAUGE,
                       NULL, NULL, 0);
        metrics_family(m, "process_max_fds", "Maximum number of open file descriptors.",
                       METRIC_GAUGE, NULL, NULL, 0);
        metrics_family(m, "process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", METRIC_GAUGE, NULL,
                       NULL, 0);
        struct metric_family *bi =
            metrics_family(m, "takt_build_info", "takt build information; always 1.", METRIC_GAUGE,
                           build_info_labels, NULL, 0);
        const char *values[] = {version ? version : "unknown"};
        metric_family_reset(bi);
        metrics_set(bi, values, 1);
        metrics_process_update(m);
}

/* Set the unlabelled family `name` to v (no-op when not registered). */
static void set_plain(struct metrics *m, const char *name, double v)
{
        metric_set(metric_series_get(metrics_find(m, name), NULL), v);
}

/* Read a small procfs file into buf (NUL-terminated). */
static bool read_small_file(const char *path, char *buf, size_t len)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        size_t n = fread(buf, 1, len - 1, f);
        fclose(f);
        buf[n] = '\0';
        return n > 0;
}

/* Seconds since the epoch at boot ("btime" in /proc/stat), or -1. */
static double boot_time(void)
{
        char buf[16384];
        if (!read_small_file("/proc/stat", buf, sizeof(buf)))
                return -1;
        const char *p = strstr(buf, "\nbtime ");
        return p ? strtod(p + 7, NULL) : -1;
}

/* Fields of /proc/self/stat after the ")" that ends comm: field 3 (state)
 * is index 0, so utime (14) is 11, stime 12, starttime (22) 19, vsize 20,
 * rss 21. */
static void update_from_stat(struct metrics *m)
{
        char buf[4096];
        if (!read_small_file("/proc/self/stat", buf, sizeof(buf)))
                return;
        const char *p = strrchr(buf, ')');
        if (!p)
                return;
        double field[22] = {0};
        p += 2; /* ") " */
        for (int i = 0; i < 22 && *p; i++) {
                char *end;
                field[i] = i == 0 ? 0 : strtod(p, &end);
                if (i != 0 && end == p)
                        return;
                p = strchr(p, ' ');
                if (!p)
                        break;
                p++;
        }
        double ticks = (double)sysconf(_SC_CLK_TCK);
        double page = (double)sysconf(_SC_PAGESIZE);
        set_plain(m, "process_cpu_seconds_total", (field[11] + field[12]) / ticks);
        set_plain(m, "process_virtual_memory_bytes", field[20]);
        set_plain(m, "process_resident_memory_bytes", field[21] * page);
        double btime = boot_time();
        if (btime >= 0)
                set_plain(m, "process_start_time_seconds", btime + field[19] / ticks);
}

static void update_fds(struct metrics *m)
{
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                int own = dirfd(d);
                double n = 0;
                const struct dirent *e;
                while ((e = readdir(d)) != NULL) {
                        if (e->d_name[0] != '.' && atoi(e->d_name) != own)
                                n++;
                }
                closedir(d);
                set_plain(m, "process_open_fds", n);
        }
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                set_plain(m, "process_max_fds",
                          rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
}

void metrics_process_update(struct metrics *m)
{
        if (!m)
                return;
        update_from_stat(m);
        update_fds(m);
}
