/* digest.c — SHA-256 with the algorithm fetched once (see takt/digest.h).
 * The fetched EVP_MD lives until exit: one object, shared by threads. */
#include "takt/digest.h"

#include <pthread.h>

#include <openssl/evp.h>

static EVP_MD *sha256_md; /* owned for the process's life */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

bool takt_sha256(const void *p, size_t n, unsigned char out[TAKT_SHA256_LEN])
{
        pthread_once(&sha256_once, sha256_fetch);
        unsigned int len = 0;
        return sha256_md != NULL && EVP_Digest(p, n, out, &len, sha256_md, NULL) &&
               len == TAKT_SHA256_LEN;
}
