/* auth.c — bearer tokens and X-Takt-Signature HMACs (see takt/auth.h).
 * Pure: OpenSSL's HMAC and digest primitives, no I/O, no clock. Every secret
 * comparison is CRYPTO_memcmp over two SHA-256-sized values, never over the
 * raw strings, so neither length nor content leaks through timing. */
#include "takt/auth.h"

#include "takt/digest.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DIGEST_LEN TAKT_SHA256_LEN

static bool secret_set(const struct takt_secret *s)
{
        return s && s->value && s->len > 0;
}

/* HMAC-SHA256(key, part1 || part2 || part3) into out[DIGEST_LEN]. */
static bool hmac3(const void *key, size_t keylen, const void *p1, size_t l1, const void *p2,
                  size_t l2, const void *p3, size_t l3, unsigned char out[DIGEST_LEN])
{
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end(),
        };
        size_t outl = 0;
        bool ok = ctx && EVP_MAC_init(ctx, key, keylen, params) && EVP_MAC_update(ctx, p1, l1) &&
                  EVP_MAC_update(ctx, p2, l2) && (l3 == 0 || EVP_MAC_update(ctx, p3, l3)) &&
                  EVP_MAC_final(ctx, out, &outl, DIGEST_LEN) && outl == DIGEST_LEN;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        return ok;
}

/* "Bearer <token>" (scheme case-insensitive, one or more spaces) against
 * the configured token, comparing SHA-256 digests in constant time. */
static bool bearer_ok(const struct takt_secret *token, const char *authorization)
{
        static const char scheme[] = "bearer ";
        if (strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
                return false;
        const char *presented = authorization + sizeof(scheme) - 1;
        while (*presented == ' ')
                presented++;
        if (!*presented)
                return false;
        unsigned char want[DIGEST_LEN], got[DIGEST_LEN];
        if (!takt_sha256(token->value, token->len, want) ||
            !takt_sha256(presented, strlen(presented), got))
                return false;
        return CRYPTO_memcmp(want, got, DIGEST_LEN) == 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decode exactly 2*DIGEST_LEN hex digits. */
static bool unhex(const char *s, size_t n, unsigned char out[DIGEST_LEN])
{
        if (n != 2 * DIGEST_LEN)
                return false;
        for (size_t i = 0; i < DIGEST_LEN; i++) {
                int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return true;
}

/* A parsed X-Takt-Signature header: pointers into the header string. */
#define MAX_V1 4
struct signature {
        const char *t;
        size_t t_len;
        int64_t t_value;
        unsigned char v1[MAX_V1][DIGEST_LEN];
        size_t n_v1;
};

static bool parse_t(const char *s, size_t n, struct signature *sig)
{
        if (sig->t || n == 0 || n > 18)
                return false;
        int64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        sig->t = s;
        sig->t_len = n;
        sig->t_value = v;
        return true;
}

/* One "key=value" element; unknown keys are ignored. */
static bool parse_element(const char *s, size_t n, struct signature *sig)
{
        const char *eq = memchr(s, '=', n);
        if (!eq || eq == s)
                return false;
        size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
        if (klen == 1 && s[0] == 't')
                return parse_t(eq + 1, vlen, sig);
        if (klen == 2 && memcmp(s, "v1", 2) == 0) {
                if (sig->n_v1 == MAX_V1 || !unhex(eq + 1, vlen, sig->v1[sig->n_v1]))
                        return false;
                sig->n_v1++;
        }
        return true;
}

static bool parse_signature(const char *h, struct signature *sig)
{
        memset(sig, 0, sizeof(*sig));
        const char *p = h;
        for (;;) {
                while (*p == ' ')
                        p++;
                size_t n = strcspn(p, ",");
                if (!parse_element(p, n, sig))
                        return false;
                if (p[n] == '\0')
                        break;
                p += n + 1;
        }
        return sig->t && sig->n_v1 > 0;
}

static bool signature_ok(const struct takt_secret *secret, const char *header, const void *body,
                         size_t len, int64_t now_s)
{
        struct signature sig;
        if (!parse_signature(header, &sig))
                return false;
        if (sig.t_value < now_s - AUTH_WINDOW_S || sig.t_value > now_s + AUTH_WINDOW_S)
                return false;
        unsigned char want[DIGEST_LEN];
        if (!hmac3(secret->value, secret->len, sig.t, sig.t_len, ".", 1, body, len, want))
                return false;
        bool ok = false;
        for (size_t i = 0; i < sig.n_v1; i++)
                ok |= CRYPTO_memcmp(want, sig.v1[i], DIGEST_LEN) == 0;
        return ok;
}

enum auth_result auth_check(const struct takt_auth *a, const char *authorization,
                            const char *signature, const void *body, size_t len, int64_t now_s)
{
        bool has_auth = authorization && *authorization;
        bool has_sig = signature && *signature;
        bool token = a && secret_set(&a->token);
        bool hmac = a && secret_set(&a->hmac_secret);
        if (!token && !hmac)
                return AUTH_BAD;
        if (!has_auth && !has_sig)
                return AUTH_MISSING;
        if (token && has_auth && bearer_ok(&a->token, authorization))
                return AUTH_OK;
        if (hmac && has_sig &&
            signature_ok(&a->hmac_secret, signature, body ? body : "", body ? len : 0, now_s))
                return AUTH_OK;
        return AUTH_BAD;
}

int auth_sign(const struct takt_secret *secret, int64_t t, const void *body, size_t len, char *out,
              size_t outlen)
{
        if (!secret_set(secret) || !out)
                return -1;
        char ts[24];
        int tn = snprintf(ts, sizeof(ts), "%lld", (long long)t);
        unsigned char mac[DIGEST_LEN];
        if (tn <= 0 || !hmac3(secret->value, secret->len, ts, (size_t)tn, ".", 1, body ? body : "",
                              body ? len : 0, mac))
                return -1;
        static const char hex[] = "0123456789abcdef";
        char v1[2 * DIGEST_LEN + 1];
        for (size_t i = 0; i < DIGEST_LEN; i++) {
                v1[2 * i] = hex[mac[i] >> 4];
                v1[2 * i + 1] = hex[mac[i] & 15];
        }
        v1[2 * DIGEST_LEN] = '\0';
        int n = snprintf(out, outlen, "t=%s,v1=%s", ts, v1);
        return n > 0 && (size_t)n < outlen ? 0 : -1;
}

const char *auth_result_name(enum auth_result r)
{
        switch (r) {
        case AUTH_OK:
                return "ok";
        case AUTH_MISSING:
                return "missing";
        case AUTH_BAD:
                return "bad";
        }
        return "bad";
}
