/* test_json_text.c — json_text writes exactly what json_dumps(JSON_COMPACT |
 * JSON_ENCODE_ANY) writes, for a table of edge cases and for thousands of
 * random documents; its PostgreSQL-quoted form unquotes to the same text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "takt/json_text.h"

/* Compare with jansson, plain and quoted. */
static void check_same(const json_t *j)
{
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        char *got = json_text(j);
        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);

        struct strbuf b = {0};
        assert_int_equal(json_text_append(&b, j, true), 0);
        /* every '"' and '\\' is escaped; removing the escapes gives the text */
        size_t k = 0;
        for (size_t i = 0; i < b.len; i++) {
                if (b.data[i] == '\\') {
                        i++;
                        assert_true(i < b.len);
                        assert_true(b.data[i] == '"' || b.data[i] == '\\');
                } else {
                        assert_true(b.data[i] != '"');
                }
                assert_int_equal(b.data[i], want[k]);
                k++;
        }
        assert_int_equal(k, strlen(want));
        free(b.data);
        free(got);
        free(want);
}

static void test_table(void **state)
{
        static const char *const docs[] = {
            "{}",
            "[]",
            "null",
            "true",
            "false",
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "\"\"",
            "\"plain ascii\"",
            "\"quote \\\" backslash \\\\ slash / \"",
            "\"\\b\\f\\n\\r\\t \\u0001\\u001f \\u007f\"",
            "\"UTF-8: \\u00e4\\u00f6\\u00fc \\u20ac \\ud83d\\ude00\"",
            "\"nul \\u0000 inside\"",
            "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"\\\"k\\\"\":\"v\"}",
            "[[[[[]]]],{},{\"\":\"\"}]",
            "{\"z\":1,\"a\":2,\"m\":3}",
            "[1.5,-0.25,100.0,0.1,1e300,1e-5,1.7976931348623157e308,5e-324,-0.0,123456789.125]",
        };
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                json_error_t err;
                json_t *j = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
                if (!j)
                        fail_msg("%s: %s", docs[i], err.text);
                check_same(j);
                json_decref(j);
        }
        /* reals built directly, including ones that print as integers
         * (whole numbers below 1e17 take a path without printf) */
        const double reals[] = {
            0.0,    -0.0,   1.0,      2.5e15,   1e16,      1e17,         1e21,
            1e22,   3.0e-7, 1.0 / 3,  DBL_MAX,  DBL_MIN,   42.0,         -1e-300,
            1e+100, -1.0,   -42.0,    123456.0, 1e17 - 16, -(1e17 - 16), 9007199254740993.0,
            0.5,    -0.5,   1e17 + 16};
        for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
                json_t *j = json_real(reals[i]);
                check_same(j);
                json_decref(j);
        }
}

/* ---- random documents ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static json_t *random_string(void)
{
        static const char *const pieces[] = {"a",
                                             "Z",
                                             " ",
                                             "\"",
                                             "\\",
                                             "/",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "\xc3\xa4",
                                             "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80",
                                             "work_order",
                                             "1200.5"};
        char buf[128];
        size_t len = 0;
        size_t n = next() % 8;
        for (size_t i = 0; i < n; i++) {
                const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
                size_t l = strlen(p);
                memcpy(buf + len, p, l);
                len += l;
        }
        if (next() % 10 == 0)
                buf[len++] = '\0'; /* a NUL inside */
        return json_stringn(buf, len);
}

static json_t *random_value(int depth)
{
        switch (next() % (depth > 4 ? 6 : 8)) {
        case 0:
                return json_null();
        case 1:
                return json_boolean(next() % 2);
        case 2:
                return json_integer((json_int_t)next() >> (next() % 64));
        case 3: {
                double d = (double)(int64_t)next() / (double)(1ULL << (next() % 60));
                return json_real(next() % 4 ? d : ldexp(d, (int)(next() % 600) - 300));
        }
        case 4:
        case 5:
                return random_string();
        case 6: {
                json_t *a = json_array();
                for (size_t i = next() % 6; i > 0; i--)
                        json_array_append_new(a, random_value(depth + 1));
                return a;
        }
        default: {
                json_t *o = json_object();
                for (size_t i = next() % 6; i > 0; i--) {
                        json_t *k = random_string();
                        const char *key = json_string_value(k);
                        json_object_set_new(o, *key ? key : "k", random_value(depth + 1));
                        json_decref(k);
                }
                return o;
        }
        }
}

static void test_random_documents(void **state)
{
        for (int i = 0; i < 5000; i++) {
                json_t *j = random_value(0);
                check_same(j);
                json_decref(j);
        }
}

static void test_refuses_null_and_deep_nesting(void **state)
{
        struct strbuf b = {0};
        assert_int_equal(json_text_append(&b, NULL, false), -1);
        json_t *root = json_array(), *cur = root;
        for (int i = 0; i < 10100; i++) {
                json_t *inner = json_array();
                json_array_append_new(cur, inner);
                cur = inner;
        }
        json_t *x = json_string("x");
        assert_int_equal(json_text_append(&b, x, false), 0);
        json_decref(x);
        size_t before = b.len;
        assert_int_equal(json_text_append(&b, root, false), -1);
        assert_int_equal(b.len, before);
        assert_string_equal(b.data, "\"x\"");
        assert_null(json_text(root));
        json_decref(root);
        free(b.data);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table),
            cmocka_unit_test(test_random_documents),
            cmocka_unit_test(test_refuses_null_and_deep_nesting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
