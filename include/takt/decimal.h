/* decimal.h — decimal text of integers without printf, for the hot paths
 * (JSON numbers, PostgreSQL array elements, timestamps, JSON Pointers):
 * snprintf costs ~1,000 instructions a number, these a few dozen. */
#ifndef TAKT_DECIMAL_H
#define TAKT_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DECIMAL_INT64_SIZE 21 /* "-9223372036854775808" and a NUL */

/* v in decimal, NUL-terminated; returns its length. */
static inline size_t decimal_int64(char out[DECIMAL_INT64_SIZE], int64_t v)
{
        char digits[20];
        size_t i = sizeof(digits);
        /* negate as unsigned: INT64_MIN has no positive counterpart */
        uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        do {
                digits[--i] = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        size_t n = 0;
        if (v < 0)
                out[n++] = '-';
        memcpy(out + n, digits + i, sizeof(digits) - i);
        n += sizeof(digits) - i;
        out[n] = '\0';
        return n;
}

/* The last `width` digits of v, zero-padded on the left; no NUL. */
static inline void decimal_fixed(char *out, unsigned v, int width)
{
        for (int i = width - 1; i >= 0; i--) {
                out[i] = (char)('0' + v % 10);
                v /= 10;
        }
}

#endif
