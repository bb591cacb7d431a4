/*
 * crc64.c — table-driven reflected CRC-64 (see crc64.h).
 *
 * Slicing by 8: eight tables, where table k maps a byte to the CRC of that
 * byte followed by k zero bytes. Eight input bytes then fold in with eight
 * lookups, because the CRC is linear over GF(2): the contribution of each
 * byte can be computed separately and xored. Tables are built once
 * (pthread_once), from the single-byte table by shifting in zero bytes.
 */
#include "crc64.h"

#include <pthread.h>
#include <string.h>

#define POLY UINT64_C(0x95ac9329ac4bc9b5)

static uint64_t tab[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    for (unsigned b = 0; b < 256; b++) {
        uint64_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        tab[0][b] = c;
    }
    for (unsigned b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            tab[k][b] = tab[0][tab[k - 1][b] & 0xff] ^ (tab[k - 1][b] >> 8);
}

uint64_t ember__crc64(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&once, build);
    const unsigned char *s = p;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        crc ^= w;
        crc = tab[7][crc & 0xff] ^ tab[6][(crc >> 8) & 0xff] ^ tab[5][(crc >> 16) & 0xff] ^
              tab[4][(crc >> 24) & 0xff] ^ tab[3][(crc >> 32) & 0xff] ^ tab[2][(crc >> 40) & 0xff] ^
              tab[1][(crc >> 48) & 0xff] ^ tab[0][crc >> 56];
        s += 8;
        n -= 8;
    }
    while (n--)
        crc = tab[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}
