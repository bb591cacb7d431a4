/*
 * lzf.h — decompression of LZF data, the compression RDB files may use for
 * strings (RDB string encoding 0xC3). The input is untrusted: every literal
 * run and back-reference is checked against both buffers. Any thread.
 */
#ifndef EMBER_LZF_H
#define EMBER_LZF_H

#include <stddef.h>
#include <stdint.h>

/* An LZF stream never grows more than this many times on decompression (a
 * 3-byte back-reference yields at most 264 bytes): the loader refuses an
 * announced length beyond it before allocating. */
#define EM_LZF_MAX_RATIO 88

/* Decompresses in[0..in_len) into out, which must come out exactly out_len
 * bytes long. Returns 0, or -1 when the data is malformed or its length is
 * not out_len; *bad (may be NULL) then receives the input offset of the
 * offending control byte (in_len when the input ended early). */
int ember__lzf_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          size_t *bad);

#endif
