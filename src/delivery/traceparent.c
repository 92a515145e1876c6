/* traceparent.c — the W3C traceparent header of a message, derived from its
 * correlation id (trace id) and outbox id (parent id). */
#include <string.h>

#include "policy.h"
#include "takt/decimal.h"
#include "takt/digest.h"

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

/* SHA-256, or zeros if OpenSSL fails (not_zero then keeps the ids valid). */
static void sha256(const void *p, size_t n, unsigned char out[TAKT_SHA256_LEN])
{
        if (!takt_sha256(p, n, out))
                memset(out, 0, TAKT_SHA256_LEN);
}

void traceparent_format(const char *correlation_id, int64_t outbox_id, char *buf, size_t len)
{
        unsigned char trace[TAKT_SHA256_LEN], span[TAKT_SHA256_LEN];
        const char *cid = correlation_id ? correlation_id : "";
        size_t cid_len = strlen(cid);
        sha256(cid, cid_len, trace);
        char span_src[200 + 1 + DECIMAL_INT64_SIZE];
        size_t n = cid_len < 200 ? cid_len : 200;
        memcpy(span_src, cid, n);
        span_src[n++] = '/';
        n += decimal_int64(span_src + n, outbox_id);
        sha256(span_src, n, span);
        not_zero(trace, 16);
        not_zero(span, 8);
        if (len < TRACEPARENT_SIZE) {
                if (len > 0)
                        buf[0] = '\0';
                return;
        }
        memcpy(buf, "00-", 3);
        hex(trace, 16, buf + 3);
        buf[35] = '-';
        hex(span, 8, buf + 36);
        memcpy(buf + 52, "-01", 4);
}
