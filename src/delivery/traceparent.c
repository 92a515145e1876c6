/* traceparent.c — the W3C traceparent header of a message, derived from its
 * correlation id (trace id) and outbox id (parent id). */
#include <stdio.h>
#include <string.h>

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
