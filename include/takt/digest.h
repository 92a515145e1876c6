/* digest.h — SHA-256 over a buffer, with OpenSSL's implementation fetched
 * once per process. OpenSSL 3 looks an algorithm up by name on every
 * SHA256() or EVP_sha256() call: that lookup was half the cost of a short
 * digest (callgrind: ~4,500 instructions for 40 bytes, now about half).
 * Thread-safe. */
#ifndef TAKT_DIGEST_H
#define TAKT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define TAKT_SHA256_LEN 32

/* false only when OpenSSL fails (out is then unspecified). */
bool takt_sha256(const void *p, size_t n, unsigned char out[TAKT_SHA256_LEN]);

#endif
