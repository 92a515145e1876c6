/* bench_dialect.c — how fast a compiled mapping runs. On one core, in the
 * same run, it times (a) plain jansson: parse the S/4 production order text
 * and dump it again, and (b) the same parse, the sap-s4 inbound mapping to a
 * canonical work_order.released, and a dump of the result. It prints both
 * rates in messages per second and their ratio (b/a): the cost of mapping
 * relative to just handling the JSON.
 *
 * Usage: bench-dialect [mapping.yaml] [message.json] [iterations]
 * (defaults: conf/dialects/sap-s4.yaml, the in-release-wrapped golden input,
 * 200000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "takt/dialect.h"

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file as a NUL-terminated string (caller frees), or NULL. */
static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (f == NULL)
                return NULL;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        if (buf != NULL) {
                buf[n] = '\0';
                *len = (size_t)n;
        }
        return buf;
}

/* One message: parse, optionally map, dump. Returns the dump length
 * (consumed so the work cannot be optimised away), 0 on failure. */
static size_t one(const char *text, size_t len, const struct dialect *d)
{
        json_t *msg = json_loadb(text, len, 0, NULL);
        if (msg == NULL)
                return 0;
        json_t *out = msg;
        if (d != NULL) {
                struct canon_errors errs = {0};
                out = dialect_inbound(d, msg, "", &errs);
                json_decref(msg);
                if (out == NULL)
                        return 0;
        }
        char *dump = json_dumps(out, JSON_COMPACT);
        size_t n = dump ? strlen(dump) : 0;
        free(dump);
        json_decref(out);
        return n;
}

static double rate(const char *text, size_t len, const struct dialect *d, long iterations,
                   size_t *sink)
{
        double t0 = now_s();
        for (long i = 0; i < iterations; i++)
                *sink += one(text, len, d);
        return (double)iterations / (now_s() - t0);
}

int main(int argc, char **argv)
{
        const char *yaml = argc > 1 ? argv[1] : TAKT_BENCH_SOURCE_DIR "/conf/dialects/sap-s4.yaml";
        const char *msg = argc > 2 ? argv[2]
                                   : TAKT_BENCH_SOURCE_DIR
                              "/tests/dialect/golden/sap-s4/in-release-wrapped.in.json";
        long iterations = argc > 3 ? atol(argv[3]) : 200000;
        char err[512];
        struct dialect *d = dialect_load(yaml, err, sizeof(err));
        if (d == NULL) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        size_t len, sink = 0;
        char *text = slurp(msg, &len);
        if (text == NULL || one(text, len, d) == 0) {
                fprintf(stderr, "%s: cannot read or map the message\n", msg);
                return 1;
        }
        rate(text, len, d, iterations / 10 + 1, &sink); /* warm-up */
        double plain = rate(text, len, NULL, iterations, &sink);
        double mapped = rate(text, len, d, iterations, &sink);
        printf("message: %s (%zu bytes), %ld iterations, one core\n", msg, len, iterations);
        printf("jansson parse+dump:          %12.0f msgs/s\n", plain);
        printf("parse+sap-s4 inbound+dump:   %12.0f msgs/s\n", mapped);
        printf("ratio (mapped / plain):      %12.2f\n", mapped / plain);
        fprintf(stderr, "(checksum %zu)\n", sink);
        free(text);
        dialect_free(d);
        return 0;
}
