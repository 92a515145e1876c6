/* auth.h — request authentication (contract §4): a bearer token compared in
 * constant time, or an HMAC-SHA256 signature header
 * "X-Takt-Signature: t=<unix seconds>,v1=<hex HMAC(secret, t + "." + body)>"
 * accepted within AUTH_WINDOW_S seconds either side of now. Pure functions
 * over OpenSSL's primitives: no I/O, no clock (the caller passes now). */
#ifndef TAKT_AUTH_H
#define TAKT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "takt/config.h"

enum auth_result {
        AUTH_OK,      /* a configured credential matched */
        AUTH_MISSING, /* neither Authorization nor X-Takt-Signature was sent */
        AUTH_BAD,     /* something was sent and nothing matched (or malformed) */
};

#define AUTH_WINDOW_S 300
/* Room for auth_sign()'s output: "t=" 20 digits ",v1=" 64 hex digits, NUL. */
#define AUTH_SIGNATURE_MAX 96

/* Check one request against the credentials `a` (a source's, or the admin
 * token with hmac_secret unset). authorization: the Authorization header
 * ("Bearer <token>"; the scheme is case-insensitive) or NULL; signature: the
 * X-Takt-Signature header or NULL; body/len: the raw request body (body may
 * be NULL when len is 0). Either configured credential suffices; a header of
 * a kind that is not configured counts as bad. Without any configured
 * credential (a NULL or empty) everything is AUTH_BAD: callers that serve
 * an endpoint without authentication must not call this.
 *
 * The signature header is comma-separated key=value pairs: exactly one t
 * (decimal digits), one or more v1 (64 hex digits, any case; one matching is
 * enough), other keys ignored, spaces after commas allowed. The HMAC covers
 * the t value exactly as sent. Tokens and HMACs are compared with
 * CRYPTO_memcmp over fixed-length digests, so timing depends on neither
 * the secret's nor the presented token's length. */
enum auth_result auth_check(const struct takt_auth *a, const char *authorization,
                            const char *signature, const void *body, size_t len, int64_t now_s);

/* Write the X-Takt-Signature value for (secret, t, body) into out:
 * "t=<t>,v1=<lowercase hex>". Returns 0, or -1 if out is too small (use
 * AUTH_SIGNATURE_MAX) or secret is unset. */
int auth_sign(const struct takt_secret *secret, int64_t t, const void *body, size_t len, char *out,
              size_t outlen);

const char *auth_result_name(enum auth_result r); /* "ok", "missing", "bad" */

#endif
