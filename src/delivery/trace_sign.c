/* trace_sign.c — derived header values: the W3C traceparent of a message
 * and the HMAC-SHA256 signature header sent to destinations with an
 * hmac secret. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "policy.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = '\0';
}

/* All-zero ids are invalid in W3C trace context. */
static void not_zero(unsigned char *id, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (id[i] != 0)
                        return;
        id[n - 1] = 1;
}

void traceparent_format(const char *correlation_id, int64_t outbox_id, char *buf, size_t len)
{
        unsigned char trace[SHA256_DIGEST_LENGTH], span[SHA256_DIGEST_LENGTH];
        char span_src[256];
        const char *cid = correlation_id ? correlation_id : "";
        SHA256((const unsigned char *)cid, strlen(cid), trace);
        int n = snprintf(span_src, sizeof(span_src), "%.200s/%lld", cid, (long long)outbox_id);
        SHA256((const unsigned char *)span_src, (size_t)n, span);
        not_zero(trace, 16);
        not_zero(span, 8);
        char trace_hex[33], span_hex[17];
        hex(trace, 16, trace_hex);
        hex(span, 8, span_hex);
        snprintf(buf, len, "00-%s-%s-01", trace_hex, span_hex);
}

void hmac_signature_format(const char *secret, size_t secret_len, int64_t unix_s, const char *body,
                           size_t body_len, char *buf, size_t len)
{
        char t[24];
        int tn = snprintf(t, sizeof(t), "%lld", (long long)unix_s);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                               OSSL_PARAM_construct_end()};
        size_t out_len = 0;
        if (ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, secret_len, params) &&
            EVP_MAC_update(ctx, (const unsigned char *)t, (size_t)tn) &&
            EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
            EVP_MAC_update(ctx, (const unsigned char *)body, body_len) &&
            EVP_MAC_final(ctx, mac, &out_len, sizeof(mac)))
                mac_len = (unsigned int)out_len;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(m);
        char mac_hex[2 * EVP_MAX_MD_SIZE + 1];
        hex(mac, mac_len, mac_hex);
        snprintf(buf, len, "t=%s,v1=%s", t, mac_hex);
}
