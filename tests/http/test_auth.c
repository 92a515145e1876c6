/* test_auth.c — auth_check() and auth_sign(): bearer tokens, HMAC
 * signatures, the 300 s window on both sides, and malformed headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/auth.h"

#include <stdio.h>
#include <string.h>

#define NOW  1700000000LL
#define BODY "{\"id\":\"m1\"}"

static struct takt_secret secret(const char *s)
{
        return (struct takt_secret){.value = (char *)s, .len = s ? strlen(s) : 0};
}

/* The signature header for BODY at time t with this secret. */
static const char *sig_for(const char *key, int64_t t, const char *body, char *buf, size_t len)
{
        struct takt_secret s = secret(key);
        assert_int_equal(auth_sign(&s, t, body, strlen(body), buf, len), 0);
        return buf;
}

static void test_sign_format(void **state)
{
        char buf[AUTH_SIGNATURE_MAX];
        struct takt_secret s = secret("key");
        /* HMAC-SHA256("key", "1700000000.{...}") computed independently with
         * `printf '%s' '1700000000.{"id":"m1"}' | openssl dgst -sha256 -hmac key`. */
        assert_int_equal(auth_sign(&s, NOW, BODY, strlen(BODY), buf, sizeof(buf)), 0);
        assert_string_equal(
            buf,
            "t=1700000000,v1=f8291f22920e5037eb0fd53dc41161e256d8b4bbcb449ab0929bbff757a457f9");
        assert_int_equal(auth_sign(&s, NOW, BODY, strlen(BODY), buf, 20), -1);
        struct takt_secret unset = secret(NULL);
        assert_int_equal(auth_sign(&unset, NOW, BODY, strlen(BODY), buf, sizeof(buf)), -1);
}

enum creds { TOKEN_ONLY, HMAC_ONLY, BOTH, NONE };

static void test_check_table(void **state)
{
        char good[AUTH_SIGNATURE_MAX], wrong_key[AUTH_SIGNATURE_MAX], past[AUTH_SIGNATURE_MAX],
            future[AUTH_SIGNATURE_MAX], edge_past[AUTH_SIGNATURE_MAX],
            edge_future[AUTH_SIGNATURE_MAX], other_body[AUTH_SIGNATURE_MAX];
        sig_for("hmac-secret", NOW, BODY, good, sizeof(good));
        sig_for("other-secret", NOW, BODY, wrong_key, sizeof(wrong_key));
        sig_for("hmac-secret", NOW - 301, BODY, past, sizeof(past));
        sig_for("hmac-secret", NOW + 301, BODY, future, sizeof(future));
        sig_for("hmac-secret", NOW - 300, BODY, edge_past, sizeof(edge_past));
        sig_for("hmac-secret", NOW + 300, BODY, edge_future, sizeof(edge_future));
        sig_for("hmac-secret", NOW, "{\"id\":\"m2\"}", other_body, sizeof(other_body));
        const char *v1 = strstr(good, "v1=") + 3;
        char reordered[160], spaced[160], extra[160], two_v1[160], upper[160], dup_t[160],
            short_hex[160], bad_hex[160], no_t[160], no_v1[160], neg_t[160], trailing[160],
            leading_zero[160];
        snprintf(reordered, sizeof(reordered), "v1=%s,t=%lld", v1, NOW);
        snprintf(spaced, sizeof(spaced), "t=%lld, v1=%s", NOW, v1);
        snprintf(extra, sizeof(extra), "t=%lld,v0=abc,v1=%s", NOW, v1);
        snprintf(two_v1, sizeof(two_v1), "t=%lld,v1=%064d,v1=%s", NOW, 0, v1);
        snprintf(upper, sizeof(upper), "t=%lld,v1=%s", NOW, v1);
        for (char *p = strstr(upper, "v1=") + 3; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p = (char)(*p - 'a' + 'A');
        snprintf(dup_t, sizeof(dup_t), "t=%lld,t=%lld,v1=%s", NOW, NOW, v1);
        snprintf(short_hex, sizeof(short_hex), "t=%lld,v1=%.62s", NOW, v1);
        snprintf(bad_hex, sizeof(bad_hex), "t=%lld,v1=%.63sg", NOW, v1);
        snprintf(no_t, sizeof(no_t), "v1=%s", v1);
        snprintf(no_v1, sizeof(no_v1), "t=%lld", NOW);
        snprintf(neg_t, sizeof(neg_t), "t=-%lld,v1=%s", NOW, v1);
        snprintf(trailing, sizeof(trailing), "t=%lld,v1=%s,", NOW, v1);
        snprintf(leading_zero, sizeof(leading_zero), "t=0%lld,v1=%s", NOW, v1);

        const struct {
                const char *name;
                enum creds creds;
                const char *authorization, *signature, *body;
                enum auth_result want;
        } cases[] = {
            {"good token", TOKEN_ONLY, "Bearer s3cret-token", NULL, BODY, AUTH_OK},
            {"scheme is case-insensitive", TOKEN_ONLY, "bearer s3cret-token", NULL, BODY, AUTH_OK},
            {"extra spaces after scheme", TOKEN_ONLY, "Bearer   s3cret-token", NULL, BODY, AUTH_OK},
            {"bad token", TOKEN_ONLY, "Bearer s3cret-tokeN", NULL, BODY, AUTH_BAD},
            {"token prefix only", TOKEN_ONLY, "Bearer s3cret", NULL, BODY, AUTH_BAD},
            {"token longer", TOKEN_ONLY, "Bearer s3cret-token-x", NULL, BODY, AUTH_BAD},
            {"trailing space", TOKEN_ONLY, "Bearer s3cret-token ", NULL, BODY, AUTH_BAD},
            {"empty token", TOKEN_ONLY, "Bearer ", NULL, BODY, AUTH_BAD},
            {"wrong scheme", TOKEN_ONLY, "Basic s3cret-token", NULL, BODY, AUTH_BAD},
            {"no scheme", TOKEN_ONLY, "s3cret-token", NULL, BODY, AUTH_BAD},
            {"scheme without space", TOKEN_ONLY, "Bearers3cret-token", NULL, BODY, AUTH_BAD},
            {"missing", TOKEN_ONLY, NULL, NULL, BODY, AUTH_MISSING},
            {"empty header is missing", TOKEN_ONLY, "", "", BODY, AUTH_MISSING},
            {"signature where only a token is configured", TOKEN_ONLY, NULL, good, BODY, AUTH_BAD},
            {"signature good", HMAC_ONLY, NULL, good, BODY, AUTH_OK},
            {"signature 300 s old", HMAC_ONLY, NULL, edge_past, BODY, AUTH_OK},
            {"signature 300 s ahead", HMAC_ONLY, NULL, edge_future, BODY, AUTH_OK},
            {"signature 301 s old", HMAC_ONLY, NULL, past, BODY, AUTH_BAD},
            {"signature 301 s ahead", HMAC_ONLY, NULL, future, BODY, AUTH_BAD},
            {"wrong secret", HMAC_ONLY, NULL, wrong_key, BODY, AUTH_BAD},
            {"tampered body", HMAC_ONLY, NULL, good, "{\"id\":\"m1\" }", AUTH_BAD},
            {"signature of another body", HMAC_ONLY, NULL, other_body, BODY, AUTH_BAD},
            {"elements reordered", HMAC_ONLY, NULL, reordered, BODY, AUTH_OK},
            {"space after comma", HMAC_ONLY, NULL, spaced, BODY, AUTH_OK},
            {"unknown element ignored", HMAC_ONLY, NULL, extra, BODY, AUTH_OK},
            {"second v1 matches", HMAC_ONLY, NULL, two_v1, BODY, AUTH_OK},
            {"uppercase hex", HMAC_ONLY, NULL, upper, BODY, AUTH_OK},
            {"t sent twice", HMAC_ONLY, NULL, dup_t, BODY, AUTH_BAD},
            {"short hex", HMAC_ONLY, NULL, short_hex, BODY, AUTH_BAD},
            {"non-hex digit", HMAC_ONLY, NULL, bad_hex, BODY, AUTH_BAD},
            {"no t", HMAC_ONLY, NULL, no_t, BODY, AUTH_BAD},
            {"no v1", HMAC_ONLY, NULL, no_v1, BODY, AUTH_BAD},
            {"negative t", HMAC_ONLY, NULL, neg_t, BODY, AUTH_BAD},
            {"trailing comma", HMAC_ONLY, NULL, trailing, BODY, AUTH_BAD},
            {"t with leading zero signs other bytes", HMAC_ONLY, NULL, leading_zero, BODY,
             AUTH_BAD},
            {"garbage", HMAC_ONLY, NULL, "garbage", BODY, AUTH_BAD},
            {"empty value", HMAC_ONLY, NULL, "t=,v1=", BODY, AUTH_BAD},
            {"token where only hmac is configured", HMAC_ONLY, "Bearer s3cret-token", NULL, BODY,
             AUTH_BAD},
            {"both configured, token", BOTH, "Bearer s3cret-token", NULL, BODY, AUTH_OK},
            {"both configured, signature", BOTH, NULL, good, BODY, AUTH_OK},
            {"both configured, bad token good signature", BOTH, "Bearer nope", good, BODY, AUTH_OK},
            {"both configured, both bad", BOTH, "Bearer nope", wrong_key, BODY, AUTH_BAD},
            {"nothing configured", NONE, "Bearer s3cret-token", NULL, BODY, AUTH_BAD},
            {"nothing configured, nothing sent", NONE, NULL, NULL, BODY, AUTH_BAD},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct takt_auth a = {0};
                if (cases[i].creds == TOKEN_ONLY || cases[i].creds == BOTH)
                        a.token = secret("s3cret-token");
                if (cases[i].creds == HMAC_ONLY || cases[i].creds == BOTH)
                        a.hmac_secret = secret("hmac-secret");
                enum auth_result got = auth_check(&a, cases[i].authorization, cases[i].signature,
                                                  cases[i].body, strlen(cases[i].body), NOW);
                if (got != cases[i].want)
                        fail_msg("case '%s': got %s, want %s", cases[i].name, auth_result_name(got),
                                 auth_result_name(cases[i].want));
        }
        assert_int_equal(auth_check(NULL, "Bearer x", NULL, NULL, 0, NOW), AUTH_BAD);
}

static void test_empty_body_signature(void **state)
{
        char sig[AUTH_SIGNATURE_MAX];
        struct takt_secret s = secret("k");
        assert_int_equal(auth_sign(&s, NOW, NULL, 0, sig, sizeof(sig)), 0);
        struct takt_auth a = {.hmac_secret = s};
        assert_int_equal(auth_check(&a, NULL, sig, NULL, 0, NOW), AUTH_OK);
        assert_int_equal(auth_check(&a, NULL, sig, "", 0, NOW), AUTH_OK);
        assert_int_equal(auth_check(&a, NULL, sig, "x", 1, NOW), AUTH_BAD);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sign_format),
            cmocka_unit_test(test_check_table),
            cmocka_unit_test(test_empty_body_signature),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
