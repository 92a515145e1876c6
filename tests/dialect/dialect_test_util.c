/* dialect_test_util.c — see dialect_test_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "dialect_test_util.h"

const char *test_source_path(char *buf, size_t len, const char *rel)
{
        const char *root = getenv("TAKT_SOURCE_DIR");
        snprintf(buf, len, "%s/%s", root ? root : TAKT_TEST_SOURCE_DIR, rel);
        return buf;
}

struct dialect *test_load_shipped(const char *name)
{
        char rel[256], path[1024], err[512] = "";
        snprintf(rel, sizeof(rel), "conf/dialects/%s.yaml", name);
        struct dialect *d =
            dialect_load(test_source_path(path, sizeof(path), rel), err, sizeof(err));
        if (d == NULL)
                fail_msg("%s", err);
        return d;
}

json_t *test_read_json(const char *path)
{
        json_error_t e;
        json_t *v = json_load_file(path, JSON_DECODE_ANY, &e);
        if (v == NULL)
                print_error("%s:%d: %s\n", path, e.line, e.text);
        return v;
}
