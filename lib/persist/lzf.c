/*
 * lzf.c — LZF decompression (the format of liblzf, as RDB files carry it).
 *
 * The stream is a sequence of items, each led by a control byte c:
 *   c < 32     a literal run: the next c + 1 bytes are copied as they are;
 *   c >= 32    a back-reference: length L = c >> 5 (7 means "7 plus the next
 *              byte"), then one more byte o; it copies L + 2 bytes starting
 *              ((c & 31) << 8) + o + 1 bytes behind the output position.
 * A reference may overlap the bytes it produces (a run of one repeated byte),
 * so it copies forwards byte by byte.
 */
#include "lzf.h"

#include <string.h>

int ember__lzf_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          size_t *bad)
{
    size_t ip = 0, op = 0;
    while (ip < in_len) {
        size_t at = ip;
        unsigned c = in[ip++];
        if (c < 32) {
            size_t run = (size_t)c + 1;
            if (run > in_len - ip || run > out_len - op)
                goto fail_at;
            memcpy(out + op, in + ip, run);
            ip += run;
            op += run;
            continue;
        }
        size_t len = c >> 5;
        if (len == 7) {
            if (ip >= in_len)
                goto fail_at;
            len += in[ip++];
        }
        len += 2;
        if (ip >= in_len)
            goto fail_at;
        size_t back = ((size_t)(c & 31) << 8) + in[ip++] + 1;
        if (back > op || len > out_len - op)
            goto fail_at;
        const uint8_t *ref = out + op - back;
        for (size_t i = 0; i < len; i++)
            out[op + i] = ref[i];
        op += len;
        continue;
    fail_at:
        if (bad)
            *bad = at;
        return -1;
    }
    if (op != out_len) {
        if (bad)
            *bad = in_len;
        return -1;
    }
    return 0;
}
